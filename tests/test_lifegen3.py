"""lifegen3's held-out life: planned without media, checked for determinism, format and coverage."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.lifegen3 import NONE_OF_THESE, draw_frame, generate_life, plan_life

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"
TYPES = {"EntityLog", "EventRecall", "HabitInsight", "RelationMap", "TaskMaster"}


@pytest.fixture(scope="module")
def life_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("life") / "life"
    generate_life(out, FACES if FACES.exists() else None, 31, render_media=False)  # type: ignore[arg-type]
    return out


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_seed_same_life_and_other_seed_differs(tmp_path: Path, life_dir: Path) -> None:
    again = tmp_path / "again"
    generate_life(again, FACES if FACES.exists() else None, 31, render_media=False)  # type: ignore[arg-type]
    for name in ("manifest.jsonl", "questions.jsonl", "paraphrases.jsonl"):
        assert (again / name).read_bytes() == (life_dir / name).read_bytes()
    other = plan_life(32)
    assert [r.start for r in other.recordings] != [r.start for r in plan_life(31).recordings]


def test_manifest_follows_the_spec(life_dir: Path) -> None:
    rows = _rows(life_dir / "manifest.jsonl")
    assert 20 <= len(rows) <= 30
    assert len({r["file"] for r in rows}) == len(rows)
    kinds = Counter(Path(r["file"]).suffix for r in rows)
    assert kinds[".mp4"] > kinds[".m4a"] >= 2 and kinds[".jpg"] >= 2
    container_only = [r for r in rows if "start" not in r]
    no_gps = [r for r in rows if "start" in r and "lat" not in r]
    assert container_only and 1 <= len(no_gps) <= 2
    starts = [datetime.fromisoformat(r["start"]) for r in rows if "start" in r]
    assert {s.utcoffset().total_seconds() for s in starts} == {36000}  # type: ignore[union-attr]
    assert starts[0].strftime("%A") != "Monday" and 3 <= len({s.date() for s in starts}) <= 5


def test_life_story_constraints() -> None:
    life = plan_life(31, FACES if FACES.exists() else None)
    assert sum(r.duration_s for r in life.recordings) <= 510
    assert all(5 <= r.duration_s <= 60 for r in life.recordings if r.kind == "video")
    assert sum(len(r.seen) >= 2 for r in life.recordings) >= 3
    assert len({r.place.key for r in life.recordings if r.place}) in range(6, 10)
    heard = {l.speaker for r in life.recordings for l in r.lines} - {n for r in life.recordings for n in r.seen}
    assert {"Paula", "Mary"} <= heard
    if FACES.exists():
        assert sum(p.enrolled for p in life.people.values()) >= 2
        assert sum(p.video_photo is not None and not p.enrolled for p in life.people.values()) >= 2
        assert draw_frame(life.rec("r04"), life.people).shape == (360, 640, 3)


def test_questions_follow_the_spec_and_cover_the_kinds(life_dir: Path) -> None:
    manifest = _rows(life_dir / "manifest.jsonl")
    life = plan_life(31)
    spans = [(r.start, r.end) for r in life.recordings]
    rows = _rows(life_dir / "questions.jsonl")
    assert 40 <= len(rows) <= 50 and len({r["id"] for r in rows}) == len(rows)
    assert len(manifest) == len(life.recordings)
    types = Counter(r["type"] for r in rows)
    assert set(types) == TYPES and min(types.values()) >= 6
    for row in rows:
        assert {"id", "type", "question", "query_time", "answer", "evidence"} <= set(row)
        asked = datetime.fromisoformat(row["query_time"])
        if "choices" in row:
            assert row["answer"] in row["choices"] and len(set(row["choices"].values())) == len(row["choices"])
            assert len(row["choices"]) in (2, 4)
        else:
            assert isinstance(row["answer"], str) and row["answer"]
        assert row["evidence"]
        for ev in row["evidence"]:
            a, b = datetime.fromisoformat(ev["start"]), datetime.fromisoformat(ev["end"])
            assert any(s <= a <= b <= e for s, e in spans), row["id"]
            assert b <= asked, row["id"]  # never asked before its evidence was recorded
    kinds = Counter(k for r in rows for k in r["kinds"])
    assert kinds["knowledge-update"] >= 5 and kinds["two-moment"] >= 5 and kinds["none-of-these"] >= 3
    assert kinds["asked-before-change"] >= 2 and kinds["yes-no"] >= 2 and kinds["count"] >= 3 and kinds["open"] >= 3
    for row in rows:
        if "none-of-these" in row["kinds"]:
            assert row["choices"][row["answer"]] == NONE_OF_THESE
    mcq = [r for r in rows if "choices" in r]
    assert max(Counter(r["answer"] for r in mcq if len(r["choices"]) == 4).values()) < 0.5 * len(mcq)


def test_every_question_has_three_paraphrases(life_dir: Path) -> None:
    rows = {r["id"]: r for r in _rows(life_dir / "questions.jsonl")}
    para = _rows(life_dir / "paraphrases.jsonl")
    assert len(para) == 3 * len(rows)
    for p in para:
        base = rows[p["id"].rsplit("-p", 1)[0]]
        assert p["id"].rsplit("-p", 1)[1] in {"1", "2", "3"}
        assert p["question"] != base["question"]
        assert {k: v for k, v in p.items() if k not in ("id", "question")} == {
            k: v for k, v in base.items() if k not in ("id", "question")
        }
    assert len({p["question"] for p in para} | {r["question"] for r in rows.values()}) == 4 * len(rows)
