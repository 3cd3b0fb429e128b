"""People over time on real photos: unnamed clustering, face crops, naming, merging and forgetting,
with the event store relabelled to match (real Qdrant Edge shards, real face and text models)."""

from __future__ import annotations

import argparse
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote
from egomem.people import (
    add_people_commands,
    describe_people,
    enroll_photos,
    face_crop,
    forget_command,
    forget_identity,
    merge_command,
    merge_identities,
    name_command,
    name_identity,
    read_photo,
    show_command,
)
from egomem.perception.records import Box
from egomem.store.base import EventFilter
from egomem.store.edge import EdgeEventStore
from egomem.store.identities import CLUSTER_DISTANCE, CROP_SIDE, IdentityError, IdentityIndex, NameTaken, UnknownIdentity

NS = uuid.UUID("5d0c0e55-2f7e-4a43-8f61-1b7a3c9d2e40")
TZ = timezone(timedelta(hours=2))
CAFE = Place("Corner Café")
Face = tuple[Box, np.ndarray, np.ndarray]  # box, descriptor, crop


@pytest.fixture(scope="module")
def face(models, shared_data: Path) -> Callable[[str], Face]:
    """The largest face of a photo under shared/data/faces, analysed once per module."""
    cache: dict[str, Face] = {}

    def get(relative: str) -> Face:
        if relative not in cache:
            image = read_photo(shared_data / "faces" / relative)
            found = models.faces.analyze(image)
            assert found, f"no face in {relative}"
            box, descriptor = max(found, key=lambda f: (f[0].right - f[0].left) * (f[0].bottom - f[0].top))
            cache[relative] = (box, descriptor, face_crop(image, box))
        return cache[relative]

    return get


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IdentityIndex]:
    idx = IdentityIndex(tmp_path / "identities")
    yield idx
    idx.close()


def event(key: str, hour: int, people: list[str], ids: list[str], said: str) -> Event:
    start = datetime(2024, 5, 6, hour, 0, tzinfo=TZ)
    quotes = [Quote(start, start + timedelta(seconds=5), said)]
    return Event(
        id=str(uuid.uuid5(NS, key)),
        recording_id=f"rec-{key}",
        source=f"/media/{key}.mp4",
        start=start,
        end=start + timedelta(minutes=10),
        place=CAFE,
        people=people,
        identity_ids=ids,
        quotes=quotes,
        caption=compose_caption(CAFE, people, [], quotes, []),
    )


def embedded(models, events: list[Event]) -> list[Event]:
    vectors = models.text_embedder.embed([e.document for e in events])
    for e, v in zip(events, vectors):
        e.text_vector = v.tolist()
    return events


def by_key(store: EdgeEventStore, *keys: str) -> list[Event]:
    return store.get([str(uuid.uuid5(NS, k)) for k in keys])


# -- clustering -----------------------------------------------------------------------------------


def test_the_clustering_threshold_separates_the_shared_photos(face) -> None:
    """The documented measurement: same person below the unnamed threshold, different people above it."""
    photos = {
        "obama": ["train/obama/obama.jpg", "train/obama/obama2.jpg", "test/obama1.jpg"],
        "biden": ["train/biden/biden.jpg", "train/biden/biden2.jpg"],
        "kit_harington": ["train/kit_harington/john1.jpeg", "train/kit_harington/john2.jpeg", "test/johnsnow_test1.jpg"],
        "rose_leslie": ["train/rose_leslie/img1.jpg", "train/rose_leslie/img2.jpg"],
        "alex_lacamoire": ["train/alex_lacamoire/img1.jpg", "test/alex_lacamoire1.jpg"],
        "lin": ["lin-manuel-miranda.png"],
    }
    samples = [(who, face(p)[1]) for who, paths in photos.items() for p in paths]
    same, different = [], []
    for (a, x), (b, y) in itertools.combinations(samples, 2):
        (same if a == b else different).append(float(np.linalg.norm(x - y)))
    assert max(same) < CLUSTER_DISTANCE < 0.6 < min(different)


