"""The episodic event: the unit egomem stores, retrieves and cites."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from egomem.types import GeoPoint

# Day-level summaries are stored as events of this pseudo-recording, beside the moments they summarise.
DAY_SUMMARY_RECORDING = "day-summary"


@dataclass(frozen=True)
class Place:
    """Where an event happened: a position, a name, or both.

    `source` says where the name (or, for "visual", the position) came from: "user" (a place the
    wearer named), "sign" (text read in view on some visit), "speech" ("welcome to ..."), or
    "visual" (a recording without GPS placed by how it looks); None for a bare GPS position.
    """

    name: str | None = None
    point: GeoPoint | None = None
    source: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.point:
            return f"{self.point.lat:.5f},{self.point.lon:.5f}"
        return "unknown place"


@dataclass(frozen=True)
class Quote:
    """A transcribed utterance inside an event, in wall-clock time."""

    start: datetime
    end: datetime
    text: str
    speaker: str | None = None


@dataclass
class Event:
    """A stretch of one recording that hangs together: one place, one scene, one conversation.

    `id` is deterministic (recording id + position), so re-ingesting a recording overwrites its
    events instead of duplicating them. Vectors are attached by the embedder before storing.
    """

    id: str
    recording_id: str
    source: str  # path of the recording as it was ingested
    start: datetime  # timezone-aware
    end: datetime
    place: Place | None = None
    people: list[str] = field(default_factory=list)  # display names, e.g. "obama" or "person-3"
    identity_ids: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    visible_text: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # zero-shot scene tags, when CLIP ran
    caption: str = ""
    keyframes: list[str] = field(default_factory=list)  # thumbnail paths, relative to the thumbnails dir
    text_vector: list[float] | None = None
    image_vector: list[float] | None = None

    @property
    def day(self) -> str:
        """Local calendar day of the start, in the recording's own UTC offset."""
        return self.start.date().isoformat()

    @property
    def transcript(self) -> str:
        return " ".join(q.text.strip() for q in self.quotes if q.text.strip())

    @property
    def document(self) -> str:
        """The text that text search indexes: caption, speech and what was read in view."""
        parts = [self.caption, self.transcript, " ".join(self.visible_text)]
        return "\n".join(p for p in parts if p)
