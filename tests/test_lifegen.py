"""The synthetic-life generator: layout per specs/life-benchmark.md, real media, ground truth, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cv2
import ffmpeg
import numpy as np
import pytest

from pipelines import lifegen
from pipelines.lifegen import LifeSpec, generate_life, plan_life

TYPES = {"EntityLog", "EventRecall", "HabitInsight", "RelationMap", "TaskMaster"}


@pytest.fixture(scope="session")
def faces_dir(shared_data: Path) -> Path:
    return shared_data / "faces"


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> tuple[LifeSpec, float]:
    began = time.perf_counter()
    life = generate_life(tmp_path_factory.mktemp("one") / "life", faces_dir=faces_dir, seed=3, days=1)
    return life, time.perf_counter() - began


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> LifeSpec:
    return generate_life(tmp_path_factory.mktemp("two") / "life", faces_dir=faces_dir, seed=0, days=2)


@pytest.fixture(params=["one", "two"])
def life(request: pytest.FixtureRequest, one_day: tuple[LifeSpec, float], two_days: LifeSpec) -> LifeSpec:
    return one_day[0] if request.param == "one" else two_days


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def decode_audio(path: Path, rate: int = 16000) -> np.ndarray:
    out, _ = ffmpeg.input(str(path)).output("pipe:", format="f32le", ac=1, ar=rate).run(capture_stdout=True, quiet=True)
    return np.frombuffer(out, np.float32)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


# -- layout -------------------------------------------------------------------------------------


def test_manifest_files_are_real_recordings(life: LifeSpec) -> None:
    root = life.out_dir
    assert root is not None
    rows = read_jsonl(root / "manifest.jsonl")
    assert [r["file"] for r in rows] == [r.file for r in life.recordings]
    for row, rec in zip(rows, life.recordings):
        path = root / row["file"]
        assert path.is_file(), row["file"]
        info = ffmpeg.probe(str(path))
        kinds = {s["codec_type"] for s in info["streams"]}
        if rec.kind == "photo":
            assert path.suffix == ".jpg" and kinds == {"video"}
            continue
        assert kinds == {"video", "audio"}
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
        assert video["avg_frame_rate"] == "10/1"
        assert next(s for s in info["streams"] if s["codec_type"] == "audio")["codec_name"] == "aac"
        assert 8.0 <= float(info["format"]["duration"]) <= 15.5
        assert abs(float(info["format"]["duration"]) - rec.duration_s) < 0.2


def test_manifest_starts_carry_the_offset(life: LifeSpec) -> None:
    rows = read_jsonl(life.out_dir / "manifest.jsonl")  # type: ignore[operator]
    with_start = [r for r in rows if "start" in r]
    assert with_start and all(set(r) == {"file", "start", "device", "lat", "lon"} for r in with_start)
    for row in with_start:
        assert datetime.fromisoformat(row["start"]).utcoffset() == timedelta(hours=1)
    # Exactly one recording leaves time and place to its container, to exercise the fallback.
    bare = [r for r in rows if set(r) == {"file"}]
    assert len(bare) == 1 and bare[0]["file"].endswith(".mp4")


def test_container_metadata_has_time_and_place(life: LifeSpec) -> None:
    for rec in life.videos:
        tags = ffmpeg.probe(str(life.out_dir / rec.file))["format"]["tags"]  # type: ignore[operator]
        written = datetime.fromisoformat(tags["creation_time"])
        assert written == rec.start.astimezone(UTC)
        assert tags["location"] == lifegen.iso6709(rec.place.lat, rec.place.lon)
        assert tags["location"].startswith(("+", "-")) and tags["location"].endswith("/")


def test_people_folder_holds_companions_but_not_the_stranger(life: LifeSpec) -> None:
    people = life.out_dir / "people"  # type: ignore[operator]
    folders = sorted(p.name for p in people.iterdir())
    assert folders == sorted(p.name for p in life.companions)
    assert lifegen.STRANGER not in folders
    for folder in people.iterdir():
        photos = list(folder.glob("*.jpg"))
        assert 1 <= len(photos) <= 2 and all(cv2.imread(str(p)) is not None for p in photos)
    assert any(lifegen.STRANGER in r.people for r in life.videos), "the unenrolled face should appear somewhere"


# -- questions ----------------------------------------------------------------------------------


def test_questions_are_well_formed(life: LifeSpec) -> None:
    rows = read_jsonl(life.out_dir / "questions.jsonl")  # type: ignore[operator]
    assert len(rows) >= 40
    per_type = {kind: sum(r["type"] == kind for r in rows) for kind in TYPES}
    assert min(per_type.values()) >= (4 if life.days == 1 else 6), per_type  # one day holds only four things seen
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"] for r in rows}) == len(rows), "no question is asked twice"
    assert sum("choices" in r for r in rows) > len(rows) / 2, "mostly multiple choice"
    spans = [(r.start, r.end) for r in life.videos]
    assert any("choices" not in r for r in rows), "at least one open question"
    for row in rows:
        asked = datetime.fromisoformat(row["query_time"])
        assert asked.utcoffset() is not None
        if "choices" in row:
            assert sorted(row["choices"]) == ["A", "B", "C", "D"]
            assert len(set(row["choices"].values())) == 4
            assert row["answer"] in row["choices"]
        else:
            assert isinstance(row["answer"], str) and row["answer"]
        assert row["evidence"]
        for ev in row["evidence"]:
            start, end = datetime.fromisoformat(ev["start"]), datetime.fromisoformat(ev["end"])
            assert any(s <= start and end <= e for s, e in spans), ev
            assert end < asked, (row["id"], "asked before its evidence")


def test_distractors_occur_elsewhere_in_the_life(life: LifeSpec) -> None:
    spoken = " ".join(line.text.lower() for r in life.videos for line in r.lines)
    seen_in_life = {
        "person": {p.display for p in life.companions},
        "place": {r.place.name for r in life.videos} | {p.name for p in lifegen.PLACES.values() if p.name.lower() in spoken},
        "time": {r.time_label for r in life.videos},
        "clock": {f"{r.start:%H:%M}" for r in life.videos},
        "item": {g for g in lifegen.GROCERIES if g in spoken}
        | {label.lower() for r in life.videos for label in r.labels}
        | {t.what for t in life.tasks},
        "task": {t.phrase for t in life.tasks},
    }
    for q in life.questions:
        if q.choices is None or q.choice_kind == "count":
            continue
        assert set(q.choices.values()) <= seen_in_life[q.choice_kind], (q.id, q.choices)


def test_no_distractor_is_also_true(faces_dir: Path) -> None:
    """Time words overlap ("afternoon" covers 12:30), so a label true of the answer's moment is never offered."""
    faces, stranger = lifegen.discover_faces(faces_dir)
    for seed in range(12):
        life = plan_life(faces, stranger, seed=seed, days=3)
        starts = {(r.start, r.end): r.start for r in life.videos}
        for q in life.questions:
            if q.choices is None or q.choice_kind != "time":
                continue
            moment = starts[q.evidence[0]]
            true = [label for label in q.choices.values() if lifegen._describes(label, moment)]
            assert true == [q.answer_text], (seed, q.question, q.choices)