def test_two_photos_of_one_person_join_one_unnamed_identity(index: IdentityIndex, face) -> None:
    first = index.identify(face("train/obama/obama.jpg")[1])
    second = index.identify(face("train/obama/obama2.jpg")[1])
    assert first.is_new and first.name is None and first.identity_id == "person-1"
    assert not second.is_new and second.identity_id == first.identity_id
    assert 0 < second.distance <= index.cluster_distance
    assert [(i.id, i.name, i.exemplars, i.source) for i in index.identities()] == [("person-1", None, 2, "observed")]


def test_different_people_stay_apart_and_a_third_gets_a_new_id(index: IdentityIndex, face) -> None:
    obama = index.identify(face("train/obama/obama.jpg")[1])
    biden = index.identify(face("train/biden/biden.jpg")[1])
    stranger = index.identify(face("lin-manuel-miranda.png")[1])
    assert obama.is_new and biden.is_new and stranger.is_new
    assert len({obama.identity_id, biden.identity_id, stranger.identity_id}) == 3
    # ...and each one is recognised again from another photo, across a reopen.
    path = index.path
    index.close()
    with IdentityIndex(path) as again:
        assert again.identify(face("test/obama1.jpg")[1]).identity_id == obama.identity_id
        assert again.identify(face("train/biden/biden2.jpg")[1]).identity_id == biden.identity_id


def test_an_unnamed_cluster_is_stricter_than_a_named_identity(tmp_path: Path, face) -> None:
    descriptor = face("train/obama/obama.jpg")[1].astype(np.float32)
    direction = np.zeros(128, np.float32)
    direction[0] = 1.0
    near = descriptor + 0.58 * direction  # between the unnamed (0.55) and named (0.6) thresholds
    with IdentityIndex(tmp_path / "unnamed") as index:
        index.identify(descriptor)
        assert index.identify(near).is_new
    with IdentityIndex(tmp_path / "named") as index:
        index.enroll("Barack", [descriptor])
        assert index.identify(near).name == "Barack"


# -- crops ----------------------------------------------------------------------------------------


def test_crops_follow_new_exemplars_and_are_capped(tmp_path: Path, face) -> None:
    with IdentityIndex(tmp_path / "identities", max_crops=2) as index:
        box, descriptor, crop = face("train/obama/obama.jpg")
        first = index.identify(descriptor, crop)
        crops = index.crops(first.identity_id)
        assert [p.name for p in crops] == ["0001.jpg"]
        assert crops[0].parent == tmp_path / "identities" / "crops" / first.identity_id
        image = cv2.imread(str(crops[0]))
        assert image is not None and max(image.shape[:2]) <= CROP_SIDE and image.shape[2] == 3

        index.identify(descriptor, crop)  # the same face again: no new exemplar, so no new crop
        assert len(index.crops(first.identity_id)) == 1
        for photo in ("train/obama/obama2.jpg", "test/obama1.jpg"):
            assert index.identify(face(photo)[1], face(photo)[2]).identity_id == first.identity_id
        assert index.get(first.identity_id).exemplars == 3
        assert [p.name for p in index.crops(first.identity_id)] == ["0001.jpg", "0002.jpg"]  # capped at max_crops

        without = index.identify(face("train/biden/biden.jpg")[1])  # no crop given: none stored
        assert index.crops(without.identity_id) == []
        assert index.crops("nobody") == []


def test_enrolment_keeps_crops_of_its_photos(index: IdentityIndex, models, shared_data: Path) -> None:
    photos = sorted((shared_data / "faces" / "train" / "obama").iterdir())
    result = enroll_photos(models.faces, index, "Barack Obama", photos)
    assert len(index.crops(result.identity_id)) == len(photos) == result.added


def test_face_crop_pads_the_box_and_stays_inside_the_image() -> None:
    image = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    crop = face_crop(image, Box(left=10, top=20, right=30, bottom=40))
    assert crop.shape == (32, 32, 3)  # 20 px box, 6 px of margin on each side
    assert np.array_equal(crop, image[14:46, 4:36])
    assert face_crop(image, Box(left=0, top=0, right=80, bottom=100)).shape == (100, 80, 3)


