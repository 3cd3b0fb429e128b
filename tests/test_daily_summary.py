"""The daily summary job against a real Qdrant Edge store, real text vectors and real JPEG keyframes."""

from __future__ import annotations

import argparse
import base64
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from egomem.config import Settings
from egomem.errors import EgomemError
from egomem.memory.events import Event, Place, Quote
from egomem.memory.facts import read_sentence, split_sentences
from egomem.store.base import EventFilter
from egomem.store.edge import EdgeEventStore
from egomem.types import GeoPoint
from pipelines.daily_summary import (
    SUMMARY_RECORDING,
    attribute,
    fact_label,
    create_summary_router,
    register,
    run_summarize_day,
    summary_event_id,
)
from tests.serving import serving

NS = uuid.UUID("6f2b9c1e-3d4a-4b5c-8e7f-0a1b2c3d4e5f")
TZ_NAME = "America/New_York"  # UTC-5 on these days: 23:30 local is already the next UTC day
TZ = ZoneInfo(TZ_NAME)
DAY = date(2026, 3, 3)
UTC = timezone.utc


def local(h: int, m: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=TZ)


def ev(name: str, start: datetime, end: datetime, place: str | None, **fields) -> Event:
    return Event(
        id=str(uuid.uuid5(NS, name)), recording_id=f"rec-{name}", source=f"/media/{name}.mp4", start=start, end=end,
        place=Place(place, GeoPoint(40.7, -74.0)) if place else None, **fields,
    )  # fmt: skip


def q(at: datetime, text: str, speaker: str | None = None) -> Quote:
    return Quote(at, at + timedelta(seconds=4), text, speaker)


