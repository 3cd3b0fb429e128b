"""A generated multi-recording life, ingested for real, then questioned.

The answers come from the generator's world model (questions.jsonl), never from this file.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from egomem.reasoning.reasoner import Reasoner
from egomem.reasoning.types import NO_MEMORY
from pipelines.ingest import Outcome
from pipelines.qa_benchmark import read_questions, run


@pytest.fixture(scope="module")
def reasoner(life_memory) -> Reasoner:
    rt, _ = life_memory
    return Reasoner(rt.store, rt.text_embedder, lambda: [i.name for i in rt.identities.identities() if i.name])


def test_every_recording_of_the_life_is_in_memory_at_its_time_and_place(life_memory, generated_life) -> None:
    rt, results = life_memory
    _, spec = generated_life
    assert [r.outcome for r in results] == [Outcome.INGESTED] * len(spec.recordings)
    by_name = {r.path.name: r.recording for r in results}
    for planned in spec.recordings:
        recording = by_name[planned.file.rsplit("/", 1)[-1]]
        assert recording.start == planned.start  # from the manifest, or the container where the manifest is silent
        assert recording.location is not None
        assert abs(recording.location.lat - planned.place.lat) < 1e-3 and abs(recording.location.lon - planned.place.lon) < 1e-3
    assert rt.store.stats()["recordings"] == len(spec.recordings)


def test_faces_signs_and_speech_were_perceived(life_memory, generated_life) -> None:
    rt, _ = life_memory
    _, spec = generated_life
    events = rt.store.events()
    for planned in spec.videos:
        event = next(e for e in events if e.start <= planned.start + timedelta(seconds=1) and e.end >= planned.start)
        companions = {name for name in planned.people if spec.people[name].known}
        assert companions <= set(event.people), f"{planned.file}: saw {event.people}, expected {companions}"
        squeezed = "".join(event.visible_text).replace(" ", "").lower()
        assert planned.sign_text.replace(" ", "").lower() in squeezed
        assert event.transcript, f"no speech heard in {planned.file}"


@pytest.fixture(scope="module")
def predictions(generated_life, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("predictions") / "predictions.jsonl"


@pytest.fixture(scope="module")
def scores(reasoner, generated_life, predictions: Path) -> dict[str, dict[str, float]]:
    """Every question of the life asked once, at its query time, and scored as `egomem bench qa` does."""
    folder, _ = generated_life
    return run(reasoner, read_questions(folder / "questions.jsonl"), predictions)


def test_the_life_is_answered_with_evidence(scores, generated_life, predictions: Path) -> None:
    folder, _ = generated_life
    overall = scores["overall"]
    assert overall["n"] == len(read_questions(folder / "questions.jsonl")) >= 40
    assert predictions.read_text().count("\n") == overall["n"]
    assert overall["accuracy"] >= 0.85, scores
    assert overall["recall@5"] >= 0.95, scores


@pytest.mark.parametrize("kind", ["EntityLog", "EventRecall", "HabitInsight", "RelationMap", "TaskMaster"])
def test_each_type_of_question_is_answered_right(scores, kind: str) -> None:
    row = scores[kind]
    assert row["n"] >= 6, f"the generated life has only {row['n']} {kind} questions"
    assert row["accuracy"] >= 0.7 and row["recall@5"] >= 0.8, (kind, row)


@pytest.mark.parametrize("kind", ["who", "what", "when", "where", "how many", "which"])
def test_each_kind_of_question_is_answered_right(reasoner, generated_life, kind: str) -> None:
    folder, _ = generated_life
    questions = [q for q in read_questions(folder / "questions.jsonl") if q.choices and q.question.lower().startswith(kind)]
    assert questions, f"the generated life has no {kind} question"
    right = 0
    for q in questions:
        answer = reasoner.ask(q.question, q.query_time, q.choices)
        evidence_ok = any(e.start <= te + timedelta(seconds=30) and ts - timedelta(seconds=30) <= e.end for e in answer.evidence for ts, te in q.evidence)
        right += answer.choice == q.answer and evidence_ok
    assert right >= max(1, 0.7 * len(questions)), f"{right} of {len(questions)} {kind} questions right"


def test_how_many_and_last_time_follow_the_world(reasoner, generated_life) -> None:
    """Counting and "last time" are read from every matching moment, not the best search hit."""
    _, spec = generated_life
    visits: dict[str, list] = {}
    for rec in spec.videos:
        visits.setdefault(rec.place.name, []).append(rec)
    place, recs = max(sorted(visits.items()), key=lambda kv: len(kv[1]))
    named = "at home" if recs[0].place.key == "home" else f"to {place}"
    asked = max(r.end for r in spec.recordings) + timedelta(hours=1)
    counted = reasoner.ask(f"How many times {'was I' if named == 'at home' else 'did I go'} {named}?", asked, {"A": "1", "B": "2", "C": "3", "D": "4"})
    assert counted.choice == "ABCD"[len(recs) - 1], counted.text
    last = reasoner.ask(f"When {'was I last' if named == 'at home' else 'did I last go'} {named}?", asked)
    assert abs((last.evidence[0].start - recs[-1].start).total_seconds()) < 2, last.text


def test_something_never_recorded_gets_no_guess(reasoner, generated_life) -> None:
    folder, _ = generated_life
    at = read_questions(folder / "questions.jsonl")[0].query_time
    answer = reasoner.ask("What did the dentist say about my wisdom teeth?", at)
    assert answer.abstained and answer.text == NO_MEMORY and answer.evidence == []


def test_a_question_cannot_see_what_happened_after_it_was_asked(reasoner, generated_life) -> None:
    _, spec = generated_life
    last = max(spec.videos, key=lambda r: r.start)
    words = " ".join(line.text for line in last.lines)  # all of it: a greeting alone is said everywhere
    before = reasoner.ask(f"Who said: {words}", last.start - timedelta(minutes=1))
    assert all(e.start < last.start for e in before.evidence)
    after = reasoner.ask(f"Who said: {words}", last.start + timedelta(hours=1))
    assert any(abs((e.start - last.start).total_seconds()) < 2 for e in after.evidence)