# -- naming, merging, forgetting in the index -----------------------------------------------------


def test_rename_names_and_renames_and_refuses_a_taken_name(index: IdentityIndex, face) -> None:
    obama = index.identify(face("train/obama/obama.jpg")[1]).identity_id
    biden = index.identify(face("train/biden/biden.jpg")[1]).identity_id
    assert index.rename(obama, "  Barack   Obama ").name == "Barack Obama"
    assert index.identify(face("test/obama1.jpg")[1]).name == "Barack Obama"
    assert index.rename(obama, "barack obama").name == "barack obama"  # its own name, another spelling
    with pytest.raises(NameTaken, match=rf"merge {biden} {obama}"):
        index.rename(biden, "Barack Obama")
    with pytest.raises(UnknownIdentity, match="person-99"):
        index.rename("person-99", "Joe")
    with pytest.raises(IdentityError, match="empty"):
        index.rename(biden, "  ")
    with pytest.raises(IdentityError, match="looks like an identity id"):
        index.rename(biden, "person-7")
    path = index.path
    index.close()
    with IdentityIndex(path) as again:
        assert again.get(obama).name == "barack obama" and again.find("BARACK OBAMA").id == obama
        assert again.get(biden).name is None


def test_merge_moves_exemplars_and_crops_and_retires_the_source(index: IdentityIndex, face) -> None:
    # Force a split: two photos of one person, the second filed under a new identity by hand.
    a = index.identify(*face("train/obama/obama.jpg")[1:]).identity_id
    b = index.enroll("Obama", [face("train/obama/obama2.jpg")[1]], crops=[face("train/obama/obama2.jpg")[2]])
    assert a != b
    merged = index.merge(b, a)
    assert (merged.id, merged.name, merged.exemplars) == (a, "Obama", 2)  # into had no name: the source's stays
    assert index.get(b) is None and index.resolve(b) == a and index.find("obama").id == a
    assert [p.name for p in index.crops(a)] == ["0001.jpg", "0002.jpg"] and index.crops(b) == []
    assert index.identify(face("test/obama1.jpg")[1]).identity_id == a
    with pytest.raises(UnknownIdentity, match=f"merged into {a}"):
        index.merge(b, a)
    with pytest.raises(IdentityError, match="itself"):
        index.merge(a, a)
    path = index.path
    index.close()
    with IdentityIndex(path) as again:  # the payloads moved too: reconciliation brings nothing back
        assert [(i.id, i.name, i.exemplars) for i in again.identities()] == [(a, "Obama", 3)]  # obama1.jpg added one


def test_forget_deletes_exemplars_and_crops_and_a_new_sighting_is_a_new_person(index: IdentityIndex, face) -> None:
    box, descriptor, crop = face("train/obama/obama.jpg")
    gone = index.identify(descriptor, crop).identity_id
    index.rename(gone, "Barack")
    kept = index.identify(face("train/biden/biden.jpg")[1]).identity_id
    assert index.forget(gone).name == "Barack"
    assert index.get(gone) is None and index.find("Barack") is None and index.resolve(gone) is None
    assert not (index.path / "crops" / gone).exists()
    registry = (index.path / "identities.json").read_text()
    assert "Barack" not in registry
    again = index.identify(face("train/obama/obama2.jpg")[1])
    assert again.is_new and again.identity_id not in {gone, kept} and again.name is None
    with pytest.raises(UnknownIdentity, match="forgotten"):
        index.forget(gone)
    path = index.path
    index.close()
    with IdentityIndex(path) as reopened:
        assert {i.id for i in reopened.identities()} == {kept, again.identity_id}
        assert reopened.identify(face("lin-manuel-miranda.png")[1]).identity_id == "person-4"  # ids never reused


