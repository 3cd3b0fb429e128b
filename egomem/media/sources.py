"""Finding what to ingest: life folders (manifest.jsonl), plain folders and single files.

See the life folder format in the project's life-benchmark spec: a manifest line says which file,
when it started, on which device and where; a manifest value wins over the container's metadata.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

from egomem.errors import MediaError
from egomem.media.probe import probe
from egomem.media.recording import FactSource, Recording
from egomem.types import GeoPoint

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv"})
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".m4a", ".mp3", ".ogg", ".opus"})
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
SUPPORTED_SUFFIXES = VIDEO_SUFFIXES | AUDIO_SUFFIXES | PHOTO_SUFFIXES

MANIFEST_NAME = "manifest.jsonl"
_HASH_CHUNK = 1 << 20
_ID_HEX_CHARS = 32

NO_START_NOTE = "no start time in manifest or container metadata; using ingest time"
NO_LOCATION_NOTE = "no GPS position in manifest or container metadata"


class ManifestError(MediaError):
    """A life folder's manifest.jsonl cannot be used; the reason names the line."""


@dataclass(frozen=True)
class ManifestEntry:
    file: Path  # absolute
    start: datetime | None  # timezone-aware
    device: str | None
    location: GeoPoint | None


@dataclass(frozen=True)
class LifeFolder:
    root: Path
    entries: list[ManifestEntry]
    people_dir: Path | None
    questions_path: Path | None


class IngestItem(NamedTuple):
    path: Path
    entry: ManifestEntry | None  # None for a file found outside a life folder


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES  # cameras write IMG_0001.JPG and .MOV


def is_life_folder(path: Path) -> bool:
    return (Path(path) / MANIFEST_NAME).is_file()


def read_life_folder(root: Path) -> LifeFolder:
    """Read a life folder's manifest. Raises ManifestError naming the line of any bad entry."""
    root = Path(root).resolve()
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        raise ManifestError(root, f"not a life folder: no {MANIFEST_NAME} in it")
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(manifest, f"cannot be read: {exc}") from None

    entries: list[ManifestEntry] = []
    seen: dict[Path, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(manifest, f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        try:
            entry = _parse_entry(root, record)
        except ValueError as exc:
            raise ManifestError(manifest, f"line {number}: {exc}") from None
        if entry.file in seen:
            raise ManifestError(manifest, f"line {number}: {entry.file} is already listed on line {seen[entry.file]}")
        seen[entry.file] = number
        entries.append(entry)

    people = root / "people"
    questions = root / "questions.jsonl"
    return LifeFolder(
        root=root,
        entries=entries,
        people_dir=people if people.is_dir() else None,
        questions_path=questions if questions.is_file() else None,
    )


def _parse_entry(root: Path, record: Any) -> ManifestEntry:
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object like {\"file\": ..., \"start\": ...}")
    file = record.get("file")
    if not isinstance(file, str) or not file.strip():
        raise ValueError("\"file\" is missing or not a non-empty string")
    return ManifestEntry(
        file=(root / file).resolve(),
        start=_parse_start(record.get("start")),
        device=_parse_device(record.get("device")),
        location=_parse_location(record.get("lat"), record.get("lon")),
    )


def _parse_start(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"\"start\" must be an ISO 8601 string, not {value!r}")
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"\"start\" is not an ISO 8601 time: {value!r}") from None
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"\"start\" has no UTC offset (write e.g. {value}+01:00 or {value}Z): {value!r}")
    return start


def _parse_device(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"\"device\" must be a string, not {value!r}")
    return value.strip() or None


def _parse_location(lat: Any, lon: Any) -> GeoPoint | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValueError("\"lat\" and \"lon\" must be given together")
    for name, value in (("lat", lat), ("lon", lon)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"\"{name}\" must be a number in decimal degrees, not {value!r}")
    return GeoPoint(float(lat), float(lon))  # raises ValueError off the globe