@pytest.mark.parametrize("days", [1, 2, 3, 5, 7])
def test_every_length_of_life_gets_a_full_deterministic_quiz(faces_dir: Path, days: int) -> None:
    faces, stranger = lifegen.discover_faces(faces_dir)
    for seed in range(8):
        life = plan_life(faces, stranger, seed=seed, days=days)
        assert len(life.questions) >= 40 and {q.type for q in life.questions} == TYPES
        assert len({q.question for q in life.questions}) == len(life.questions)
        assert all(end < q.query_time for q in life.questions for _, end in q.evidence)
        assert plan_life(faces, stranger, seed=seed, days=days).questions_text() == life.questions_text()


def test_answers_come_from_the_world(two_days: LifeSpec) -> None:
    life = two_days
    by_file = {r.file: r for r in life.videos}

    def task(kind: str, what: str) -> lifegen.Task:
        (found,) = [t for t in life.tasks if t.kind == kind and t.what == what]
        return found

    for q in life.questions:
        text = q.question
        if text.startswith("Who asked me to buy "):
            assert q.answer_text == life.people[task("buy", text[20:-1]).person].display
        elif text.startswith("Who reminded me to call "):
            assert q.answer_text == life.people[task("call", text[24:-1]).person].display
        elif text.startswith("Where was I when ") and " asked me to bring " in text:
            heard = task("bring", text.split(" asked me to bring ")[1][:-1])
            assert q.answer_text == by_file[heard.recording].place.name
        elif text.startswith("How many times did I go to "):
            assert q.answer_text == str(sum(r.place.name == text[27:-1] for r in life.videos))
        elif text.startswith("When did I last go to "):
            before = [r for r in life.videos if r.place.name == text[22:-1] and r.start < q.query_time]
            assert q.answer_text == before[-1].time_label
        elif (m := re.fullmatch(r"Who was with me at (.+) on (\w+)\?", text)) and m[1] != "lunch":
            (rec,) = [r for r in life.videos if m[1] in (r.place.name, "home" if r.place.key == "home" else "") and f"{r.start:%A}" == m[2]]
            assert q.answer_text == next(life.people[p].display for p in rec.people if life.people[p].known)
        elif m := re.fullmatch(r"How many times did I see (.+)\?", text):
            assert q.answer_text == str(sum(any(life.people[p].display == m[1] for p in r.people) for r in life.videos))
        elif m := re.fullmatch(r"What did (.+) remind me to do( on \w+)?\?", text):
            (heard,) = [t for t in life.tasks if t.kind == "call" and life.people[t.person].display == m[1]
                        and (not m[2] or f" on {by_file[t.recording].start:%A}" == m[2])]  # fmt: skip
            assert q.answer_text == heard.phrase
        elif m := re.fullmatch(r"Where did (.+) suggest we meet( on \w+)?\?", text):
            (heard,) = [t for t in life.tasks if t.kind == "plan" and life.people[t.person].display == m[1]
                        and (not m[2] or f" on {by_file[t.recording].start:%A}" == m[2])]  # fmt: skip
            assert f"meet at {q.answer_text} on " in heard.what
        elif m := re.fullmatch(r"Which place did I go to first after lunch on (\w+)\?", text):
            later = [r for r in life.videos if f"{r.start:%A}" == m[1] and r.start.hour >= 15]
            assert q.answer_text == later[0].place.name


