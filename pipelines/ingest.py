"""The ingest pipeline: recordings in, episodic events in the store out.

media -> perception (speech in a worker thread, vision on the sampled frames) -> short-term buffer
-> segmentation -> events -> text/image vectors -> store. One failing recording never stops the
batch: it is recorded in the catalog with its reason and the rest go on.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from egomem.errors import EgomemError, MediaError
from egomem.media.decode import iter_frames, load_audio
from egomem.media.readahead import ReadAhead
from egomem.media.recording import Recording
from egomem.media.sources import IngestItem, build_recording, collect, in_local_offset, read_life_folder
from egomem.memory.buffer import ShortTermBuffer
from egomem.memory.episodes import build_events
from egomem.memory.events import Event, Place
from egomem.memory.segmenter import SegmentationRules, segment
from egomem.perception.records import FaceObservation, FrameObservation, StageReport, Utterance
from egomem.perception.scene import SceneChangeDetector, StillnessGate
from egomem.runtime import Runtime
from egomem.store.voices import WearerVoiceBook

THUMBNAIL_WIDTH = 320
FRAMES_AHEAD = 4  # decoded frames waiting for the vision loop (a 640x360 frame is 0.7 MB)


class Outcome(str, Enum):
    INGESTED = "ingested"
    SKIPPED = "skipped"  # already in memory
    FAILED = "failed"


@dataclass
class RecordingResult:
    path: Path
    outcome: Outcome
    message: str = ""
    recording: Recording | None = None
    events: list[Event] = field(default_factory=list)
    stages: list[StageReport] = field(default_factory=list)


ProgressFactory = Callable[[str, float], "Progress"]
# What the speech worker returns: utterances, its stage report, and the 16 kHz audio (None when undecodable).
Heard = tuple[list[Utterance], StageReport, "np.ndarray | None"]


class Progress:
    """Per-recording progress in recorded seconds; the CLI plugs a tqdm bar in here."""

    def update(self, seconds: float) -> None: ...

    def close(self) -> None: ...


class _Advance:
    """Turns "reached second t" reports into the increments a progress bar counts."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.reached = 0.0

    def __call__(self, t_s: float) -> None:
        if t_s > self.reached:
            self.bar.update(t_s - self.reached)
            self.reached = t_s