def test_a_forgotten_face_leaves_no_bytes_in_the_index(index: IdentityIndex, face) -> None:
    """Qdrant keeps deleted vectors in segments and upserts in its log: forget rewrites the shard."""
    descriptor = face("train/obama/obama.jpg")[1]
    kept = face("train/biden/biden.jpg")[1]

    def on_disk(vector: np.ndarray) -> bool:
        patterns = [np.float32(x).tobytes() for x in vector[:4]]
        patterns += [p[::-1] for p in patterns]  # the log is big-endian
        blobs = [f.read_bytes() for f in index.path.rglob("*") if f.is_file()]
        return any(p in b for p in patterns for b in blobs)

    gone = index.identify(descriptor).identity_id
    index.identify(kept)
    index.shard.flush()
    assert on_disk(descriptor) and on_disk(kept)
    index.forget(gone)
    assert not on_disk(descriptor) and on_disk(kept)
    assert not list(index.path.glob("shard.*"))  # the rewrite's scratch folders are gone
    assert index.identify(kept).name is None and not index.identify(kept).is_new


def test_an_interrupted_shard_rewrite_keeps_one_whole_shard(tmp_path: Path, face) -> None:
    path = tmp_path / "identities"
    with IdentityIndex(path) as index:
        person = index.identify(face("train/obama/obama.jpg")[1]).identity_id
    (path / "shard").rename(path / "shard.new")  # died between the two renames of the swap
    with IdentityIndex(path) as index:
        assert index.identify(face("train/obama/obama2.jpg")[1]).identity_id == person
    assert sorted(p.name for p in path.glob("shard*")) == ["shard"]


def test_an_interrupted_forget_is_finished_on_open(tmp_path: Path, face) -> None:
    """A crash after the registry write but before the shard delete: the next open completes it."""
    path = tmp_path / "identities"
    with IdentityIndex(path) as index:
        gone = index.identify(*face("train/obama/obama.jpg")[1:]).identity_id
        index.rename(gone, "Barack")
    registry = json.loads((path / "identities.json").read_text())
    del registry["identities"][gone]
    registry["forgotten"] = [gone]
    (path / "identities.json").write_text(json.dumps(registry))
    with IdentityIndex(path) as index:
        assert index.identities() == [] and index.crops(gone) == []
        assert index.identify(face("test/obama1.jpg")[1]).is_new  # the exemplars are gone, not adopted back


def test_an_interrupted_merge_is_finished_on_open(tmp_path: Path, face) -> None:
    """A crash after the registry write but before the exemplars and crops moved."""
    path = tmp_path / "identities"
    with IdentityIndex(path) as index:
        into = index.identify(*face("train/obama/obama.jpg")[1:]).identity_id
        source = index.enroll("Obama", [face("train/obama/obama2.jpg")[1]], crops=[face("train/obama/obama2.jpg")[2]])
    registry = json.loads((path / "identities.json").read_text())
    registry["identities"][into]["name"] = registry["identities"].pop(source)["name"]
    registry["merged"] = {source: into}
    (path / "identities.json").write_text(json.dumps(registry))
    with IdentityIndex(path) as index:
        assert [(i.id, i.name, i.exemplars) for i in index.identities()] == [(into, "Obama", 2)]
        assert len(index.crops(into)) == 2 and not (path / "crops" / source).exists()
        assert index.identify(face("train/obama/obama2.jpg")[1]).identity_id == into


# -- the event store follows ----------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EdgeEventStore]:
    s = EdgeEventStore(tmp_path / "store", text_dim=384, image_dim=4)
    yield s
    s.close()


