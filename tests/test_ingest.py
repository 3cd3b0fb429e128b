"""Ingest real recordings with the real models into a real Qdrant Edge shard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.ingest import Ingestor, Outcome


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    text = folder / "notes.mp4"
    text.write_text("shopping list: oat milk, batteries\n" * 50)
    clip = (shared_data / "media" / "short_hamilton_clip.mp4").read_bytes()
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(clip[: len(clip) // 3])
    return {"empty": empty, "text": text, "corrupt": corrupt}


@pytest.fixture(scope="module")
def ingested(models, tmp_path_factory: pytest.TempPathFactory, shared_data: Path, bad_files: dict[str, Path]):
    """One memory holding jfk.flac and the Hamilton clip, ingested in a batch with three bad files."""
    from egomem.config import Settings
    from egomem.runtime import Runtime

    rt = Runtime(Settings.load(env={}, home=tmp_path_factory.mktemp("memory")), models)
    media = shared_data / "media"
    paths = [bad_files["empty"], media / "jfk.flac", bad_files["text"], media / "short_hamilton_clip.mp4", bad_files["corrupt"]]
    results = {r.path.name: r for r in Ingestor(rt).ingest(paths)}
    yield rt, results
    rt.close()


def test_good_recordings_are_ingested_and_bad_ones_fail_with_reasons(ingested) -> None:
    _, results = ingested
    assert results["jfk.flac"].outcome is Outcome.INGESTED
    assert results["short_hamilton_clip.mp4"].outcome is Outcome.INGESTED
    assert results["empty.mp4"].outcome is Outcome.FAILED and "empty" in results["empty.mp4"].message
    assert results["notes.mp4"].outcome is Outcome.FAILED and "not a media file" in results["notes.mp4"].message
    assert results["corrupt.mp4"].outcome is Outcome.FAILED and results["corrupt.mp4"].message


def test_speech_is_stored_as_events_with_times(ingested) -> None:
    rt, results = ingested
    jfk = results["jfk.flac"].recording
    events = rt.store.events()
    jfk_events = [e for e in events if e.recording_id == jfk.id]
    assert len(jfk_events) == 1
    event = jfk_events[0]
    assert "ask not what your country can do for you" in event.transcript.lower()
    assert event.start == jfk.start and abs((event.end - event.start).total_seconds() - jfk.duration_s) < 0.5
    assert event.quotes[0].start >= jfk.start
    assert "no start time" in " ".join(jfk.notes) and "no GPS position" in " ".join(jfk.notes)
    assert len(event.text_vector or []) == 384


def test_video_gets_frames_faces_and_keyframe_thumbnails(ingested) -> None:
    rt, results = ingested
    rec = results["short_hamilton_clip.mp4"].recording
    events = [e for e in rt.store.events() if e.recording_id == rec.id]
    assert events, "the video produced no events"
    assert any(e.people for e in events), "the face in the clip was not seen"
    assert all(not any(p in ("obama", "biden") for p in e.people) for e in events)  # nobody enrolled: no names
    thumbs = [k for e in events for k in e.keyframes]
    assert thumbs and all((rt.settings.thumbnails_dir / k).is_file() for k in thumbs)
    stages = {s.stage: s for s in results["short_hamilton_clip.mp4"].stages}
    assert {"decode", "faces", "ocr", "speech", "embed"} <= set(stages)
    assert all(s.ran and s.errors == 0 for s in stages.values())
    assert stages["decode"].items == pytest.approx(rec.duration_s * rt.settings.frame_rate, abs=2)
    # faces at their own, lower rate (plus every keyframe); OCR on keyframes only
    assert stages["decode"].items * rt.settings.face_rate / rt.settings.frame_rate <= stages["faces"].items < stages["decode"].items
    assert 1 <= stages["ocr"].items < stages["decode"].items


def test_reingesting_the_same_bytes_duplicates_nothing(ingested, shared_data: Path, tmp_path: Path) -> None:
    rt, _ = ingested
    before = rt.store.count()
    renamed = tmp_path / "same_speech_other_name.flac"
    shutil.copyfile(shared_data / "media" / "jfk.flac", renamed)
    again = Ingestor(rt).ingest([renamed, shared_data / "media" / "jfk.flac"])
    assert [r.outcome for r in again] == [Outcome.SKIPPED, Outcome.SKIPPED]
    # Forced, the same bytes twice in one batch: perceived once, the second named as the same recording.
    forced = Ingestor(rt, force=True).ingest([shared_data / "media" / "jfk.flac", renamed])
    assert [r.outcome for r in forced] == [Outcome.INGESTED, Outcome.SKIPPED]
    assert forced[1].message == f"same recording as {shared_data / 'media' / 'jfk.flac'}"
    assert rt.store.count() == before


def test_failures_are_kept_in_the_catalog_and_memory_stays_queryable(ingested) -> None:
    rt, _ = ingested
    failed = {Path(p).name: reason for p, reason in rt.catalog.failures().items()}
    failed.update({Path(e.path).name: e.error for e in rt.catalog.entries() if e.status.value == "failed"})
    assert set(failed) == {"empty.mp4", "notes.mp4", "corrupt.mp4"}
    from datetime import datetime, timedelta, timezone

    from egomem.reasoning.reasoner import Reasoner

    answer = Reasoner(rt.store, rt.text_embedder).ask("What should I ask about my country?", datetime.now(timezone.utc) + timedelta(minutes=5))
    assert not answer.abstained
    assert "country" in answer.text.lower()


def test_a_stage_failing_on_some_frames_and_silent_audio_lose_nothing(models, make_runtime, shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    """OCR and faces raise on some frames; the soundtrack is silence."""
    import subprocess

    clip = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(shared_data / "media" / "short_hamilton_clip.mp4"), "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
         "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "copy", "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    calls = {"ocr": 0, "faces": 0}
    read, analyze = models.ocr.read, models.faces.analyze

    def flaky(stage: str, work):
        def run(frame):
            calls[stage] += 1
            if calls[stage] % 2 == 1:  # the 1st, 3rd, ... frame chokes the model
                raise RuntimeError(f"{stage} choked")
            return work(frame)
        return run

    monkeypatch.setattr(models.ocr, "read", flaky("ocr", read))
    monkeypatch.setattr(models.faces, "analyze", flaky("faces", analyze))
    rt = make_runtime(tmp_path / "home")
    [result] = Ingestor(rt).ingest([clip])
    assert result.outcome is Outcome.INGESTED, result.message
    stages = {s.stage: s for s in result.stages}
    for stage in ("ocr", "faces"):
        assert stages[stage].errors == (calls[stage] + 1) // 2 > 0, stages[stage]
        assert f"failed on {stages[stage].errors} frames, which were skipped" in stages[stage].detail
    assert stages["speech"].ran and stages["speech"].detail.startswith("0 utterances")
    texts = [t for e in result.events for t in e.visible_text]
    assert any("GOV" in t.upper() for t in texts)  # the keyframes OCR did read kept their text
    assert result.events and rt.store.stats()["events"] == len(result.events)


def test_an_open_question_about_real_speech_is_answered_with_the_words_that_answer(ingested) -> None:
    """On the real JFK recording the answer is what he asked, not the clause that addresses his audience."""
    from datetime import datetime, timedelta, timezone

    rt, _ = ingested
    answer = rt.reasoner.ask("What did the speaker ask his fellow Americans?", datetime.now(timezone.utc) + timedelta(minutes=5))
    first_line = answer.text.split("(")[0].lower()
    assert "ask not what your country can do for you" in first_line and "ask what you can do for your country" in first_line, answer.text
    assert "fellow americans" not in first_line
    assert answer.evidence and answer.evidence[0].quote


@pytest.mark.parametrize(
    ("question", "says"),
    [("", "ask me something"), ("   ", "ask me something"), ("¿Qué me pidió Alicia que comprara ayer?", "english"),
     ("Qu'est-ce que Alice m'a demandé d'acheter ?", "english")],
)
def test_bad_questions_get_a_clear_refusal(ingested, question: str, says: str) -> None:
    from datetime import datetime, timezone

    rt, _ = ingested
    answer = rt.reasoner.ask(question, datetime.now(timezone.utc))
    assert answer.abstained and says in answer.text.lower()


def test_odd_questions_never_crash(ingested) -> None:
    from datetime import datetime, timezone

    rt, _ = ingested
    now = datetime.now(timezone.utc)
    long = rt.reasoner.ask("What did he say about the country? " + "word " * 2500, now)  # 10 kB
    assert "country" in long.text.lower()
    for question in ("2026-03-03", "yesterday", "?", "how many", "who"):
        assert rt.reasoner.ask(question, now, {"A": "1", "B": "none of these"}).text
