"""The interface every event store implements (Qdrant Edge on disk now, a Qdrant server later)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from egomem.memory.events import Event
from egomem.memory.facts import FactKind, FactStatus
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


@dataclass(frozen=True)
class FactFilter:
    """Hard constraints on which facts may be returned. Every field left None is unconstrained.

    `said_before` is exclusive (a question asked at T sees facts said before T). Superseded facts are
    left out unless `include_superseded`; with `said_before` set, a fact superseded only at or after
    that moment still counts as current, so a question asked in the past sees the plan as it stood.
    """

    said_before: datetime | None = None
    said_after: datetime | None = None  # inclusive
    target_after: datetime | None = None  # the target starts at or after this
    target_before: datetime | None = None  # the target starts before this
    kinds: Sequence[FactKind] | None = None
    statuses: Sequence[FactStatus] | None = None  # the status now
    include_superseded: bool = False
    recording_id: str | None = None
    people: Sequence[str] | None = None  # any of these present, speaking or spoken to
    event_ids: Sequence[str] | None = None
    subject_words: Sequence[str] | None = None  # any of these content words (see `content_words`)
