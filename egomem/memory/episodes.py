"""Turn segmented spans of a short-term buffer into episodic events."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np

from egomem.memory.buffer import ShortTermBuffer
from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote
from egomem.memory.segmenter import Span
from egomem.perception.ocr import dedupe_texts

_EVENT_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4b7a-9a51-3c2f0e4d9b10")
KEYFRAMES_PER_EVENT = 4


def event_id(recording_id: str, index: int) -> str:
    """Stable across re-ingests of the same bytes, so a re-ingest replaces instead of duplicating."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{recording_id}/{index}"))


def build_events(buffer: ShortTermBuffer, spans: list[Span], place: Place | None) -> list[Event]:
    rec = buffer.recording
    events: list[Event] = []
    for index, span in enumerate(spans):
        last = index == len(spans) - 1
        inside = lambda t: span.start_s <= t < span.end_s or (last and t == span.end_s)  # noqa: E731
        quotes = [
            Quote(rec.at(u.start_s), rec.at(u.end_s), u.text, u.speaker)
            for u in buffer.utterances
            if inside((u.start_s + u.end_s) / 2)
        ]
        frames = [f for f in buffer.frames if inside(f.t_s)]
        people, identity_ids = _people(frames)
        visible_text = dedupe_texts([t.text for f in frames for t in f.texts])
        keyframes = [f.thumbnail for f in frames if f.thumbnail][:KEYFRAMES_PER_EVENT]
        embeddings = [f.image_embedding for f in frames if f.image_embedding is not None]
        events.append(
            Event(
                id=event_id(rec.id, index),
                recording_id=rec.id,
                source=str(rec.path),
                start=rec.at(span.start_s),
                end=rec.at(span.end_s),
                place=place,
                people=people,
                identity_ids=identity_ids,
                quotes=quotes,
                visible_text=visible_text,
                caption=compose_caption(place, people, visible_text, quotes, []),
                keyframes=keyframes,
                image_vector=_mean_direction(embeddings),
            )
        )
    return events


def _people(frames: list) -> tuple[list[str], list[str]]:
    """Identities seen in the span, most frequently seen first, each with its display name."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for frame in frames:
        for face in {f.identity_id: f for f in frame.faces if f.identity_id}.values():
            counts[face.identity_id] += 1
            names[face.identity_id] = face.name or face.identity_id
    ordered = [i for i, _ in counts.most_common()]
    return [names[i] for i in ordered], ordered


def _mean_direction(vectors: list[np.ndarray]) -> list[float] | None:
    if not vectors:
        return None
    mean = np.mean(np.stack(vectors), axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32).tolist() if norm > 0 else None
