from datetime import datetime, timezone
from pathlib import Path

from egomem.media.recording import FactSource, MediaKind, Recording
from egomem.memory.buffer import ShortTermBuffer
from egomem.memory.segmenter import SegmentationRules, segment
from egomem.perception.records import FrameObservation, Utterance


def _buffer(duration: float, utterances: list[tuple[float, float]], cuts: list[float]) -> ShortTermBuffer:
    rec = Recording("r", Path("x.mp4"), MediaKind.VIDEO, datetime(2026, 3, 2, 9, tzinfo=timezone.utc), duration, True, True, FactSource.MANIFEST)
    buf = ShortTermBuffer(rec)
    buf.add_utterances([Utterance(a, b, "words") for a, b in utterances])
    for t in range(int(duration)):
        cut = t in cuts
        buf.add_frame(FrameObservation(float(t), is_keyframe=t == 0 or cut, change=0.9 if cut else 0.01))
    return buf


def test_a_scene_change_cuts_but_never_inside_a_sentence() -> None:
    buf = _buffer(60, [(5, 12), (28, 35)], cuts=[30])
    spans = segment(buf, SegmentationRules(pause_s=90, max_s=300, min_s=4))
    assert [(s.start_s, s.end_s) for s in spans] == [(0, 35), (35, 60)]


def test_a_long_pause_in_speech_cuts() -> None:
    buf = _buffer(200, [(5, 10), (150, 160)], cuts=[])
    spans = segment(buf, SegmentationRules(pause_s=60, max_s=300, min_s=4))
    assert [(s.start_s, s.end_s) for s in spans] == [(0, 80), (80, 200)]


def test_events_have_a_maximum_length_and_short_pieces_join_a_neighbour() -> None:
    buf = _buffer(700, [], cuts=[698])
    spans = segment(buf, SegmentationRules(pause_s=90, max_s=300, min_s=4))
    assert all(s.end_s - s.start_s <= 300 for s in spans[:-1])
    assert spans[-1].end_s == 700 and spans[-1].end_s - spans[-1].start_s >= 4
    assert [s.start_s for s in spans] == sorted(s.start_s for s in spans)
    assert all(a.end_s == b.start_s for a, b in zip(spans, spans[1:]))


def test_a_still_recording_is_one_event() -> None:
    assert len(segment(_buffer(40, [(1, 3)], cuts=[]), SegmentationRules())) == 1
