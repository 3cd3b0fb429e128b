"""The held-out life generator: plans a life without media and checks it against the benchmark spec."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines.lifegen2 import CAST, NONE, PLACES, plan_life

FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
TYPES = {"EntityLog", "EventRecall", "HabitInsight", "RelationMap", "TaskMaster"}


@pytest.fixture(scope="module")
def life():
    return plan_life(FACES, seed=21)


def test_same_seed_same_life_other_seed_other_life(life) -> None:
    again = plan_life(FACES, seed=21)
    assert again.manifest_text() == life.manifest_text()
    assert again.questions_text() == life.questions_text()
    assert again.paraphrases_text() == life.paraphrases_text()
    assert [ln.text for r in again.recordings for ln in r.lines] == [ln.text for r in life.recordings for ln in r.lines]
    other = plan_life(FACES, seed=22)
    assert other.manifest_text() != life.manifest_text()


def test_manifest_follows_the_spec(life) -> None:
    lines = [json.loads(x) for x in life.manifest_text().splitlines()]
    assert 20 <= len(lines) <= 30
    assert all(set(x) <= {"file", "start", "device", "lat", "lon"} for x in lines)
    kinds = Counter(r.kind for r in life.recordings)
    assert kinds["video"] >= 15 and kinds["audio"] >= 2 and kinds["photo"] >= 2
    assert life.duration_s <= 500
    assert {r.meta for r in life.recordings} >= {"manifest", "container", "nogps", "nogps-container"}
    starts = [datetime.fromisoformat(x["start"]) for x in lines if "start" in x]
    assert {t.utcoffset() for t in starts} == {timedelta(hours=-7)}
    days = sorted({r.start.date() for r in life.recordings})
    assert 3 <= len(days) <= 5 and days[0].weekday() != 0  # not a Monday start
    for r in life.recordings:  # GPS within ~30 m of the place
        if r.lat is not None:
            assert abs(r.lat - r.place.lat) * 111_000 < 30 and abs(r.lon - r.place.lon) * 85_000 < 30
        assert all(r.start <= ln.start < ln.end <= r.end for ln in r.lines)


def test_story_has_the_people_and_places_asked_for(life) -> None:
    in_view = {n for r in life.recordings for n in r.in_view}
    enrolled = {n for n in in_view if CAST[n].enrol}
    assert 2 <= len(enrolled) < len(in_view) and len(in_view - enrolled) >= 2
    heard = {ln.speaker for r in life.recordings for ln in r.lines} - in_view - {"me"}
    assert {"Karen", "Kim"} <= heard
    assert sum(len(r.in_view) >= 2 for r in life.recordings) >= 3
    assert 6 <= len(PLACES) <= 9
    visited = Counter(r.place.key for r in life.recordings if r.place)
    assert sum(n >= 2 for n in visited.values()) >= 6
    unsigned = [p for p in PLACES.values() if p.sign is None and p.key != "home"]
    assert unsigned and all(any(p.name in ln.text for r in life.recordings for ln in r.lines) for p in unsigned)


def test_questions_follow_the_spec(life) -> None:
    qs = [json.loads(x) for x in life.questions_text().splitlines()]
    assert 40 <= len(qs) <= 50 and len({q["id"] for q in qs}) == len(qs)
    counts = Counter(q["type"] for q in qs)
    assert set(counts) == TYPES and min(counts.values()) >= 6
    spans = [r.span for r in life.recordings]
    for q in qs:
        qt = datetime.fromisoformat(q["query_time"])
        if "choices" in q:
            assert sorted(q["choices"]) == list("ABCD") and q["answer"] in q["choices"]
            assert len(set(q["choices"].values())) == 4
        else:
            assert isinstance(q["answer"], str) and q["answer"]
        assert q["evidence"]
        for ev in q["evidence"]:
            s, e = datetime.fromisoformat(ev["start"]), datetime.fromisoformat(ev["end"])
            assert any(rs <= s and e <= re for rs, re in spans), (q["id"], ev)
            assert e <= qt, f"{q['id']}: evidence after the question"


def test_required_question_kinds(life) -> None:
    tags = Counter(t for q in life.questions for t in q.tags)
    assert tags["update"] >= 5 and tags["two-moment"] >= 5 and tags["none"] >= 3
    assert tags["future"] >= 3 and tags["seen"] >= 3 and tags["count"] >= 3
    assert sum(q.choices is None for q in life.questions) >= 2
    for q in life.questions:
        if "none" in q.tags:
            assert q.choices and q.choices[q.answer] == NONE
    # an update question's answer is the later version; the earlier one is among the choices
    dinner = next(q for q in life.questions if q.wordings[0].startswith("What time am I having dinner"))
    assert dinner.choices[dinner.answer] == "Saturday at 8 PM" and "Friday at 7 PM" in dinner.choices.values()


def test_every_question_has_three_paraphrases(life) -> None:
    para = [json.loads(x) for x in life.paraphrases_text().splitlines()]
    assert len(para) == 3 * len(life.questions)
    by_id = {q.id: q for q in life.questions}
    for p in para:
        base, _, n = p["id"].rpartition("-p")
        q = by_id[base]
        assert n in {"1", "2", "3"} and p["answer"] == q.answer and p.get("choices") == q.choices
        assert p["type"] == q.type and p["question"] != q.wordings[0]
    assert all(len(set(q.wordings)) == 4 for q in life.questions)