def test_companions_are_not_named_aloud(life: LifeSpec) -> None:
    # People must be recognised by face, so no spoken line gives a companion's name away.
    words = {w.strip(".,?!'").lower() for r in life.videos for line in r.lines for w in line.text.split()}
    for person in life.companions:
        assert not set(person.display.lower().split()) & words, person.name


# -- media content ------------------------------------------------------------------------------


def test_speech_is_audible_inside_its_slots(two_days: LifeSpec) -> None:
    for rec in two_days.videos:
        audio = decode_audio(two_days.out_dir / rec.file)  # type: ignore[operator]
        lead = audio[: int(0.5 * 16000)]
        assert rms(lead) < 0.005, rec.file
        for line in rec.lines:
            a = int((line.start - rec.start).total_seconds() * 16000)
            b = int((line.end - rec.start).total_seconds() * 16000)
            assert rms(audio[a:b]) > 0.03, (rec.file, line.text)


def test_speakers_have_different_voices(two_days: LifeSpec) -> None:
    voices = {p.name: p.voice for p in two_days.people.values()}
    assert lifegen.WEARER_VOICE not in voices.values()
    companions = [p.voice for p in two_days.companions]
    assert len(set(companions)) == len(companions)


def test_signs_are_large_enough_to_read() -> None:
    for place in lifegen.PLACES.values():
        width, height = lifegen.sign_text_size(place.sign)
        assert height >= 30 and width <= lifegen.WIDTH - 20, place.sign
        # The drawn sign: dark ink inside the white panel spans at least 30 px of rows.
        frame = np.full((lifegen.HEIGHT, lifegen.WIDTH, 3), 128, np.uint8)
        x0, y0, x1, y1 = lifegen.draw_sign(frame, place.sign)
        ink_rows = np.flatnonzero((frame[y0:y1, x0:x1].max(axis=2) < 80).any(axis=1))
        assert ink_rows.max() - ink_rows.min() + 1 >= 30, place.sign


