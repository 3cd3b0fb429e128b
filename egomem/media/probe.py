"""What a media file is, before decoding it: kind, length, streams, and when/where it was recorded.

Classification is by streams, never by file extension: phones and people rename files freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import ffmpeg

from egomem.errors import MediaError
from egomem.media.recording import MediaKind
from egomem.types import GeoPoint

# Codecs that hold a single picture; a video stream with one of these in an image demuxer is a photo.
_STILL_CODECS = frozenset({"mjpeg", "png", "bmp", "tiff", "webp", "jpeg2000", "jpegls", "ppm", "pgm", "pam", "qoi"})
# Tags in the order we trust them: Apple's creationdate keeps the local offset, creation_time is UTC.
# ID3/Vorbis "date" is not used: in music it is the release date, not when anything was recorded.
_TIME_TAGS = ("com.apple.quicktime.creationdate", "creation_time")
_LOCATION_TAGS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
# MP4's epoch is 1904 and unset clocks write 1970; no real recording predates digital video.
_EARLIEST_PLAUSIBLE_YEAR = 1980

_ISO6709 = re.compile(
    r"^\s*(?P<lat_sign>[+-])(?P<lat>\d+(?:\.\d*)?)"
    r"(?P<lon_sign>[+-])(?P<lon>\d+(?:\.\d*)?)"
    r"(?:[+-]\d+(?:\.\d*)?)?"  # altitude, ignored
    r"(?:CRS[^/]*)?/?\s*$"
)

# "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0a2f180] " in front of ffmpeg messages means nothing to a person.
_FFMPEG_CONTEXT = re.compile(r"^\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")

# EXIF tag numbers (Pillow exposes them as plain ints).
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004
_OFFSET_TIME_ORIGINAL = 0x9011
_OFFSET_TIME_DIGITIZED = 0x9012


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    duration_s: float  # 0.0 for a photo
    has_audio: bool
    has_video: bool
    width: int | None  # as displayed: rotation metadata already applied
    height: int | None
    fps: float | None
    creation_time: datetime | None  # timezone-aware
    location: GeoPoint | None
    format_name: str
    creation_time_note: str | None = None  # a caveat about creation_time, e.g. a photo time without offset
    notes: tuple[str, ...] = ()  # anything else that could not be determined, said plainly


def parse_iso6709(text: str) -> GeoPoint:
    """Parse an ISO 6709 point such as ``+48.8566+002.3522/`` or ``-33.8688+151.2093+010.000/``.

    Degrees, degrees-minutes (``+4851.396+00221.132/``) and degrees-minutes-seconds forms are told
    apart by the number of integer digits, as the standard defines them. Raises ValueError.
    """
    match = _ISO6709.match(text)
    if match is None:
        raise ValueError(f"not an ISO 6709 position: {text!r}")
    lat = _iso6709_degrees(match["lat"], degree_digits=2)
    lon = _iso6709_degrees(match["lon"], degree_digits=3)
    if match["lat_sign"] == "-":
        lat = -lat
    if match["lon_sign"] == "-":
        lon = -lon
    return GeoPoint(lat, lon)


def _iso6709_degrees(value: str, *, degree_digits: int) -> float:
    extra = len(value.partition(".")[0]) - degree_digits  # 0: DD(D), 2: DD(D)MM, 4: DD(D)MMSS
    if extra <= 0:
        return float(value)
    number = float(value)
    if extra == 2:
        degrees, minutes = divmod(number, 100)
        return degrees + minutes / 60
    if extra == 4:
        degrees, rest = divmod(number, 10000)
        minutes, seconds = divmod(rest, 100)
        return degrees + minutes / 60 + seconds / 3600
    raise ValueError(f"not an ISO 6709 coordinate: {value!r}")


def parse_timestamp(text: str) -> datetime | None:
    """A container timestamp as an aware datetime; naive values are UTC (what MP4/MKV store)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment.year < _EARLIEST_PLAUSIBLE_YEAR:
        return None  # an unset camera clock, not a time
    return moment


