"""The embedded event store against a real Qdrant Edge shard on disk (no mocks)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from egomem.errors import StoreError, StoreLocked
from egomem.memory.events import Event, Place, Quote
from egomem.store.base import EventFilter
from egomem.store.edge import EdgeEventStore
from egomem.types import GeoPoint

REPO = Path(__file__).resolve().parents[1]
TEXT_DIM = 8
IMAGE_DIM = 4
NS = uuid.UUID("0b8f6a38-6c1e-4c53-9a0e-1d2b7f3c4e5a")

UTC = timezone.utc
PLUS1 = timezone(timedelta(hours=1))
PLUS2 = timezone(timedelta(hours=2))
PLUS530 = timezone(timedelta(hours=5, minutes=30))
MINUS5 = timezone(timedelta(hours=-5))

HOME = GeoPoint(51.50722, -0.12750)


def at(y: int, mo: int, d: int, h: int, mi: int = 0, tz: timezone = UTC) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def onehot(i: int, dim: int = TEXT_DIM) -> list[float]:
    v = [0.0] * dim
    v[i] = 1.0
    return v


def event(
    name: str,
    start: datetime,
    end: datetime | None = None,
    *,
    recording: str = "rec-a",
    text: list[float] | None = None,
    **fields,
) -> Event:
    return Event(
        id=str(uuid.uuid5(NS, name)),
        recording_id=recording,
        source=f"/media/{recording}.mp4",
        start=start,
        end=end or start + timedelta(minutes=10),
        text_vector=text or onehot(0),
        **fields,
    )


def offset_north(point: GeoPoint, metres: float) -> GeoPoint:
    return GeoPoint(point.lat + metres / 111_195.0, point.lon)  # one degree of latitude ~ 111.2 km


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "events"


@pytest.fixture
def store(store_path: Path) -> Iterator[EdgeEventStore]:
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:
        yield s


def ids(events) -> list[str]:
    return [getattr(e, "event", e).id for e in events]


def id_set(events) -> set[str]:
    return set(ids(events))


# -- round trip ---------------------------------------------------------------------------------


def full_event() -> Event:
    return Event(
        id=str(uuid.uuid5(NS, "full")),
        recording_id="rec-full",
        source="/media/2024/glasses/VID_0001.mp4",
        start=datetime(2024, 5, 1, 9, 0, 0, 250_000, tzinfo=PLUS530),
        end=datetime(2024, 5, 1, 9, 12, 30, tzinfo=PLUS530),
        place=Place("Lodhi Garden café", GeoPoint(28.593127, 77.219664)),
        people=["obama", "person-3"],
        identity_ids=["id-1", "id-7"],
        quotes=[
            Quote(datetime(2024, 5, 1, 9, 1, 2, 500_000, tzinfo=PLUS530), datetime(2024, 5, 1, 9, 1, 5, tzinfo=PLUS530), "Shall we order chai?", "obama"),
            Quote(datetime(2024, 5, 1, 3, 32, tzinfo=UTC), datetime(2024, 5, 1, 3, 33, tzinfo=UTC), "Two, please.", None),
        ],
        visible_text=["MENU", "Masala chai ₹40"],
        tags=["cafe", "outdoors"],
        caption="Two people order tea at a garden café.",
        keyframes=["rec-full/0001.jpg", "rec-full/0002.jpg"],
        # Unit length and exact in float32: cosine storage normalises, so these come back unchanged.
        text_vector=[0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
        image_vector=[0.0, 0.0, 1.0, 0.0],
    )


def test_full_event_round_trips_exactly_with_its_offsets(store: EdgeEventStore) -> None:
    original = full_event()
    store.upsert([original])

    [back] = store.get([original.id])
    assert back == original
    for field in dataclasses.fields(Event):
        assert getattr(back, field.name) == getattr(original, field.name), field.name
    assert back.start.utcoffset() == timedelta(hours=5, minutes=30)
    assert back.quotes[0].start.utcoffset() == timedelta(hours=5, minutes=30)
    assert back.quotes[1].start.utcoffset() == timedelta(0)
    assert back.day == "2024-05-01"

    assert store.events() == [original]
    [hit] = store.search_text(original.text_vector)
    assert hit.event == original and hit.score == pytest.approx(1.0)


@pytest.mark.parametrize(
    "place",
    [None, Place(), Place(name="Home"), Place(point=HOME), Place(name="", point=HOME)],
    ids=["none", "empty", "name-only", "point-only", "empty-name"],
)
def test_partial_places_round_trip(store: EdgeEventStore, place: Place | None) -> None:
    original = event("p", at(2024, 5, 1, 9), place=place, image_vector=None)
    store.upsert([original])
    assert store.get([original.id]) == [original]


def test_vectors_come_back_unit_length(store: EdgeEventStore) -> None:
    store.upsert([event("v", at(2024, 5, 1, 9), text=[3.0, 4.0] + [0.0] * 6)])
    [back] = store.events()
    assert back.text_vector == pytest.approx([0.6, 0.8] + [0.0] * 6, abs=1e-6)
    assert back.image_vector is None


# -- writes -------------------------------------------------------------------------------------


def test_upserting_the_same_event_twice_keeps_one_point(store: EdgeEventStore) -> None:
    first = event("same", at(2024, 5, 1, 9), caption="first cut")
    store.upsert([first])
    second = dataclasses.replace(first, caption="second cut", end=first.end + timedelta(minutes=5))
    store.upsert([second])
    store.upsert([second])
    assert store.count() == 1
    assert store.get([first.id]) == [second]


def test_delete_recording_removes_only_that_recording(store: EdgeEventStore) -> None:
    a = [event(f"a{i}", at(2024, 5, 1, 9, i), recording="rec-a") for i in range(3)]
    ab = [event(f"ab{i}", at(2024, 5, 1, 10, i), recording="rec-ab") for i in range(2)]  # shares a prefix
    b = [event(f"b{i}", at(2024, 5, 1, 11, i), recording="rec-b") for i in range(2)]
    store.upsert(a + ab + b)
    store.delete_recording("rec-a")
    assert id_set(store.events()) == id_set(ab + b)
    store.delete_recording("rec-unknown")
    assert store.count() == 4


def test_events_must_have_a_text_vector_of_the_right_size_and_aware_times(store: EdgeEventStore) -> None:
    with pytest.raises(StoreError, match="no text vector"):
        store.upsert([dataclasses.replace(event("x", at(2024, 5, 1, 9)), text_vector=None)])
    with pytest.raises(StoreError, match="3 dimensions"):
        store.upsert([event("x", at(2024, 5, 1, 9), text=[1.0, 0.0, 0.0])])
    with pytest.raises(StoreError, match="image vector"):
        store.upsert([event("x", at(2024, 5, 1, 9), image_vector=[1.0])])
    with pytest.raises(StoreError, match="no UTC offset"):
        store.upsert([event("x", datetime(2024, 5, 1, 9))])
    with pytest.raises(StoreError, match="not a UUID"):
        store.upsert([dataclasses.replace(event("x", at(2024, 5, 1, 9)), id="rec-a/0")])
    with pytest.raises(StoreError, match="no UTC offset"):
        store.events(EventFilter(before=datetime(2024, 5, 1, 9)))
    assert store.count() == 0


# -- search -------------------------------------------------------------------------------------


def test_text_search_ranks_the_closest_vector_first(store: EdgeEventStore) -> None:
    e0, e1, e2 = (event(f"t{i}", at(2024, 5, 1, 9, i), text=onehot(i)) for i in range(3))
    store.upsert([e0, e1, e2])
    hits = store.search_text([0.1, 0.9, 0.4, 0, 0, 0, 0, 0])
    assert ids(hits) == ids([e1, e2, e0])
    assert hits[0].score > hits[1].score > hits[2].score
    assert ids(store.search_text(onehot(1), limit=1)) == [e1.id]
    assert ids(store.search_text(onehot(1), EventFilter(recording_id="nope"))) == []


def test_keyword_search_finds_rare_words_in_speech_and_on_screen(store: EdgeEventStore) -> None:
    said = event("said", at(2024, 5, 1, 9), caption="a kitchen", quotes=[Quote(at(2024, 5, 1, 9), at(2024, 5, 1, 9, 1), "Pass me the xylophone, please")])
    seen = event("seen", at(2024, 5, 1, 10), caption="a street with coffee", visible_text=["Departures: Zanzibar 14:35"])
    coffee = [
        event(f"coffee{i}", at(2024, 5, 1, 11, i), caption="coffee with a friend", quotes=[Quote(at(2024, 5, 1, 11, i), at(2024, 5, 1, 11, i + 1), "coffee, more coffee")])
        for i in range(3)
    ]
    store.upsert([said, seen, *coffee])

    assert ids(store.search_keywords("xylophone")) == [said.id]
    assert ids(store.search_keywords("Zanzibar")) == [seen.id]
    assert ids(store.search_keywords("Café")) == []  # folded to "cafe": in none of them
    # IDF: one rare word outweighs a common one repeated three times (plain term frequency would not).
    assert ids(store.search_keywords("coffee xylophone"))[0] == said.id
    assert ids(store.search_keywords("zanzibar", EventFilter(recording_id="nope"))) == []
    assert store.search_keywords("the and") == []  # stopwords only


def test_image_search_never_returns_events_without_an_image_vector(store: EdgeEventStore) -> None:
    with_image = [event(f"img{i}", at(2024, 5, 1, 9, i), image_vector=onehot(i, IMAGE_DIM)) for i in range(2)]
    without = [event(f"noimg{i}", at(2024, 5, 1, 10, i)) for i in range(5)]
    store.upsert(with_image + without)
    hits = store.search_image([0.0, 1.0, 0.0, 0.0], limit=10)
    assert ids(hits) == ids([with_image[1], with_image[0]])
    assert all(h.event.image_vector is not None for h in hits)


# -- filters ------------------------------------------------------------------------------------


def test_before_is_exclusive_and_compares_instants_across_offsets(store: EdgeEventStore) -> None:
    # The strings sort differently from the instants: "09:00+01:00" > "08:30+00:00" as text.
    nine_plus_one = event("a", at(2024, 5, 1, 9, 0, PLUS1))  # 08:00Z
    exactly = event("b", at(2024, 5, 1, 8, 30, UTC))  # 08:30Z: not before 08:30Z
    later_west = event("c", at(2024, 5, 1, 3, 45, MINUS5))  # 08:45Z, yet "03:45" sorts first as text
    store.upsert([nine_plus_one, exactly, later_west])

    cutoff = at(2024, 5, 1, 8, 30, UTC)
    assert id_set(store.events(EventFilter(before=cutoff))) == {nine_plus_one.id}
    assert id_set(store.events(EventFilter(before=cutoff.astimezone(PLUS530)))) == {nine_plus_one.id}
    assert id_set(store.events(EventFilter(before=cutoff + timedelta(microseconds=1)))) == {nine_plus_one.id, exactly.id}
    assert store.count(EventFilter(before=at(2024, 5, 1, 9, 0, UTC))) == 3


def test_after_applies_to_the_end_inclusively(store: EdgeEventStore) -> None:
    ends_exactly = event("exact", at(2024, 5, 1, 10, 0, PLUS2), at(2024, 5, 1, 11, 0, PLUS2))  # ends 09:00Z
    spans = event("spans", at(2024, 5, 1, 8, 0, UTC), at(2024, 5, 1, 9, 30, UTC))  # starts before, ends after
    ended = event("ended", at(2024, 5, 1, 3, 0, MINUS5), at(2024, 5, 1, 3, 59, MINUS5))  # ends 08:59Z
    store.upsert([ends_exactly, spans, ended])
    assert id_set(store.events(EventFilter(after=at(2024, 5, 1, 9, 0, UTC)))) == {ends_exactly.id, spans.id}
    window = EventFilter(after=at(2024, 5, 1, 9, 0, UTC), before=at(2024, 5, 1, 10, 0, PLUS2))  # before = 08:00Z
    assert id_set(store.events(window)) == set()


def test_days_are_local_days_any_of(store: EdgeEventStore) -> None:
    late_local = event("late", at(2024, 5, 1, 23, 30, MINUS5))  # already May 2 in UTC
    may2 = event("may2", at(2024, 5, 2, 12, 0, UTC))
    may3 = event("may3", at(2024, 5, 3, 0, 30, PLUS2))  # still May 2 in UTC
    store.upsert([late_local, may2, may3])
    assert id_set(store.events(EventFilter(days=["2024-05-01"]))) == {late_local.id}
    assert id_set(store.events(EventFilter(days=["2024-05-01", "2024-05-03"]))) == {late_local.id, may3.id}
    assert store.events(EventFilter(days=[])) == []


def test_people_any_of(store: EdgeEventStore) -> None:
    ann = event("ann", at(2024, 5, 1, 9), people=["ann"])
    bob_cy = event("bobcy", at(2024, 5, 1, 10), people=["bob", "cy"])
    alone = event("alone", at(2024, 5, 1, 11))
    store.upsert([ann, bob_cy, alone])
    assert id_set(store.events(EventFilter(people=["cy", "zed"]))) == {bob_cy.id}
    assert id_set(store.events(EventFilter(people=["ann", "bob"]))) == {ann.id, bob_cy.id}
    assert store.events(EventFilter(people=["an"])) == []


def test_place_name_is_exact(store: EdgeEventStore) -> None:
    home = event("home", at(2024, 5, 1, 9), place=Place("Home", HOME))
    office = event("office", at(2024, 5, 1, 10), place=Place("Home Office"))
    nowhere = event("nowhere", at(2024, 5, 1, 11))
    store.upsert([home, office, nowhere])
    assert id_set(store.events(EventFilter(place_name="Home"))) == {home.id}
    assert store.events(EventFilter(place_name="home")) == []


def test_near_filters_by_radius_in_metres(store: EdgeEventStore) -> None:
    here = event("here", at(2024, 5, 1, 9), place=Place(point=HOME))
    close = event("close", at(2024, 5, 1, 10), place=Place("Corner shop", offset_north(HOME, 150)))
    farther = event("farther", at(2024, 5, 1, 11), place=Place(point=offset_north(HOME, 400)))
    named_only = event("named", at(2024, 5, 1, 12), place=Place("Home"))
    store.upsert([here, close, farther, named_only])
    assert id_set(store.events(EventFilter(near=HOME))) == {here.id, close.id}  # default 200 m
    assert id_set(store.events(EventFilter(near=HOME, radius_m=100))) == {here.id}
    assert id_set(store.events(EventFilter(near=HOME, radius_m=500))) == {here.id, close.id, farther.id}


def test_recording_id_is_exact_and_filters_combine(store: EdgeEventStore) -> None:
    a1 = event("a1", at(2024, 5, 1, 9), recording="rec-a", people=["ann"])
    a2 = event("a2", at(2024, 5, 2, 9), recording="rec-a")
    ab = event("ab", at(2024, 5, 1, 9, 30), recording="rec-ab", people=["ann"])
    store.upsert([a1, a2, ab])
    assert id_set(store.events(EventFilter(recording_id="rec-a"))) == {a1.id, a2.id}
    both = EventFilter(recording_id="rec-a", people=["ann"], days=["2024-05-01"])
    assert id_set(store.events(both)) == {a1.id}
    assert store.count(both) == 1
    assert ids(store.search_text(onehot(0), both)) == [a1.id]


def test_events_are_oldest_first_by_instant(store: EdgeEventStore) -> None:
    first = event("1", at(2024, 5, 1, 3, 0, MINUS5))  # 08:00Z
    second = event("2", at(2024, 5, 1, 9, 30, PLUS1))  # 08:30Z
    third = event("3", at(2024, 5, 1, 8, 45, UTC))
    fourth = event("4", at(2024, 5, 1, 14, 30, PLUS530))  # 09:00Z
    previous_day = event("0", at(2024, 4, 30, 23, 0, UTC))
    store.upsert([third, fourth, first, previous_day, second])
    assert ids(store.events()) == ids([previous_day, first, second, third, fourth])
    assert ids(store.events(limit=2)) == ids([previous_day, first])
    assert ids(store.events(EventFilter(days=["2024-05-01"]), limit=3)) == ids([first, second, third])
    assert store.events(limit=0) == []


def test_get_skips_unknown_ids_and_keeps_the_order_asked(store: EdgeEventStore) -> None:
    a, b = event("a", at(2024, 5, 1, 9)), event("b", at(2024, 5, 1, 10))
    store.upsert([a, b])
    assert ids(store.get([b.id, str(uuid.uuid4()), "not-a-uuid", a.id, b.id])) == [b.id, a.id]
    assert store.get([]) == []


def test_stats(store: EdgeEventStore) -> None:
    empty = store.stats()
    assert (empty["events"], empty["recordings"], empty["days"], empty["first_start"]) == (0, 0, 0, None)
    store.upsert([
        event("s1", at(2024, 5, 1, 23, 0, MINUS5), recording="r1"),
        event("s2", at(2024, 5, 2, 9, 0, PLUS1), recording="r1"),
        event("s3", at(2024, 5, 2, 10, 0, UTC), recording="r2"),
    ])
    stats = store.stats()
    assert stats["events"] == 3 and stats["recordings"] == 2 and stats["days"] == 2
    assert stats["first_start"] == "2024-05-01T23:00:00-05:00"
    assert stats["last_start"] == "2024-05-02T10:00:00+00:00"
    assert stats["disk_bytes"] > 0


# -- lifecycle ----------------------------------------------------------------------------------


def test_data_and_indexes_survive_close_and_reopen(store_path: Path) -> None:
    events = [event(f"keep{i}", at(2024, 5, 1, 9, i, PLUS1), people=["ann"] if i % 2 else [], text=onehot(i)) for i in range(4)]
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:
        s.upsert(events)
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:
        assert s.events() == events
        assert id_set(s.events(EventFilter(people=["ann"], before=at(2024, 5, 1, 8, 3, UTC)))) == {events[1].id}
        assert ids(s.search_text(onehot(2), limit=1)) == [events[2].id]
        assert set(s.shard.info().payload_schema) >= {"start", "end", "day", "people", "place_name", "location", "recording_id"}


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=120)


def test_a_killed_writer_loses_nothing_and_frees_the_lock(store_path: Path) -> None:
    """The child writes without close and dies by SIGKILL: the WAL (and flush) keep the data."""
    done = _run_python(f"""
        import os, signal, uuid
        from datetime import datetime, timezone
        from egomem.memory.events import Event
        from egomem.store.edge import EdgeEventStore
        s = EdgeEventStore({str(store_path)!r}, text_dim={TEXT_DIM}, image_dim={IMAGE_DIM})
        s.upsert([Event(id=str(uuid.UUID(int=i + 1)), recording_id="r", source="x", start=datetime(2024, 5, 1, 9, i, tzinfo=timezone.utc),
                        end=datetime(2024, 5, 1, 9, i + 1, tzinfo=timezone.utc), text_vector=[1.0] + [0.0] * {TEXT_DIM - 1}) for i in range(20)])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert done.returncode == -9, done.stderr
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:
        assert s.count() == 20
        assert s.events()[0].start == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def test_a_second_open_in_this_process_is_refused(store: EdgeEventStore, store_path: Path) -> None:
    with pytest.raises(StoreLocked) as err:
        EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM)
    assert str(store_path) in str(err.value) and f"pid {os.getpid()}" in str(err.value)
    store.upsert([event("still", at(2024, 5, 1, 9))])  # the refused open did not disturb the holder
    assert store.count() == 1


