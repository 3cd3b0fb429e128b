"""Cut a short-term buffer into episodic events.

A boundary goes where a person would say "and then": the scene changed, or the talking stopped for
a while. Boundaries never split an utterance, events have a minimum and maximum length, and a
recording always yields at least one event.
"""

from __future__ import annotations

from dataclasses import dataclass

from egomem.memory.buffer import ShortTermBuffer
from egomem.perception.records import Utterance


@dataclass(frozen=True)
class SegmentationRules:
    pause_s: float = 90.0  # a silence this long between utterances ends an event
    max_s: float = 300.0
    min_s: float = 4.0
    scene_change: float = 0.35  # a keyframe whose change from the previous frame exceeds this is a cut


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float


def segment(buffer: ShortTermBuffer, rules: SegmentationRules) -> list[Span]:
    end = buffer.span_s
    if end <= 0:
        return [Span(0.0, 0.0)]  # a photo: one instant
    cuts = set(_scene_cuts(buffer, rules)) | set(_pause_cuts(buffer.utterances, rules.pause_s))
    cuts = {_outside_speech(t, buffer.utterances) for t in cuts}
    bounds = [0.0] + sorted(t for t in cuts if 0.0 < t < end) + [end]
    bounds = _enforce_max(bounds, buffer.utterances, rules.max_s)
    return _merge_short([Span(a, b) for a, b in zip(bounds, bounds[1:]) if b > a], rules.min_s)


def _scene_cuts(buffer: ShortTermBuffer, rules: SegmentationRules) -> list[float]:
    return [f.t_s for f in buffer.frames[1:] if f.is_keyframe and f.change >= rules.scene_change]


def _pause_cuts(utterances: list[Utterance], pause_s: float) -> list[float]:
    return [(a.end_s + b.start_s) / 2 for a, b in zip(utterances, utterances[1:]) if b.start_s - a.end_s >= pause_s]


def _outside_speech(t: float, utterances: list[Utterance]) -> float:
    """Move a cut that falls mid-sentence to the end of that sentence."""
    for u in utterances:
        if u.start_s < t < u.end_s:
            return u.end_s
    return t


def _enforce_max(bounds: list[float], utterances: list[Utterance], max_s: float) -> list[float]:
    out = [bounds[0]]
    for b in bounds[1:]:
        while b - out[-1] > max_s:
            out.append(_best_cut(out[-1], out[-1] + max_s, utterances))
        out.append(b)
    return out


def _best_cut(start: float, limit: float, utterances: list[Utterance]) -> float:
    """The latest speech pause in the second half of the window, else the window's end."""
    gaps = [u.end_s for u in utterances if start + (limit - start) / 2 <= u.end_s <= limit]
    return max(gaps) if gaps else limit


def _merge_short(spans: list[Span], min_s: float) -> list[Span]:
    merged: list[Span] = []
    for span in spans:
        if merged and (span.end_s - span.start_s < min_s or merged[-1].end_s - merged[-1].start_s < min_s):
            merged[-1] = Span(merged[-1].start_s, span.end_s)
        else:
            merged.append(span)
    return merged