def probe(path: Path) -> MediaInfo:
    """Read a file's streams and metadata with ffprobe. Raises MediaError with a reason a person understands."""
    path = Path(path)
    _check_readable(path)
    try:
        data = ffmpeg.probe(str(path.absolute()))  # absolute: "a:b.mp4" would read as a protocol
    except ffmpeg.Error as exc:
        raise MediaError(path, _explain_probe_failure(path, exc.stderr)) from None
    except OSError as exc:  # ffprobe itself missing or not executable
        raise MediaError(path, f"could not run ffprobe: {exc}") from None

    fmt: Mapping[str, Any] = data.get("format") or {}
    format_name = str(fmt.get("format_name", ""))
    streams = data.get("streams") or []
    # Cover art in music files is a "video" stream too; it is not what the recording shows.
    video = [s for s in streams if s.get("codec_type") == "video" and not _is_attached_picture(s)]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if format_name == "tty":  # ffmpeg's ANSI-art demuxer accepts arbitrary text
        raise MediaError(path, "not a media file ffmpeg can read (it looks like plain text)")
    if not video and not audio:
        raise MediaError(path, "no audio or video streams in this file")

    is_photo = bool(video) and not audio and _is_still_image(format_name, video[0])
    kind = MediaKind.PHOTO if is_photo else MediaKind.VIDEO if video else MediaKind.AUDIO
    width, height = _display_size(video[0]) if video else (None, None)

    tag_sets = [_lower_keys(fmt.get("tags"))] + [_lower_keys(s.get("tags")) for s in streams]
    creation_time = _first_time(tag_sets)
    location = _first_location(tag_sets)
    notes: list[str] = []
    time_note: str | None = None
    if kind is MediaKind.PHOTO:
        exif = _read_exif(path)
        if exif.time is not None:
            creation_time, time_note = exif.time, exif.time_note
        location = exif.location or location
        if exif.swap_sides and width is not None and height is not None:
            width, height = height, width
        duration = 0.0
        fps = None
    else:
        duration = _duration(fmt, streams)
        if duration is None:
            notes.append("duration unknown: the container does not say how long it is")
            duration = 0.0
        fps = _rate(video[0]) if video else None

    return MediaInfo(
        kind=kind,
        duration_s=duration,
        has_audio=bool(audio),
        has_video=bool(video),
        width=width,
        height=height,
        fps=fps,
        creation_time=creation_time,
        location=location,
        format_name=format_name,
        creation_time_note=time_note,
        notes=tuple(notes),
    )


# -- failures -----------------------------------------------------------------------------------


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise MediaError(path, "file not found")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise MediaError(path, f"cannot be read: {exc.strerror or exc}") from None
    if size == 0:
        raise MediaError(path, "empty file (0 bytes)")


def last_ffmpeg_line(stderr: bytes | str | None) -> str:
    """The last meaningful line ffmpeg wrote: its conclusion, usually the actual cause."""
    if not stderr:
        return ""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _FFMPEG_CONTEXT.sub("", lines[-1]) if lines else ""