def test_relabel_rewrites_names_captions_and_keywords(store: EdgeEventStore, models) -> None:
    store.upsert(embedded(models, [
        event("lunch", 12, ["person-3", "obama"], ["person-3", "person-1"], "the soup is good"),
        event("coffee", 15, ["person-3"], ["person-3"], "one espresso please"),
        event("alone", 17, [], [], "nobody here"),
    ]))
    before = {e.id: e for e in by_key(store, "lunch", "coffee", "alone")}
    custom = event("custom", 18, ["person-3"], ["person-3"], "hi")
    custom.caption = "A hand-written caption about person-3."
    store.upsert(embedded(models, [custom]))

    assert store.relabel_identity("person-3", "Joe Biden") == 3  # without embed: text vectors stay
    lunch, coffee, alone, kept = by_key(store, "lunch", "coffee", "alone", "custom")
    assert (lunch.people, lunch.identity_ids) == (["Joe Biden", "obama"], ["person-3", "person-1"])
    assert lunch.caption.startswith("At Corner Café, with Joe Biden and obama.")
    assert coffee.caption.startswith("At Corner Café, with Joe Biden.") and coffee.quotes == before[coffee.id].quotes
    assert lunch.text_vector == pytest.approx(before[lunch.id].text_vector)
    assert alone.caption == before[alone.id].caption
    assert kept.people == ["Joe Biden"] and kept.caption == custom.caption  # not a composed caption: left alone
    assert {e.id for e in store.events(EventFilter(people=["Joe Biden"]))} == {lunch.id, coffee.id, kept.id}
    assert store.events(EventFilter(people=["person-3"])) == []
    assert {h.event.id for h in store.search_keywords("Biden")} == {lunch.id, coffee.id}

    assert store.relabel_identity("person-3", "Joe Biden") == 0  # nothing left to change
    assert store.relabel_identity("person-3", "Joe", embed=models.text_embedder.embed) == 3
    lunch = by_key(store, "lunch")[0]
    expected = models.text_embedder.embed([lunch.document])[0]
    assert np.dot(lunch.text_vector, expected) == pytest.approx(1.0, abs=1e-5)


def test_merge_relabel_replaces_the_id_once(store: EdgeEventStore, models) -> None:
    store.upsert(embedded(models, [
        event("both", 9, ["person-2", "Obama"], ["person-2", "person-1"], "hello"),
        event("source", 10, ["person-2"], ["person-2"], "hello again"),
        event("into", 11, ["Obama"], ["person-1"], "bye"),
    ]))
    assert store.relabel_identity("person-2", "Obama", into_id="person-1") == 2
    both, source, into = by_key(store, "both", "source", "into")
    assert (both.people, both.identity_ids) == (["Obama"], ["person-1"])
    assert both.caption.startswith("At Corner Café, with Obama.")
    assert (source.people, source.identity_ids) == (["Obama"], ["person-1"])
    assert (into.people, into.identity_ids) == (["Obama"], ["person-1"])


def test_remove_identity_drops_the_label_everywhere(store: EdgeEventStore, models) -> None:
    store.upsert(embedded(models, [
        event("pair", 9, ["Bob", "Alice"], ["person-5", "person-6"], "hello"),
        event("solo", 10, ["Bob"], ["person-5"], "hi"),
    ]))
    assert store.remove_identity("person-5", embed=models.text_embedder.embed) == 2
    pair, solo = by_key(store, "pair", "solo")
    assert (pair.people, pair.identity_ids) == (["Alice"], ["person-6"])
    assert (solo.people, solo.identity_ids) == ([], [])
    assert "Bob" not in pair.caption + solo.caption and solo.caption.startswith("At Corner Café.")
    assert store.search_keywords("Bob") == [] and store.events(EventFilter(people=["Bob"])) == []
    seen = store.identity_appearances()
    assert set(seen) == {"person-6"} and seen["person-6"].events == 1


# -- the operations the CLI and the web app call -------------------------------------------------


@pytest.fixture
def life(make_runtime, tmp_path: Path, face, models):
    """A memory with three people seen in four events: person-1 (Obama, in two photos), person-2
    (Obama's second photo filed apart), person-3 (Biden)."""
    rt = make_runtime(tmp_path / "home")
    ids = [
        rt.identities.identify(*face("train/obama/obama.jpg")[1:]).identity_id,
        rt.identities.enroll("Barack", [face("train/obama/obama2.jpg")[1]], crops=[face("train/obama/obama2.jpg")[2]]),
        rt.identities.identify(*face("train/biden/biden.jpg")[1:]).identity_id,
    ]
    assert ids == ["person-1", "person-2", "person-3"]
    rt.store.upsert(embedded(models, [
        event("breakfast", 8, ["person-1", "person-3"], ["person-1", "person-3"], "pass the salt"),
        event("meeting", 11, ["Barack", "person-1"], ["person-2", "person-1"], "let us begin"),
        event("walk", 14, ["person-3"], ["person-3"], "nice weather"),
        event("call", 16, ["Barack"], ["person-2"], "call me back"),
    ]))
    return rt