def test_faces_are_visible_at_the_planned_size(one_day: tuple[LifeSpec, float]) -> None:
    life = one_day[0]
    detector = lifegen._face_detector()
    for rec in life.videos:
        capture = cv2.VideoCapture(str(life.out_dir / rec.file))  # type: ignore[operator]
        capture.set(cv2.CAP_PROP_POS_FRAMES, 30)
        ok, frame = capture.read()
        capture.release()
        assert ok, rec.file
        found = detector(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 0)
        assert len(found) == len(rec.people), rec.file
        assert all(100 <= f.height() <= 200 for f in found), [f.height() for f in found]


# -- determinism and cost -----------------------------------------------------------------------


def test_same_seed_same_life(tmp_path: Path, faces_dir: Path, one_day: tuple[LifeSpec, float]) -> None:
    first = one_day[0]
    again = generate_life(tmp_path / "again", faces_dir=faces_dir, seed=first.seed, days=1)
    for name in ("manifest.jsonl", "questions.jsonl"):
        assert (again.out_dir / name).read_bytes() == (first.out_dir / name).read_bytes()  # type: ignore[operator]
    assert [line.text for r in again.videos for line in r.lines] == [line.text for r in first.videos for line in r.lines]


def test_different_seeds_differ(faces_dir: Path) -> None:
    faces, stranger = lifegen.discover_faces(faces_dir)
    a, b = (plan_life(faces, stranger, seed=s, days=2) for s in (1, 2))
    assert a.manifest_text() != b.manifest_text()
    assert a.questions_text() != b.questions_text()
    assert [r.people for r in a.videos] != [r.people for r in b.videos]


def test_start_date_and_offset_are_honoured(faces_dir: Path) -> None:
    faces, stranger = lifegen.discover_faces(faces_dir)
    life = plan_life(faces, stranger, seed=7, days=3, start_date=date(2026, 5, 4), tz_offset_hours=-5)
    starts = [datetime.fromisoformat(r["start"]) for r in life.manifest_rows() if "start" in r]
    assert all(s.utcoffset() == timedelta(hours=-5) for s in starts)
    assert {s.date() for s in starts} == {date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)}
    assert all(q.query_time.utcoffset() == timedelta(hours=-5) for q in life.questions)


def test_refuses_to_write_into_a_used_folder(tmp_path: Path, faces_dir: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_life(tmp_path, faces_dir=faces_dir)


def test_cli_and_speed(tmp_path: Path, faces_dir: Path, one_day: tuple[LifeSpec, float]) -> None:
    assert one_day[1] < 30, f"a one-day life took {one_day[1]:.1f} s"
    out = tmp_path / "cli"
    repo = Path(lifegen.__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.lifegen", str(out), "--faces", str(faces_dir), "--seed", "5", "--days", "1"],
        capture_output=True,
        check=False,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert result.returncode == 0, result.stderr
    assert (out / "manifest.jsonl").is_file() and (out / "questions.jsonl").is_file()