def collect(paths: Sequence[Path]) -> list[IngestItem]:
    """Expand what the user named into the files to ingest, in a stable order.

    A life folder gives its manifest entries; a plain folder gives its supported files, recursively
    and sorted (hidden files and folders skipped, life folders inside it read by their manifest); a
    file is taken as is, whatever its extension, so that ingest can say clearly why it fails.
    A path named twice is ingested once.
    """
    items: list[IngestItem] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        found = _expand_folder(path, set()) if path.is_dir() else iter([IngestItem(path.absolute(), None)])
        for item in found:
            key = item.path.resolve()
            if key not in seen:
                seen.add(key)
                items.append(item)
    return items


def _expand_folder(folder: Path, visited: set[Path]) -> Iterator[IngestItem]:
    real = folder.resolve()
    if real in visited:  # a symlink loop
        return
    visited.add(real)
    if is_life_folder(folder):
        for entry in read_life_folder(folder).entries:
            yield IngestItem(entry.file, entry)
        return
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            yield from _expand_folder(child, visited)
        elif child.is_file() and is_supported(child):
            yield IngestItem(child.absolute(), None)


def content_id(path: Path) -> str:
    """The recording id: the first 32 hex digits of the sha256 of the bytes, read 1 MiB at a time."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    try:
        with Path(path).open("rb") as handle:
            while count := handle.readinto(buffer):
                digest.update(view[:count])
    except OSError as exc:
        raise MediaError(path, f"cannot be read: {exc.strerror or exc}") from None
    return digest.hexdigest()[:_ID_HEX_CHARS]


def build_recording(path: Path, entry: ManifestEntry | None, *, now: datetime) -> Recording:
    """Probe a file and settle its start, place and device: manifest first, then the container, then guesses.

    `now` (timezone-aware) is the start used when nothing says when the recording was made; the
    recording's notes then say so plainly. Raises MediaError for anything that is not readable media.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path).resolve()
    info = probe(path)
    notes: list[str] = []

    if entry is not None and entry.start is not None:
        start, start_source = entry.start, FactSource.MANIFEST
    elif info.creation_time is not None:
        start, start_source = info.creation_time, FactSource.CONTAINER
        if info.creation_time_note:
            notes.append(info.creation_time_note)
    else:
        start, start_source = now, FactSource.INGEST_TIME
        notes.append(NO_START_NOTE)

    if entry is not None and entry.location is not None:
        location, location_source = entry.location, FactSource.MANIFEST
    elif info.location is not None:
        location, location_source = info.location, FactSource.CONTAINER
    else:
        location, location_source = None, FactSource.NONE
        notes.append(NO_LOCATION_NOTE)
    notes.extend(info.notes)

    return Recording(
        id=content_id(path),
        path=path,
        kind=info.kind,
        start=start,
        duration_s=info.duration_s,
        has_audio=info.has_audio,
        has_video=info.has_video,
        start_source=start_source,
        location=location,
        location_source=location_source,
        device=entry.device if entry is not None else None,
        width=info.width,
        height=info.height,
        fps=info.fps,
        notes=tuple(notes),
    )


def in_local_offset(recordings: Sequence[Recording]) -> list[Recording]:
    """Recordings whose start came in UTC from the container (phones write `creation_time` in UTC)
    take the UTC offset of the nearest recording in time whose manifest gave one, so that "Saturday"
    said in a phone call is the wearer's Saturday. The instant is unchanged."""
    anchors = [r for r in recordings if r.start_source is FactSource.MANIFEST and r.start.utcoffset() is not None]
    out = []
    for r in recordings:
        if anchors and r.start_source is not FactSource.MANIFEST and r.start.utcoffset() == timedelta(0):
            near = min(anchors, key=lambda a: abs((a.start - r.start).total_seconds()))
            offset = near.start.tzinfo
            if near.start.utcoffset() != timedelta(0) and abs((near.start - r.start).total_seconds()) <= 3 * 86400:
                r = replace(r, start=r.start.astimezone(offset), notes=r.notes + (f"start given in UTC by the {r.start_source.value}; told in the offset of the recordings around it ({near.start:%z})",))
        out.append(r)
    return out