def test_a_second_open_from_another_process_is_refused(store: EdgeEventStore, store_path: Path) -> None:
    tried = _run_python(f"""
        import sys
        from egomem.errors import StoreLocked
        from egomem.store.edge import EdgeEventStore
        try:
            EdgeEventStore({str(store_path)!r}, text_dim={TEXT_DIM}, image_dim={IMAGE_DIM})
        except StoreLocked as exc:
            print(exc)
            sys.exit(3)
    """)
    assert tried.returncode == 3, tried.stderr
    assert str(store_path) in tried.stdout and f"pid {os.getpid()}" in tried.stdout


def test_close_releases_the_lock_and_is_idempotent(store_path: Path) -> None:
    first = EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM)
    first.close()
    first.close()
    with pytest.raises(StoreError, match="closed"):
        first.count()
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as second:
        assert second.count() == 0


def test_a_dimension_mismatch_is_an_error_not_a_silent_mismatch(store_path: Path) -> None:
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:
        s.upsert([event("dim", at(2024, 5, 1, 9))])
    with pytest.raises(StoreError, match=r"8-d text .* 16-d"):
        EdgeEventStore(store_path, text_dim=16, image_dim=IMAGE_DIM)
    with pytest.raises(StoreError, match=r"4-d image .* 5-d"):
        EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=5)
    with EdgeEventStore(store_path, text_dim=TEXT_DIM, image_dim=IMAGE_DIM) as s:  # lock released, data intact
        assert s.count() == 1


def test_default_dimensions_fit_the_real_embedders(tmp_path: Path) -> None:
    with EdgeEventStore(tmp_path / "default") as s:
        e = event("default", at(2024, 5, 1, 9), text=onehot(383, 384), image_vector=onehot(511, 512))
        s.upsert([e])
        assert ids(s.search_image(onehot(511, 512))) == [e.id]
