"""What egomem knows about one recording before perceiving it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from egomem.types import GeoPoint


class MediaKind(str, Enum):
    VIDEO = "video"
    AUDIO = "audio"
    PHOTO = "photo"


class FactSource(str, Enum):
    """Where a start time or a position came from, so answers can say how sure they are."""

    MANIFEST = "manifest"
    CONTAINER = "container"
    INGEST_TIME = "ingest_time"  # no metadata at all: the time egomem first saw the file
    NONE = "none"


@dataclass(frozen=True)
class Recording:
    """One media file with its wall-clock start, place and identity.

    `id` is derived from the file's content (sha256), so the same bytes ingested twice,
    under any name, are recognised as the same recording.
    """

    id: str
    path: Path
    kind: MediaKind
    start: datetime  # timezone-aware wall-clock time of the first frame / sample
    duration_s: float  # 0.0 for a photo
    has_audio: bool
    has_video: bool
    start_source: FactSource
    location: GeoPoint | None = None
    location_source: FactSource = FactSource.NONE
    device: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)  # what could not be determined, said plainly

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    def at(self, offset_s: float) -> datetime:
        """Wall-clock time of an offset into the recording."""
        return self.start + timedelta(seconds=offset_s)