class _StageClock:
    """Accumulates wall time, item counts and skipped failures per stage over one recording."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._reports: dict[str, StageReport] = {}
        self._current: StageReport | None = None
        self._started = 0.0

    def __call__(self, stage: str) -> "_StageClock":
        self._current = self._reports.setdefault(stage, StageReport(stage, True, device=self.device))
        return self

    def __enter__(self) -> "_StageClock":
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._current is not None
        self._current.seconds += time.perf_counter() - self._started
        self._current.items += 1

    def guard(self, work: Callable[[], Any], fallback: Any) -> Any:
        """Run one item of the stage; a failure on one frame skips that frame, never the recording."""
        try:
            return work()
        except Exception:  # noqa: BLE001 - a model choking on one odd frame must not lose the recording
            assert self._current is not None
            self._current.errors += 1
            return fallback

    def reports(self) -> list[StageReport]:
        return list(self._reports.values())


def _has_video_and_audio(rec: Recording) -> bool:
    return rec.has_video and rec.has_audio


class Ingestor:
    def __init__(self, runtime: Runtime, *, progress: ProgressFactory | None = None, force: bool = False) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.force = force
        self.notices: list[str] = []  # things the person should know that are not one recording's outcome
        self._progress = progress or (lambda name, total: Progress())
        self.rules = SegmentationRules(
            pause_s=self.settings.event_gap_s,
            max_s=self.settings.event_max_s,
            min_s=self.settings.event_min_s,
            scene_change=self.settings.scene_change,
        )

    def ingest(self, paths: Sequence[Path]) -> list[RecordingResult]:
        """Ingest a batch in order. Speech runs one recording ahead of vision, so that neither waits
        for the other at each recording's end (with short recordings that idled a core half the time)."""
        self._enrol_life_people(paths)
        prepared: list[Recording | RecordingResult] = []
        batch: dict[str, Path] = {}
        for item in collect(paths):  # probing is cheap: do it for the whole batch first
            outcome = self._prepare(item)
            if isinstance(outcome, Recording) and outcome.id in batch:
                outcome = RecordingResult(item.path, Outcome.SKIPPED, f"same recording as {batch[outcome.id]}", outcome)
            elif isinstance(outcome, Recording):
                batch[outcome.id] = item.path
            prepared.append(outcome)
        localised = iter(in_local_offset([r for r in prepared if isinstance(r, Recording)]))
        prepared = [next(localised) if isinstance(r, Recording) else r for r in prepared]
        results: list[RecordingResult] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech") as speech_worker:
            ahead: dict[int, Future[Heard]] = {}
            for i, entry in enumerate(prepared):
                if isinstance(entry, RecordingResult):
                    results.append(entry)
                    continue
                # A video's progress follows its frames, so its speech may run on the worker at any time;
                # an audio-only recording's progress follows its speech, which runs with its own bar.
                mine = ahead.pop(id(entry), None)
                if mine is None and _has_video_and_audio(entry):
                    mine = speech_worker.submit(self._transcribe, entry, None)
                following = next((r for r in prepared[i + 1 :] if isinstance(r, Recording)), None)
                if entry.has_video and following is not None and _has_video_and_audio(following):
                    ahead[id(following)] = speech_worker.submit(self._transcribe, following, None)  # queued behind `mine`
                results.append(self._perceive_and_store(entry, mine))
        self._update_places(results)
        return results

    def ingest_item(self, item: IngestItem) -> RecordingResult:
        outcome = self._prepare(item)
        result = outcome if isinstance(outcome, RecordingResult) else self._perceive_and_store(outcome)
        self._update_places([result])
        return result

    def _update_places(self, results: list[RecordingResult]) -> None:
        """Places over all of memory after a batch: new visits named, old ones renamed (pipelines/places.py)."""
        from pipelines.places import update_memory_places

        new = {r.recording.id for r in results if r.outcome is Outcome.INGESTED and r.recording is not None}
        if not new:
            return
        try:
            self.notices.extend(update_memory_places(self.rt, new).notices)
        except (EgomemError, OSError) as exc:  # the batch is stored; places catch up on the next one
            self.notices.append(f"places were not updated: {exc}")

    def _prepare(self, item: IngestItem) -> Recording | RecordingResult:
        """The recording to perceive, or the result that says why there is nothing to do."""
        try:
            recording = build_recording(item.path, item.entry, now=datetime.now(timezone.utc).astimezone())
        except MediaError as exc:
            self.rt.catalog.record_failure(item.path, exc.reason)
            return RecordingResult(item.path, Outcome.FAILED, exc.reason)
        known = self.rt.catalog.get(recording.id)
        if known and known.status.value == "done" and not self.force:
            return RecordingResult(item.path, Outcome.SKIPPED, f"already ingested as {known.path}", recording)
        return recording

    def _perceive_and_store(self, recording: Recording, speech: Future[Heard] | None = None) -> RecordingResult:
        try:
            events, stages = self._perceive(recording, speech)
        except MediaError as exc:
            self.rt.catalog.record_failure(recording.path, exc.reason, recording)
            return RecordingResult(recording.path, Outcome.FAILED, exc.reason, recording)

        self.rt.store.delete_recording(recording.id)  # a re-ingest may cut differently
        self.rt.store.upsert(events)
        stages.append(self._remember_facts(events))
        report = [vars(s) for s in stages]
        self.rt.catalog.record_done(recording, len(events), report)
        return RecordingResult(recording.path, Outcome.INGESTED, f"{len(events)} events", recording, events, stages)

    def _remember_facts(self, events: list[Event]) -> StageReport:
        """Plans, requests, promises, purchases... said in the stored events (pipelines/facts.py); never fatal."""
        from pipelines.facts import remember_facts

        started = time.perf_counter()
        try:
            facts = remember_facts(self.rt.store, self.rt.text_embedder.embed, events)
        except (EgomemError, ValueError) as exc:  # the events are stored; facts are a refinement
            return StageReport("facts", False, f"facts not stored: {exc}", time.perf_counter() - started, errors=1)
        return StageReport("facts", True, f"{len(facts)} facts", time.perf_counter() - started, len(facts))

    # -- perception ---------------------------------------------------------------------------

    def _perceive(self, rec: Recording, speech: Future[Heard] | None = None) -> tuple[list[Event], list[StageReport]]:
        """Perceive one recording; `speech` is its transcription when already started ahead."""
        buffer = ShortTermBuffer(rec)
        stages: list[StageReport] = []
        bar = self._progress(rec.path.name, max(rec.duration_s, 1.0))
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech") as pool:
                # Progress follows the frames of a video; an audio-only recording follows the speech.
                if speech is None and rec.has_audio:
                    speech = pool.submit(self._transcribe, rec, None if rec.has_video else _Advance(bar))
                vision_reports, vision_error = self._see(rec, buffer, bar)
                stages.extend(vision_reports)
                if speech is not None:
                    utterances, speech_report, audio = speech.result()
                    stages.append(speech_report)
                    if utterances and audio is not None:  # after vision: who spoke is read off the faces too
                        utterances, speakers_report = self._attribute_speakers(rec, utterances, audio, buffer.frames)
                        stages.append(speakers_report)
                    buffer.add_utterances(utterances)
                else:
                    stages.append(StageReport("speech", False, "no audio stream"))
        finally:
            bar.close()

        if vision_error and not buffer.utterances:
            raise vision_error  # nothing at all could be read from this file
        spans = segment(buffer, self.rules)
        point = rec.location
        place = Place(self.rt.places.name_for(point), point) if point else None
        events = build_events(buffer, spans, place)
        stages.append(self._name_people(events))
        stages.append(self._caption(events))
        started = time.perf_counter()
        vectors = self.rt.text_embedder.embed([e.document for e in events])
        for event, vector in zip(events, vectors):
            event.text_vector = vector.tolist()
        stages.append(StageReport("embed", True, f"{len(events)} events", time.perf_counter() - started, len(events), self.rt.device))
        return events, stages

    def _name_people(self, events: list[Event]) -> StageReport:
        """Names heard in what was said ("I'm Ines", "thanks, Ines"): proposed, never fatal."""
        from egomem.people import name_from_speech

        started = time.perf_counter()
        try:
            taken = name_from_speech(self.rt, events)
        except Exception as exc:  # noqa: BLE001 - a name is a refinement; losing it must not lose the recording
            return StageReport("naming", False, f"naming failed: {exc}", time.perf_counter() - started, errors=1)
        detail = ", ".join(f"{p.identity_id or p.voice} heard as {p.name}" for p in taken) or "no names heard"
        return StageReport("naming", True, detail, time.perf_counter() - started, len(taken))

    def _caption(self, events: list[Event]) -> StageReport:
        """Zero-shot scene tags when CLIP is loaded, then one batched call to the caption backend."""
        from egomem.perception.captioning import CaptionInput

        started = time.perf_counter()
        captioner = self.rt.captioner
        items = []
        for event in events:
            embedding = np.asarray([event.image_vector], np.float32) if event.image_vector else None
            if self.rt.tagger is not None and embedding is not None:
                event.tags = self.rt.tagger.tag_scene(image_embeddings=embedding)
            keyframes = []
            if captioner.uses_keyframes:  # the composed caption never looks at them: spare reading every thumbnail
                keyframes = [img for rel in event.keyframes if (img := cv2.imread(str(self.settings.thumbnails_dir / rel))) is not None]
            items.append(CaptionInput.from_event(event, keyframes, image_embeddings=embedding))
        for event, caption in zip(events, captioner.caption(items)):
            event.caption = caption
        failures = list(getattr(captioner, "last_errors", []))
        detail = captioner.name + (f"; fell back to the composed caption for {len(failures)}: {failures[0].reason}" if failures else "")
        return StageReport("caption", True, detail, time.perf_counter() - started, len(events), errors=len(failures))

    def _transcribe(self, rec: Recording, progress: Callable[[float], None] | None) -> Heard:
        """Utterances, the stage report, and the 16 kHz audio they came from (for speaker attribution)."""
        started = time.perf_counter()
        device = self.rt.device
        try:
            audio = load_audio(rec.path)
        except MediaError as exc:
            return [], StageReport("speech", False, f"audio could not be decoded: {exc.reason}", time.perf_counter() - started, device=device), None
        transcript = self.rt.speech.transcribe(audio, language=self.settings.language, on_progress=progress)
        detail = f"{len(transcript.utterances)} utterances, language {transcript.language}"
        seconds_of_audio = int(audio.size / 16_000)
        return transcript.utterances, StageReport("speech", True, detail, time.perf_counter() - started, seconds_of_audio, device), audio

    def _attribute_speakers(
        self, rec: Recording, utterances: list[Utterance], audio: np.ndarray, frames: list[FrameObservation]
    ) -> tuple[list[Utterance], StageReport]:
        """Who said each utterance (the wearer, a face in view, or a numbered voice); never fatal.

        The wearer's voice on this recording's device is learned from, and used for, each recording.
        """
        from egomem.perception.speakers import attribute_speakers

        started = time.perf_counter()
        try:
            voices: WearerVoiceBook | None = self.rt.wearer_voices
        except EgomemError as exc:  # an unreadable voice file: attribute without it, and say so
            voices, problem = None, str(exc)
        try:
            result = attribute_speakers(utterances, audio, frames, wearer_voice=voices.get(rec.device) if voices else None)
        except Exception as exc:  # noqa: BLE001 - who spoke refines the transcript; losing it must not lose the recording
            report = StageReport("speakers", False, f"speaker attribution failed: {exc}", time.perf_counter() - started, errors=1)
            return utterances, report
        detail = result.describe()
        if voices is None:
            detail += f"; {problem}"
        else:
            try:
                voices.learn(rec.device, result.wearer_prints)
            except OSError as exc:
                detail += f"; the wearer's voice could not be saved: {exc}"
        return result.utterances, StageReport("speakers", True, detail, time.perf_counter() - started, len(utterances))

    def _see(self, rec: Recording, buffer: ShortTermBuffer, bar: Progress) -> tuple[list[StageReport], MediaError | None]:
        """Frames at a low rate: scene changes, faces on sampled frames, OCR and thumbnails on keyframes.

        ffmpeg decodes a few frames ahead in a thread of its own while the models look at the last one
        (and speech runs beside all this). Faces and OCR share this thread: on 2 cores, already busy
        with speech, OCR on a thread of its own was slower (BENCHMARKS.md).
        """
        if not rec.has_video:
            return [StageReport("vision", False, "no video stream")], None
        clock = _StageClock(self.rt.device)
        scenes = SceneChangeDetector(self.settings.scene_change)
        keyframes: list[tuple[FrameObservation, np.ndarray]] = []
        error: MediaError | None = None
        advance = _Advance(bar)
        next_face_t = 0.0
        stillness = StillnessGate(max_reuse_s=self.settings.face_reuse_s)
        last_faces: list[FaceObservation] = []
        faces_reused = 0
        try:
            with ReadAhead(iter_frames(rec.path, self.settings.frame_rate, self.settings.frame_width), FRAMES_AHEAD, "decode") as frames:
                while True:
                    with clock("decode"):  # time spent waiting for a decoded frame
                        item = next(frames, None)
                    if item is None:
                        break
                    t_s, frame = item
                    is_key, change = scenes.update(t_s, frame)
                    observation = FrameObservation(t_s=t_s, is_keyframe=is_key, change=change)
                    if self.rt.faces is not None and (t_s >= next_face_t or is_key):
                        next_face_t = t_s + 1.0 / self.settings.face_rate
                        with clock("faces") as faces_clock:
                            if stillness.is_still(t_s, frame, force_search=is_key):
                                observation.faces = list(last_faces)  # nothing moved: the same people are there
                                faces_reused += 1
                            else:
                                observation.faces = last_faces = faces_clock.guard(lambda: self._faces(frame), [])
                    if is_key:
                        if self.rt.ocr is not None:
                            with clock("ocr") as ocr_clock:
                                observation.texts = ocr_clock.guard(lambda: self.rt.ocr.read(frame), [])
                        observation.thumbnail = self._save_thumbnail(rec, t_s, frame)
                        keyframes.append((observation, frame))
                    buffer.add_frame(observation)
                    advance(t_s)
        except MediaError as exc:
            error = exc  # frames read before the failure are kept
        if self.rt.clip is not None and keyframes:
            with clock("clip") as clip_clock:
                clip_clock.guard(lambda: self._embed_keyframes(keyframes), None)
        if not buffer.frames and error:
            return [StageReport("decode", False, f"frames could not be decoded: {error.reason}")], error
        reports = clock.reports()
        decode = reports[0]
        decode.items = len(buffer.frames)
        decode.detail = f"{len(buffer.frames)} frames, {len(keyframes)} keyframes (seconds: vision waiting for frames)"
        if error:
            decode.detail += f"; decoding stopped early: {error.reason}"
        for report in reports[1:]:
            report.detail = {"faces": f"{sum(len(f.faces) for f in buffer.frames)} faces ({faces_reused} frames still: the last search reused)", "ocr": f"{sum(len(f.texts) for f in buffer.frames)} texts read",
                             "clip": f"{len(keyframes)} keyframes embedded"}.get(report.stage, "")
            if report.errors:
                report.detail += f"; failed on {report.errors} frames, which were skipped"
        return reports, None

    def _faces(self, frame: np.ndarray) -> list[FaceObservation]:
        from egomem.people import face_crop

        observations = []
        for box, descriptor in self.rt.faces.analyze(frame):
            match = self.rt.identities.identify(descriptor, crop=face_crop(frame, box))
            observations.append(FaceObservation(box, descriptor, match.identity_id, match.name, match.distance))
        return observations

    def _embed_keyframes(self, keyframes: list[tuple[FrameObservation, np.ndarray]]) -> None:
        vectors = self.rt.clip.embed_images([frame for _, frame in keyframes])
        for (observation, _), vector in zip(keyframes, vectors):
            observation.image_embedding = vector

    def _save_thumbnail(self, rec: Recording, t_s: float, frame: np.ndarray) -> str:
        relative = Path(rec.id) / f"{int(round(t_s * 1000)):09d}.jpg"
        target = self.settings.thumbnails_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        h, w = frame.shape[:2]
        if w > THUMBNAIL_WIDTH:
            frame = cv2.resize(frame, (THUMBNAIL_WIDTH, int(h * THUMBNAIL_WIDTH / w) // 2 * 2), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(target), frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return relative.as_posix()

    # -- people -------------------------------------------------------------------------------

    def _enrol_life_people(self, paths: Sequence[Path]) -> None:
        """A life folder may carry photos the wearer labelled; enrol them before perceiving."""
        if self.rt.faces is None:
            return
        from egomem.people import enroll_people_dir

        for path in paths:
            if (Path(path) / "manifest.jsonl").is_file():
                life = read_life_folder(Path(path))
                if life.people_dir is not None:
                    try:
                        for result in enroll_people_dir(self.rt.faces, self.rt.identities, life.people_dir):
                            self.notices.append(result.summary())
                    except EgomemError as exc:  # a bad labelled photo must not block the recordings
                        self.notices.append(f"people in {life.people_dir} not enrolled: {exc}")