def test_name_merge_forget_keep_index_and_events_consistent(life) -> None:
    rt = life
    assert name_identity(rt, "person-3", "Joe") == 2
    assert [e.people for e in rt.store.events(EventFilter(people=["Joe"]))] == [["person-1", "Joe"], ["Joe"]]
    with pytest.raises(NameTaken, match="merge"):
        name_identity(rt, "person-1", "joe")

    # person-1 (unnamed) into "Barack" by name: the survivor is person-2 and keeps its name.
    assert merge_identities(rt, "person-1", "Barack") == 2
    assert rt.identities.get("person-1") is None and rt.identities.get("person-2").exemplars == 2
    breakfast, meeting = rt.store.events(EventFilter(people=["Barack"]))[:2]
    assert (breakfast.people, breakfast.identity_ids) == (["Barack", "Joe"], ["person-2", "person-3"])
    assert (meeting.people, meeting.identity_ids) == (["Barack"], ["person-2"])
    assert merge_identities(rt, "person-1", "person-2") == 0  # a repeat (after a crash) finishes, changes nothing

    views = {v.id: v for v in describe_people(rt)}
    assert set(views) == {"person-2", "person-3"}
    assert (views["person-2"].label, views["person-2"].events, len(views["person-2"].crops)) == ("Barack", 3, 2)
    assert views["person-2"].first_seen.hour == 8 and views["person-2"].last_seen.hour == 16

    assert forget_identity(rt, "Joe") == 2
    assert rt.identities.find("Joe") is None and rt.identities.crops("person-3") == []
    assert all("Joe" not in e.people and "person-3" not in e.identity_ids and "Joe" not in e.caption for e in rt.store.events())
    assert forget_identity(rt, "person-3") == 0  # forgotten ids are accepted again, to finish a cut-short forget
    with pytest.raises(UnknownIdentity):
        name_identity(rt, "Joe", "Joseph")


def test_cli_handlers(life, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="egomem")
    people = parser.add_subparsers().add_parser("people").add_subparsers()
    add_people_commands(people)
    args = parser.parse_args(["people", "forget", "person-3"])
    assert args.handler is forget_command and args.yes is False

    rt = life
    assert name_command(rt, parser.parse_args(["people", "name", "person-3", "Joe"])) == 0
    assert "named person-3 to 'Joe'; relabelled 2 events" in capsys.readouterr().out

    assert show_command(rt, parser.parse_args(["people", "show", "Joe"])) == 0
    shown = capsys.readouterr().out
    assert "person-3  Joe" in shown and "seen in 2 events" in shown and "crops: 1" in shown
    assert str(rt.identities.crops("person-3")[0]) in shown

    assert forget_command(rt, parser.parse_args(["people", "forget", "Joe"])) == 1
    dry = capsys.readouterr().out
    assert "would forget person-3 (Joe): 1 face sample, 1 crop, and the label in 2 events" in dry and "--yes" in dry
    assert rt.identities.find("Joe") is not None and rt.store.count(EventFilter(people=["Joe"])) == 2

    assert forget_command(rt, parser.parse_args(["people", "forget", "Joe", "--yes"])) == 0
    assert "forgot person-3 (Joe)" in capsys.readouterr().out
    assert rt.identities.get("person-3") is None and rt.store.count(EventFilter(people=["Joe"])) == 0

    assert merge_command(rt, parser.parse_args(["people", "merge", "person-1", "person-2"])) == 0
    assert "merged person-1 into person-2 (Barack); relabelled 2 events" in capsys.readouterr().out  # "call" had it already
    with pytest.raises(UnknownIdentity, match="merged into person-2"):
        rt.identities.rename("person-1", "x")
    with pytest.raises(UnknownIdentity, match="merged into person-2"):  # an old alias never deletes anyone
        forget_command(rt, parser.parse_args(["people", "forget", "person-1", "--yes"]))
    assert rt.identities.get("person-2") is not None
