"""Names heard in speech: the pure cue finder, proposals kept in the identity index, relabelled
events in a real shard, the `people` commands, and one real recording through the ingest pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote
from egomem.memory.naming import ADDRESS, INTRODUCTION, Evidence, Mention, NamingOptions, agree, find_mentions, propose_names
from egomem.people import confirm_heard_name, describe_people, name_from_speech, name_identity, reject_heard_name
from egomem.store.base import EventFilter
from egomem.store.identities import IdentityIndex

REPO = Path(__file__).resolve().parents[1]
TZ = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
NS = uuid.UUID("5b0b7a54-0c7e-4a51-9d9a-3a43c1f4c0de")
CAFE = Place("Corner Café")


def event(quotes: list[tuple[str | None, str]], ids: list[str], *, people: list[str] | None = None, key: str = "e1",
          recording: str = "rec-1", hour: int = 10) -> Event:  # fmt: skip
    start = T0.replace(hour=hour)
    said = [Quote(start + timedelta(seconds=3 * i), start + timedelta(seconds=3 * i + 2), text, who) for i, (who, text) in enumerate(quotes)]
    people = list(ids) if people is None else people
    return Event(str(uuid.uuid5(NS, key)), recording, f"/media/{recording}.mp4", start, start + timedelta(minutes=1), CAFE,
                 people, list(ids), said, caption=compose_caption(CAFE, people, [], said, []))  # fmt: skip


def names(proposals) -> dict[str, str]:
    return {p.identity_id or p.voice: p.name for p in proposals}


# -- the pure module ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    ["Hi, I'm Ines, nice to meet you.", "My name is Ines.", "Ines here, just checking in.", "Call me Ines."],
)
def test_a_self_introduction_by_the_unnamed_speaker_in_view_is_enough(said: str) -> None:
    proposals = propose_names([event([("person-3", said)], ["person-3"])])
    assert names(proposals) == {"person-3": "Ines"}
    [evidence] = proposals[0].evidence
    assert (evidence.kind, evidence.quote, evidence.speaker, evidence.time) == (INTRODUCTION, said, "person-3", T0)
    assert proposals[0].confidence >= 0.75


def test_an_unknown_speaker_introducing_themselves_is_the_one_unnamed_person_in_view() -> None:
    assert names(propose_names([event([(None, "Hi, I'm Ines.")], ["person-3"])])) == {"person-3": "Ines"}
    # ... but not when it is the wearer talking, nor when two unnamed people are in view.
    assert propose_names([event([("me", "Hi, I'm Ines.")], ["person-3"])]) == []
    assert propose_names([event([(None, "Hi, I'm Ines.")], ["person-3", "person-4"])]) == []


def test_being_addressed_twice_names_the_one_unnamed_person_in_view() -> None:
    once = event([("me", "Thanks, Ines.")], ["person-3"])
    assert [m.evidence.kind for m in find_mentions([once])] == [ADDRESS]
    assert propose_names([once]) == []  # one address is not agreement
    twice = event([("me", "Thanks, Ines."), ("me", "Ines, could you pass the salt?"), ("person-9", "See you, Ines!")],
                  ["person-9", "person-3"], people=["Bob", "person-3"])  # fmt: skip
    [proposal] = propose_names([twice], nameable={"person-3"})
    assert (proposal.identity_id, proposal.name, len(proposal.evidence)) == ("person-3", "Ines", 3)


def test_addresses_in_different_recordings_agree() -> None:
    earlier = [Mention(e.evidence, identity_id="person-3") for e in find_mentions([event([("me", "Hi Ines.")], ["person-3"])])]
    later = event([("me", "Bye, Ines!")], ["person-3"], key="e2", recording="rec-2")
    assert names(propose_names([later], earlier=earlier)) == {"person-3": "Ines"}
    assert propose_names([later], earlier=earlier, rejected={"person-3": ["ines"]}) == []


def test_two_unnamed_people_in_view_get_no_name() -> None:
    scene = event([("me", "Thanks, Ines."), ("me", "See you, Ines.")], ["person-3", "person-4"])
    assert find_mentions([scene]) == [] and propose_names([scene]) == []


def test_the_addressed_speaker_is_never_the_one_named() -> None:
    # person-3 says "thanks, Sam" to the wearer: nobody else is in view, so nobody is Sam.
    assert propose_names([event([("person-3", "Thanks, Sam."), ("person-3", "Bye, Sam!")], ["person-3"])]) == []


@pytest.mark.parametrize(
    "who, said",
    [
        ("me", "I'm tired."),
        ("person-3", "I'm tired."),
        ("person-3", "I'm Sorry."),
        ("person-3", "I'm English."),
        ("me", "Thanks, Monday."),
        ("me", "See you, Friday! Hi, London."),
        ("me", "Thanks, Everyone. Bye, Mate."),
        ("person-3", "I'm Ines's sister."),
        ("person-3", "I'm person-4."),
    ],
)
def test_common_words_days_places_and_forms_of_address_are_not_names(who: str, said: str) -> None:
    assert find_mentions([event([(who, said), (who, said)], ["person-3"])]) == []


def test_the_wearers_and_known_names_are_not_proposed() -> None:
    scene = event([("person-3", "I'm Ines."), ("me", "Thanks, Sam.")], ["person-3"])
    assert propose_names([scene], options=NamingOptions(known_names=["Ines"], wearer_names=["Sam"])) == []


def test_conflicting_names_for_one_person_propose_none() -> None:
    scene = event([("person-3", "I'm Ines."), ("person-3", "My name is Maria.")], ["person-3"])
    assert propose_names([scene]) == []


def test_a_faceless_voice_on_a_call_is_named_by_its_introduction() -> None:
    call = event([("me", "Hello?"), ("speaker 2", "Hi, it's Tom from the garage."), ("speaker 2", "Your car is ready.")], [])
    [proposal] = propose_names([call])
    assert (proposal.voice_only, proposal.voice, proposal.name, proposal.recording_id) == (True, "speaker 2", "Tom", "rec-1")
    office = event([("me", "Hello?"), ("speaker 2", "This is Doctor Patel's office, about your appointment.")], [])
    assert names(propose_names([office])) == {"speaker 2": "Doctor Patel's office"}
    # "it's Tom" from someone in view is no introduction: it may be about anybody.
    assert propose_names([event([("person-3", "It's Tom.")], ["person-3"])]) == []


def test_evidence_round_trips_and_the_same_sentence_counts_once() -> None:
    ev = Evidence("Ines", ADDRESS, "Thanks, Ines.", T0, "e1", "me")
    assert Evidence.from_json(ev.to_json()) == ev
    assert agree([Mention(ev, identity_id="person-3")] * 3) == []


# -- the identity index ---------------------------------------------------------------------------


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def test_the_index_keeps_proposals_apart_from_given_names(tmp_path: Path) -> None:
    path = tmp_path / "identities"
    evidence = [Evidence("Ines", INTRODUCTION, "I'm Ines.", T0, "e1", "person-1").to_json()]
    with IdentityIndex(path) as index:
        pid = index.identify(unit(1)).identity_id
        proposed = index.propose_name(pid, "Ines", evidence)
        assert (proposed.name, proposed.heard_name, proposed.display_name, proposed.evidence) == (None, "Ines", "Ines", tuple(evidence))
        assert index.identify(unit(1)).name == "Ines"  # the display name, for events and quote speakers
        assert index.find("Ines") is None and index.find_heard("ines").id == pid
        other = index.identify(unit(2)).identity_id
        assert index.propose_name(other, "Ines") is None  # someone else is heard as Ines already
    with IdentityIndex(path) as index:  # persists across reopen
        assert index.get(pid).heard_name == "Ines" and index.get(pid).evidence == tuple(evidence)
        assert index.reject_name(pid).display_name is None
        assert index.propose_name(pid, "ines") is None  # rejected names are remembered
        assert index.propose_name(pid, "Inès").heard_name == "Inès"
        assert index.confirm_name(pid).name == "Inès" and index.get(pid).heard_name is None
    with IdentityIndex(path) as index:
        assert index.get(pid).name == "Inès" and index.rejected_names(pid) == ["Ines"]
        assert index.propose_name(pid, "Maria") is None  # a given name always wins
        index.propose_name(other, "Sam")
        assert index.rename(other, "Samuel").display_name == "Samuel" and index.get(other).heard_name is None
        voice = index.add_voice("Tom", evidence)
        assert voice.voice_only and voice.heard_name == "Tom" and index.add_voice("tom").id == voice.id
    with IdentityIndex(path) as index:  # a voice-only person has no face samples and is kept
        assert index.get(voice.id).voice_only and index.get(voice.id).exemplars == 0


# -- events in a real shard, through a runtime ----------------------------------------------------


def store_events(rt, events: list[Event]) -> None:
    vectors = rt.text_embedder.embed([e.document for e in events])
    for e, v in zip(events, vectors):
        e.text_vector = v.tolist()
    rt.store.upsert(events)


@pytest.fixture
def heard_home(make_runtime, tmp_path: Path):
    """A memory with person-1 seen in two recordings, addressed once in each."""
    rt = make_runtime(tmp_path / "home")
    pid = rt.identities.identify(unit(1)).identity_id
    first = [event([("me", "Thanks, Ines."), (pid, "You're welcome.")], [pid], key="a", recording="rec-a", hour=9)]
    assert name_from_speech(rt, first) == []  # one address: kept, not proposed
    store_events(rt, first)
    assert rt.identities.get(pid).heard_name is None and len(rt.identities.get(pid).evidence) == 1
    second = [event([("me", "Bye, Ines!"), (pid, "Bye.")], [pid], key="b", recording="rec-b", hour=11)]
    [proposal] = name_from_speech(rt, second)  # agreement across recordings
    assert (proposal.identity_id, proposal.name) == (pid, "Ines")
    store_events(rt, second)
    return rt, pid


def test_a_proposal_relabels_stored_and_new_events(heard_home) -> None:
    rt, pid = heard_home
    for e in rt.store.events():
        assert e.people == ["Ines"] and e.identity_ids == [pid]
        assert [q.speaker for q in e.quotes] == ["me", "Ines"]
        assert e.caption.startswith("At Corner Café, with Ines.")
    assert [e.recording_id for e in rt.store.events(EventFilter(people=["Ines"]))] == ["rec-a", "rec-b"]
    [view] = describe_people(rt)
    assert (view.name, view.heard_name, view.marked_label, view.events) == (None, "Ines", "Ines (heard, not confirmed)", 2)


def test_reject_then_a_user_name_relabels_everything_and_wins(heard_home) -> None:
    rt, pid = heard_home
    person, heard, changed = reject_heard_name(rt, pid)
    assert (heard, changed, person.display_name) == ("Ines", 2, None)
    for e in rt.store.events():
        assert e.people == [pid] and [q.speaker for q in e.quotes] == ["me", pid]
    third = [event([("me", "Hi Ines."), ("me", "Ines, sit down.")], [pid], key="c", recording="rec-c", hour=12)]
    assert name_from_speech(rt, third) == [] and third[0].people == [pid]  # rejected: never again for them
    name_identity(rt, pid, "Maria")
    assert {tuple(e.people) for e in rt.store.events()} == {("Maria",)}
    assert [q.speaker for q in rt.store.events()[0].quotes] == ["me", "Maria"]
    assert name_from_speech(rt, [event([(pid, "I'm Ines.")], [pid], key="d", recording="rec-d")]) == []


def test_confirm_makes_the_heard_name_real(heard_home) -> None:
    rt, pid = heard_home
    assert confirm_heard_name(rt, "Ines").name == "Ines"
    assert rt.identities.get(pid).heard_name is None and rt.identities.find("Ines").id == pid
    assert {tuple(e.people) for e in rt.store.events()} == {("Ines",)}


def test_a_named_caller_becomes_a_voice_only_person(make_runtime, tmp_path: Path) -> None:
    rt = make_runtime(tmp_path / "home")
    call = [event([("me", "Hello?"), ("speaker 2", "Hi, it's Tom from the garage."), ("me", "Oh hi.")], [], key="x", recording="call"),
            event([("speaker 2", "Your car is ready."), ("speaker 3", "Bye.")], [], key="y", recording="call", hour=11)]  # fmt: skip
    [proposal] = name_from_speech(rt, call)
    assert proposal.voice_only and [[q.speaker for q in e.quotes] for e in call] == [["me", "Tom", "me"], ["Tom", "speaker 3"]]
    assert all(e.people == [] and e.identity_ids == [] for e in call)  # `people` means in view
    store_events(rt, call)
    [view] = describe_people(rt)
    assert view.source == "voice" and view.marked_label == "Tom (voice only, heard, not confirmed)"
    person, heard, changed = reject_heard_name(rt, view.id)
    assert heard == "Tom" and changed == 2
    assert [[q.speaker for q in e.quotes] for e in rt.store.events()] == [["me", "speaker 2", "me"], ["speaker 2", "speaker 3"]]


# -- the command line -----------------------------------------------------------------------------


def egomem(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EGOMEM_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_people_list_confirm_and_reject(heard_home, tmp_path: Path) -> None:
    rt, pid = heard_home
    other = rt.identities.identify(unit(2)).identity_id
    rt.identities.propose_name(other, "Sam")
    rt.close()
    home = tmp_path / "home"
    listed = egomem(home, "people", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{pid:12} Ines (heard, not confirmed)" in listed.stdout and "Sam (heard, not confirmed)" in listed.stdout
    confirmed = egomem(home, "people", "confirm", pid)
    assert confirmed.returncode == 0 and confirmed.stdout.strip() == f"{pid} is Ines: confirmed", confirmed.stderr
    rejected = egomem(home, "people", "reject", "Sam")
    assert rejected.returncode == 0 and rejected.stdout.strip() == f"{other} is not Sam: will not be proposed again; relabelled 0 events"
    listed = egomem(home, "people", "list").stdout
    assert "Ines (heard" not in listed and f"{pid:12} Ines " in listed and f"{other:12} (unnamed)" in listed
    again = egomem(home, "people", "reject", pid)
    assert again.returncode == 1 and "called 'Ines' by you" in again.stderr


# -- one real recording through the ingest pipeline -----------------------------------------------


def test_ingest_hears_a_self_introduction(make_runtime, tmp_path: Path, shared_data: Path) -> None:
    from pipelines.lifegen import HEIGHT, SPEECH_SR, WIDTH, _paste, _write_wav, mux, portrait, synthesize
    from pipelines.ingest import Ingestor, Outcome

    frame = np.full((HEIGHT, WIDTH, 3), (90, 120, 150), np.uint8)
    face = portrait(shared_data / "faces" / "train" / "rose_leslie" / sorted(os.listdir(shared_data / "faces" / "train" / "rose_leslie"))[0], 140)
    _paste(frame, face, (WIDTH - face.shape[1]) // 2, 30)
    png, wav, clip = tmp_path / "frame.png", tmp_path / "speech.wav", tmp_path / "meeting.mp4"
    cv2.imwrite(str(png), frame)
    pad = np.zeros(int(0.6 * SPEECH_SR), np.float32)
    # espeak-ng's "Ines" reaches Whisper base as "Denise" (any voice, or phonemes): Maria round-trips.
    speech = np.concatenate([pad, synthesize("Hi, I'm Maria, nice to meet you.", "en+f2", 130), pad])
    _write_wav(wav, speech)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    spec = SimpleNamespace(start=start, place=SimpleNamespace(lat=48.8566, lon=2.3522), duration_s=len(speech) / SPEECH_SR)
    mux(png, wav, clip, spec)  # type: ignore[arg-type]  # mux reads only start, place and duration

    rt = make_runtime(tmp_path / "home")
    [result] = Ingestor(rt).ingest([clip])
    assert result.outcome is Outcome.INGESTED, result.message
    naming = next(s for s in result.stages if s.stage == "naming")
    [person] = rt.identities.identities()
    assert person.name is None and person.heard_name == "Maria", (naming.detail, [q.text for e in result.events for q in e.quotes])
    assert naming.detail == f"{person.id} heard as Maria" and person.evidence[0]["kind"] == INTRODUCTION
    [stored] = rt.store.events()
    assert stored.people == ["Maria"] and stored.identity_ids == [person.id]
    assert "with Maria" in stored.caption