def the_day() -> list[Event]:
    """Events of DAY, and of the days around it that must stay out of its summary."""
    return [
        ev("breakfast", local(7, 30), local(7, 40), "home", people=["alice"], caption="Breakfast in the kitchen", keyframes=["rec-home/000001000.jpg"],
           quotes=[q(local(7, 31), "Good morning. Could you buy oat milk on your way home?"), q(local(7, 33), "Sure, I will buy oat milk.")]),
        ev("packing", local(7, 41), local(7, 50), "home", caption="Packing a bag for work", keyframes=["rec-home/000600000.jpg"]),
        ev("lunch", local(12, 10), local(12, 40), "Corner Café", people=["bob", "person-3"], caption="Lunch with bob", keyframes=["rec-cafe/000002000.jpg"],
           quotes=[q(local(12, 12), "Let's meet at the cafe on Friday.", "bob"),
                   q(local(12, 20), "The sign said <script>alert('boo')</script> in big letters.")]),
        ev("walk", local(15, 0), local(15, 5), None, caption="A walk with no position"),
        ev("market", local(17, 0), local(17, 20), "Greenfield Market", people=["carol"], keyframes=["rec-market/000003000.jpg"],
           quotes=[q(local(17, 5), "Remember to call grandma today.", "carol")]),
        # 23:30 local on DAY, stored in UTC: its own-offset day is the 4th, its local day is DAY.
        ev("bedtime", datetime(2026, 3, 4, 4, 30, tzinfo=UTC), datetime(2026, 3, 4, 4, 45, tzinfo=UTC), "home", people=["alice"],
           caption="Reading before sleep", quotes=[q(datetime(2026, 3, 4, 4, 31, tzinfo=UTC), "Goodnight, see you tomorrow morning.")]),
        # 23:30 local the day before, stored in UTC: its own-offset day is DAY, its local day is not.
        ev("club", datetime(2026, 3, 3, 4, 30, tzinfo=UTC), datetime(2026, 3, 3, 4, 50, tzinfo=UTC), "Night Club", people=["dave"],
           caption="Dancing", quotes=[q(datetime(2026, 3, 3, 4, 35, tzinfo=UTC), "Could you call a taxi for me?")]),
        ev("dentist", local(9, 0, DAY + timedelta(days=1)), local(9, 30, DAY + timedelta(days=1)), "Dentist", people=["erin"],
           caption="Check-up", quotes=[q(local(9, 5, DAY + timedelta(days=1)), "Don't forget your appointment card.")]),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def events(models) -> list[Event]:
    found = the_day()
    vectors = models.text_embedder.embed([e.document for e in found])
    for e, v in zip(found, vectors):
        e.text_vector = v.tolist()
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_keyframes(thumbnails: Path, events: list[Event]) -> None:
    for i, e in enumerate(events):
        for name in e.keyframes:
            path = thumbnails / name
            path.parent.mkdir(parents=True, exist_ok=True)
            size = (360, 640) if "cafe" in name else (90, 160)  # one wider than the HTML width: re-encoded
            image = np.full((*size, 3), (40 * i % 255, 120, 200), np.uint8)
            cv2.putText(image, e.caption[:12], (5, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
            assert cv2.imwrite(str(path), image)


def make_memory(home: Path, events: list[Event], tz_name: str = TZ_NAME) -> Settings:
    # A free port: nothing answers there, so the job opens the store itself unless a test serves it.
    settings = Settings.load(env={}, home=home, timezone=tz_name, port=free_port())
    write_keyframes(settings.thumbnails_dir, events)
    with EdgeEventStore(settings.store_dir) as store:
        store.upsert(events)
    return settings


@pytest.fixture
def memory(tmp_path: Path, events: list[Event]) -> Settings:
    return make_memory(tmp_path / "home", events)


def section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no section {title!r} in:\n{markdown}"
    return match.group(1)


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, f"{needle!r} not in:\n{text}"
    return lines[0]


# -- extraction, table-driven ---------------------------------------------------------------------


def find_open_items(text: str) -> list[tuple[str, str]]:
    """(label, sentence) of each fact the shared extractor (egomem/memory/facts.py) reads in `text`."""
    at = datetime(2026, 3, 3, 9, 0, tzinfo=TZ)
    return [(fact_label(f), f.text) for s in split_sentences(text) if (f := read_sentence(s, at))]



@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Good morning. Could you buy oat milk on your way home?", [("request", "Could you buy oat milk on your way home?")]),
        ("Can you please pick up the kids at five?", [("request", "Can you please pick up the kids at five?")]),
        ("Would you send me the slides?", [("request", "Would you send me the slides?")]),
        ("Hey there. Please bring the charger tomorrow.", [("request", "Please bring the charger tomorrow.")]),
        ("I need you to sign the form.", [("request", "I need you to sign the form.")]),
        ("Remember to call grandma today.", [("reminder", "Remember to call grandma today.")]),
        ("Don\u2019t forget the keys!", [("reminder", "Don't forget the keys!")]),
        ("Hello again. Let's meet at Cafe Lumiere on Friday.", [("plan", "Let's meet at Cafe Lumiere on Friday.")]),
        ("Let's go to the park", [("plan", "Let's go to the park")]),
        ("We should have dinner at Luigi's on Saturday.", [("plan", "We should have dinner at Luigi's on Saturday.")]),
        ("OK, I'll bring the umbrella.", [("promise", "OK, I'll bring the umbrella.")]),
        ("Sure, I will buy oat milk. Could you text me the list?",
         [("promise", "Sure, I will buy oat milk."), ("request", "Could you text me the list?")]),
        ("Right, I will.", []),
        ("I will not go.", []),
        ("Hello, what can I get you?", []),
        ("Cabbage, milk and eggs, please.", []),
        ("Can you believe it?", []),
        ("We should really.", []),
        ("Great, see you there on Friday.", []),
        ("", []),
    ],
)  # fmt: skip
def test_find_open_items(text: str, expected: list[tuple[str, str]]) -> None:
    assert find_open_items(text) == expected


@pytest.mark.parametrize(
    ("kind", "speaker", "present", "expected"),
    [
        ("request", None, ["alice"], "asked by alice (present)"),
        ("request", "bob", ["alice"], "asked by bob"),
        ("request", None, ["alice", "person-2"], "asked by alice or someone unrecognised (person-2) (present)"),
        ("request", None, [], "asked by someone (speaker unknown)"),
        ("plan", "me", ["alice"], "proposed by you"),
        ("reminder", "carol", [], "reminded by carol"),
        ("commitment", None, ["alice"], "promised by you or alice (present)"),
        ("commitment", None, [], "promised by you"),
    ],
)
def test_attribution(kind: str, speaker: str | None, present: list[str], expected: str) -> None:
    assert attribute(kind, speaker, present) == expected


# -- the job --------------------------------------------------------------------------------------


def test_markdown_tells_the_day_in_the_configured_timezone(memory: Settings, models) -> None:
    path = run_summarize_day(memory, DAY, models=models)
    assert path == memory.home / "summaries" / "2026-03-03.md"
    md = path.read_text()
    assert md.startswith("# Tuesday 3 March 2026\n") and "America/New\\_York" not in md and "America/New_York" in md

    where = section(md, "Where you went")
    assert re.findall(r"\*\*(.+?)\*\*", where) == ["home", "Corner Café", "Greenfield Market", "home"]
    assert "07:30–07:50 **home**" in where and "23:30–23:45 **home**" in where

    who = section(md, "Who you saw")
    assert "**alice**: 07:30–23:45, 2 moments" in who
    assert "**bob**: 12:10–12:40, 1 moment" in who and "**carol**" in who
    assert "- someone unrecognised (person-3): 12:10–12:40" in who and "**person-3**" not in who

    tasks = section(md, "Requests and plans")
    assert "asked by alice (present)" in line_with(tasks, "Could you buy oat milk on your way home?")
    assert "proposed by bob" in line_with(tasks, "Let's meet at the cafe on Friday")
    assert "reminded by carol" in line_with(tasks, "Remember to call grandma today.")
    assert "promised by you or alice (present)" in line_with(tasks, "I will buy oat milk")

    did = section(md, "What you did")
    assert "](../thumbnails/rec-home/000001000.jpg)" in did and "](../thumbnails/rec-cafe/000002000.jpg)" in did
    assert "Breakfast in the kitchen" in did and "A walk with no position" in did and "Reading before sleep" in did
    assert "\\<script\\>" in section(md, "What you heard") and "<script>" not in md

    for elsewhere in ("Night Club", "dave", "taxi", "Dentist", "erin", "appointment"):
        assert elsewhere not in md, f"{elsewhere!r} belongs to another day"


def test_html_is_self_contained_and_escaped(memory: Settings, models) -> None:
    page = run_summarize_day(memory, DAY, models=models).with_suffix(".html").read_text()
    images = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4
    widths = [cv2.imdecode(np.frombuffer(base64.b64decode(b), np.uint8), cv2.IMREAD_COLOR).shape[1] for b in images]
    assert max(widths) == 320  # the 640-px keyframe was shrunk
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;boo&#x27;)&lt;/script&gt;" in page
    assert "Could you buy oat milk on your way home?" in page and "thumbnails/" not in page


def test_rerunning_replaces_the_files_and_the_day_event(memory: Settings, events: list[Event], models) -> None:
    first = run_summarize_day(memory, DAY, models=models)
    md, page = first.read_text(), first.with_suffix(".html").read_text()
    first.write_text("stale")
    second = run_summarize_day(memory, DAY, models=models)
    assert second == first and second.read_text() == md and second.with_suffix(".html").read_text() == page
    assert sorted(p.name for p in first.parent.iterdir()) == ["2026-03-03.html", "2026-03-03.md"]  # no temp files left

    with EdgeEventStore(memory.store_dir) as store:
        assert store.count(EventFilter(recording_id=SUMMARY_RECORDING)) == 1
        assert store.count() == len(events) + 1
        (day_event,) = store.get([summary_event_id(DAY)])
    assert day_event.source == "summaries/2026-03-03.md" and day_event.tags == ["day-summary"] and day_event.place is None
    assert day_event.start == events[0].start and day_event.end == events[5].end
    assert "oat milk" in day_event.caption and "Corner Café" in day_event.caption
    assert day_event.text_vector is not None and len(day_event.text_vector) == 384


def test_a_day_without_memories_is_an_error(memory: Settings, tmp_path: Path) -> None:
    with pytest.raises(EgomemError, match="no memories on 2026-03-10"):
        run_summarize_day(memory, date(2026, 3, 10))
    empty = Settings.load(env={}, home=tmp_path / "empty", timezone=TZ_NAME, port=free_port())
    with pytest.raises(EgomemError, match="no memories on 2026-03-03"):
        run_summarize_day(empty, DAY)
    assert not (memory.home / "summaries" / "2026-03-10.md").exists()


def test_a_locked_store_without_a_service_is_an_error(memory: Settings) -> None:
    with EdgeEventStore(memory.store_dir):
        with pytest.raises(EgomemError, match=r"locked.*pid \d+.*retry"):
            run_summarize_day(memory, DAY)
    assert not (memory.home / "summaries" / "2026-03-03.md").exists()


def test_the_command_prints_what_it_wrote(memory: Settings, models, capsys: pytest.CaptureFixture[str]) -> None:
    from egomem.runtime import Runtime

    parser = argparse.ArgumentParser(prog="egomem")
    register(parser.add_subparsers())
    args = parser.parse_args(["summarize-day", "--date", "2026-03-03"])
    with Runtime(memory, models) as rt:
        assert args.handler(rt, args) == 0
        assert "store" not in rt.__dict__  # the runtime's store was never opened by the command
    out = capsys.readouterr().out.splitlines()
    folder = memory.home / "summaries"
    assert out == [f"wrote {folder / '2026-03-03.md'}", f"wrote {folder / '2026-03-03.html'}"]
    with pytest.raises(SystemExit):
        parser.parse_args(["summarize-day", "--date", "yesterday"])


@pytest.fixture
def service(memory: Settings, models, request: pytest.FixtureRequest) -> Iterator[tuple[Settings, EdgeEventStore]]:
    """A real service on loopback holding the store, like `egomem serve` (with a login when parametrized)."""
    from fastapi import FastAPI

    from app.auth import install_auth
    from egomem.runtime import Runtime

    memory = memory.replace(auth=getattr(request, "param", None))
    rt = Runtime(memory, models)
    # Opened here rather than through rt.store, which would load CLIP only to learn its vector size.
    rt.__dict__["store"] = store = EdgeEventStore(memory.store_dir)
    app = FastAPI()
    app.get("/healthz")(lambda: {"ok": True})
    app.include_router(create_summary_router(rt, threading.Lock()))
    install_auth(app, memory, env={})
    try:
        with serving(app, port=memory.port):  # the port the job looks for the service on
            yield memory, store
    finally:
        rt.close()


def test_with_the_service_running_the_job_goes_through_it(service: tuple[Settings, EdgeEventStore], tmp_path: Path) -> None:
    settings, store = service
    path = run_summarize_day(settings, DAY)  # the store is locked by the service: only HTTP can work
    assert path == settings.home / "summaries" / "2026-03-03.md" and path.with_suffix(".html").is_file()
    assert "Could you buy oat milk on your way home?" in path.read_text()
    assert store.count(EventFilter(recording_id=SUMMARY_RECORDING)) == 1

    with pytest.raises(EgomemError, match="no memories on 2026-03-10"):
        run_summarize_day(settings, date(2026, 3, 10))
    # The service serves another memory: this one is not held by it, so the job opens its own store.
    other = Settings.load(env={}, home=tmp_path / "other", timezone=TZ_NAME, port=settings.port)
    with pytest.raises(EgomemError, match=r"no memories on 2026-03-03 \(nothing has been ingested"):
        run_summarize_day(other, DAY)


@pytest.mark.parametrize("service", ["me:s3cret"], indirect=True)
def test_a_service_with_a_login_is_called_with_it(service: tuple[Settings, EdgeEventStore]) -> None:
    settings, store = service
    with pytest.raises(EgomemError, match="HTTP 401|login required"):
        run_summarize_day(settings.replace(auth="me:wrong"), DAY)
    path = run_summarize_day(settings, DAY)  # the job reads the same login the service was given
    assert path.read_text().count("oat milk") >= 1
    assert store.count(EventFilter(recording_id=SUMMARY_RECORDING)) == 1


# -- a generated life -----------------------------------------------------------------------------


def test_a_generated_life_day_lists_its_requests_and_plans(shared_data: Path, models, tmp_path: Path) -> None:
    from pipelines import lifegen

    faces, stranger = lifegen.discover_faces(shared_data / "faces")
    life = lifegen.plan_life(faces, stranger, seed=11, days=2)
    unnamed = {lifegen.STRANGER: "person-1"}  # nobody enrolled the cashier
    life_events = [
        Event(
            id=str(uuid.uuid5(NS, rec.file)), recording_id=rec.file, source=rec.file, start=rec.start, end=rec.end,
            place=Place(rec.place.name, GeoPoint(rec.place.lat, rec.place.lon)),
            people=[unnamed.get(p, p) for p in rec.people],
            quotes=[Quote(line.start, line.end, line.text) for line in rec.lines],  # no diarisation: speakers unknown
            visible_text=[rec.sign_text], caption=f"At {rec.place.name}",
        )  # fmt: skip
        for rec in life.videos
    ]
    for e, v in zip(life_events, models.text_embedder.embed([e.document for e in life_events])):
        e.text_vector = v.tolist()
    first_day = life.start_date
    settings = make_memory(tmp_path / "life", life_events, "Europe/Paris")  # the life's +01:00 in March

    md = run_summarize_day(settings, first_day, models=models).read_text()
    day1 = [r for r in life.videos if r.day == 1]
    places = [r.place.name for i, r in enumerate(day1) if i == 0 or day1[i - 1].place.name != r.place.name]
    assert re.findall(r"\*\*(.+?)\*\*", section(md, "Where you went")) == places
    who = section(md, "Who you saw")
    for name in {p for r in day1 for p in r.people if p != lifegen.STRANGER}:
        assert f"**{name}**" in who
    if any(lifegen.STRANGER in r.people for r in day1):
        assert "someone unrecognised (person-1)" in who

    # What each task sounded like is read off the world, so the test follows lifegen's wording.
    tasks = section(md, "Requests and plans")
    kinds = {"buy": "request", "bring": "request", "call": "reminder", "plan": "plan"}
    videos = {r.file: r for r in life.videos}
    for task in life.tasks:
        rec = videos[task.recording]
        said = next(line.text for line in rec.lines if line.speaker == task.person and task.what.lower() in line.text.lower())
        sentence = next(s for _, s in find_open_items(said) if task.what.lower() in s.lower())
        if rec.day == 1:
            item = line_with(tasks, sentence)
            assert f"{kinds[task.kind]}:" in item and f"by {task.person}" in item and "(present)" in item
        else:
            assert sentence not in md, f"{sentence!r} was heard on another day"