def _explain_probe_failure(path: Path, stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", "replace")
    detail = _strip_filename(last_ffmpeg_line(text), path)
    family = _sniff_container(path)
    if "moov atom not found" in text and family == "mp4":
        return (
            "truncated or incomplete MP4/MOV: its index (moov atom) is missing, so the recording was "
            "probably cut off while being written or copied"
        )
    if family is None:
        return f"not a media file ffmpeg can read ({detail})" if detail else "not a media file ffmpeg can read"
    return f"truncated or corrupt {family} file ({detail})" if detail else f"truncated or corrupt {family} file"


def _strip_filename(line: str, path: Path) -> str:
    for prefix in (f"{path.absolute()}: ", f"{path}: "):  # the error already names the file
        if line.startswith(prefix):
            return line[len(prefix) :]
    return line


def _sniff_container(path: Path) -> str | None:
    """Name the container family from the first bytes, to tell a damaged recording from a non-media file."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        return "mp4"
    signatures = {
        b"\x1a\x45\xdf\xa3": "Matroska/WebM",
        b"RIFF": "RIFF (WAV/AVI)",
        b"fLaC": "FLAC",
        b"OggS": "Ogg",
        b"ID3": "MP3",
        b"\xff\xd8\xff": "JPEG",
        b"\x89PNG": "PNG",
    }
    for magic, family in signatures.items():
        if head.startswith(magic):
            return family
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MPEG audio"  # frame sync of an MP3/ADTS stream without an ID3 header
    return None


# -- streams ------------------------------------------------------------------------------------


def _is_attached_picture(stream: Mapping[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _is_still_image(format_name: str, stream: Mapping[str, Any]) -> bool:
    image_demuxer = format_name == "image2" or format_name.endswith("_pipe")
    return image_demuxer and stream.get("codec_name") in _STILL_CODECS


def _display_size(stream: Mapping[str, Any]) -> tuple[int | None, int | None]:
    width, height = stream.get("width"), stream.get("height")
    if not width or not height:
        return None, None
    if abs(_rotation(stream)) % 180 == 90:  # ffmpeg auto-rotates on decode, so report what it will give
        width, height = height, width
    return int(width), int(height)


def _rotation(stream: Mapping[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return int(round(float(side["rotation"])))
            except (TypeError, ValueError):
                return 0
    try:
        return int((stream.get("tags") or {}).get("rotate", 0))  # ffmpeg < 5 reported it as a tag
    except (TypeError, ValueError):
        return 0


def _rate(stream: Mapping[str, Any]) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            value = Fraction(str(stream.get(key, "0/0")))
        except (ValueError, ZeroDivisionError):
            continue
        if value > 0:
            return float(value)
    return None


def _duration(fmt: Mapping[str, Any], streams: list[Mapping[str, Any]]) -> float | None:
    candidates = [fmt.get("duration")] + [s.get("duration") for s in streams]
    for value in candidates:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return None


# -- metadata -----------------------------------------------------------------------------------


def _lower_keys(tags: Mapping[str, Any] | None) -> dict[str, str]:
    # Matroska writes LOCATION, MP4 location: tag names are case-insensitive in practice.
    return {str(k).lower(): str(v) for k, v in (tags or {}).items()}


def _first_time(tag_sets: list[dict[str, str]]) -> datetime | None:
    for key in _TIME_TAGS:
        for tags in tag_sets:
            if key in tags and (moment := parse_timestamp(tags[key])) is not None:
                return moment
    return None


def _first_location(tag_sets: list[dict[str, str]]) -> GeoPoint | None:
    for key in _LOCATION_TAGS:
        for tags in tag_sets:
            if key in tags:
                try:
                    return parse_iso6709(tags[key])
                except ValueError:
                    continue  # a malformed tag is no position; another tag may still have one
    return None


@dataclass(frozen=True)
class _Exif:
    time: datetime | None = None
    location: GeoPoint | None = None
    time_note: str | None = None
    swap_sides: bool = False  # orientation 5-8: the picture is displayed rotated by 90 degrees


def _read_exif(path: Path) -> _Exif:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError):
        return _Exif()  # ffmpeg could read it; missing EXIF only means fewer facts
    if not exif:
        return _Exif()
    sub = exif.get_ifd(_EXIF_IFD)
    gps = exif.get_ifd(_GPS_IFD)
    # DateTime (0x0132) is when the file was last edited, not when the picture was taken: not used.
    if sub.get(_DATETIME_ORIGINAL):
        stamp, offset = sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL)
    else:
        stamp, offset = sub.get(_DATETIME_DIGITIZED), sub.get(_OFFSET_TIME_DIGITIZED)
    moment, note = _exif_time(stamp, offset)
    return _Exif(
        time=moment,
        location=_exif_location(gps),
        time_note=note,
        swap_sides=exif.get(_ORIENTATION) in (5, 6, 7, 8),
    )


def _exif_time(stamp: Any, offset: Any) -> tuple[datetime | None, str | None]:
    if not isinstance(stamp, str):
        return None, None
    try:
        naive = datetime.strptime(stamp.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, None  # "0000:00:00 00:00:00" and other placeholders
    if naive.year < _EARLIEST_PLAUSIBLE_YEAR:
        return None, None
    if isinstance(offset, str):
        try:
            zone = datetime.strptime(offset.strip().rstrip("\x00"), "%z").tzinfo
            return naive.replace(tzinfo=zone), None
        except ValueError:
            pass
    # EXIF times are the camera's local clock; without an offset the best guess is this machine's zone.
    return naive.astimezone(), "photo time has no UTC offset in EXIF; assumed this computer's time zone"


def _exif_location(gps: Mapping[int, Any]) -> GeoPoint | None:
    try:
        lat = _dms(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _dms(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
        return GeoPoint(lat, lon)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _dms(value: Any) -> float:
    degrees, minutes, seconds = (float(part) for part in value)
    return degrees + minutes / 60 + seconds / 3600
