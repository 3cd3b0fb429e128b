"""The interface every event store implements (Qdrant Edge on disk now, a Qdrant server later)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from egomem.memory.events import Event
from egomem.types import GeoPoint


@dataclass(frozen=True)
class EventFilter:
    """Hard constraints on which events may be returned. Every field left None is unconstrained.

    `before` is exclusive and applies to the event's start: a question asked at time T may only
    see events that had started before T.
    """

    before: datetime | None = None
    after: datetime | None = None  # the event must end at or after this
    days: Sequence[str] | None = None  # any of these YYYY-MM-DD days
    people: Sequence[str] | None = None  # any of these display names
    place_name: str | None = None
    near: GeoPoint | None = None
    radius_m: float = 200.0
    recording_id: str | None = None


@dataclass(frozen=True)
class ScoredEvent:
    event: Event
    score: float


class EventStore(Protocol):
    def upsert(self, events: Sequence[Event]) -> None:
        """Insert or replace events by id. Events must carry a text vector."""

    def delete_recording(self, recording_id: str) -> None:
        """Remove every event of one recording."""

    def search_text(self, vector: Sequence[float], flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        """Nearest events by the text vector, best first."""

    def search_keywords(self, text: str, flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        """Best events by BM25 over caption, transcript and visible text."""

    def search_image(self, vector: Sequence[float], flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        """Nearest events by the image vector; events without one are never returned."""

    def events(self, flt: EventFilter | None = None, limit: int | None = None) -> list[Event]:
        """Events matching the filter, oldest first."""

    def get(self, ids: Sequence[str]) -> list[Event]:
        """Events by id; unknown ids are skipped."""

    def count(self, flt: EventFilter | None = None) -> int: ...

    def close(self) -> None: ...
