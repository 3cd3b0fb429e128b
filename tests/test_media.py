"""Media: probing, decoding and finding recordings, against real ffmpeg and tiny generated files."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from egomem.errors import MediaError
from egomem.media import decode
from egomem.media.decode import iter_frames, load_audio
from egomem.media.probe import parse_iso6709, parse_timestamp, probe
from egomem.media.recording import FactSource, MediaKind
from egomem.media.sources import (
    NO_LOCATION_NOTE,
    NO_START_NOTE,
    SUPPORTED_SUFFIXES,
    IngestItem,
    ManifestError,
    build_recording,
    collect,
    content_id,
    read_life_folder,
)
from egomem.types import GeoPoint

PARIS = GeoPoint(48.8566, 2.3522)
CONTAINER_TIME = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


def make_clip(target: Path, *, seconds: float = 2, metadata: bool = True, extra: tuple[str, ...] = ()) -> Path:
    """320x240 at 10 fps with a 440 Hz tone; optionally the creation time and position a phone writes."""
    tags: tuple[str, ...] = ()
    if metadata:
        tags = ("-metadata", "creation_time=2026-03-02T08:00:00Z", "-metadata", "location=+48.8566+002.3522/")
        if target.suffix in (".mp4", ".mov"):
            tags += ("-movflags", "use_metadata_tags")
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", str(seconds), "-pix_fmt", "yuv420p", *tags, *extra, str(target),
    )  # fmt: skip
    return target


def make_tone(target: Path, seconds: float = 1) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", str(target))
    return target


def make_photo(target: Path, *, exif: bool) -> Path:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    if not exif:
        image.save(target)
        return target
    tags = Image.Exif()
    tags[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    sub = tags.get_ifd(0x8769)
    sub[0x9003] = "2026:03:02 09:15:00"  # DateTimeOriginal
    sub[0x9011] = "+01:00"  # OffsetTimeOriginal
    gps = tags.get_ifd(0x8825)
    gps[1], gps[2] = "S", (IFDRational(33), IFDRational(52), IFDRational(752, 100))
    gps[3], gps[4] = "E", (IFDRational(151), IFDRational(12), IFDRational(3348, 100))
    image.save(target, exif=tags)
    return target


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every generated file the tests read, made once: a few seconds of ffmpeg in all."""
    folder = tmp_path_factory.mktemp("media")
    for suffix in ("mp4", "mov", "mkv"):
        make_clip(folder / f"clip.{suffix}")
    make_clip(folder / "bare.mp4", seconds=1, metadata=False)
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "1",
        "-metadata", "creation_time=2026-03-02T09:00:00+01:00",
        "-metadata", "com.apple.quicktime.location.ISO6709=-33.8688+151.2093+010.000/",
        "-movflags", "use_metadata_tags", str(folder / "apple.mov"),
    )  # fmt: skip
    ffmpeg("-i", str(folder / "bare.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(folder / "rotated.mp4"))
    make_tone(folder / "tone.wav")
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-f", "lavfi", "-i", "color=c=red:size=64x64:duration=1",
        "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "aac", "-c:v", "png",
        "-disposition:v", "attached_pic", str(folder / "cover.m4a"),
    )  # fmt: skip
    # A file written with its index first, then cut in half: it probes fine and dies while decoding.
    make_clip(folder / "faststart.mp4", seconds=6, metadata=False, extra=("-movflags", "+faststart"))
    data = (folder / "faststart.mp4").read_bytes()
    (folder / "halfway.mp4").write_bytes(data[: len(data) // 2])
    make_photo(folder / "exif.jpg", exif=True)
    make_photo(folder / "plain.png", exif=False)
    return folder


# -- ISO 6709 and timestamps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("+48.8566+002.3522/", 48.8566, 2.3522),
        ("+48.8566+002.3522+035.000/", 48.8566, 2.3522),  # with altitude
        ("-33.8688+151.2093/", -33.8688, 151.2093),
        ("+40.7128-074.0060/", 40.7128, -74.0060),
        ("-22.9068-043.1729-005.5/", -22.9068, -43.1729),
        ("+48.8566+002.3522", 48.8566, 2.3522),  # no terminating slash
        ("+48.8566+2.3522/", 48.8566, 2.3522),  # unpadded longitude
        ("+48.8566+002.3522CRSWGS_84/", 48.8566, 2.3522),
        ("+4851.396+00221.132/", 48.8566, 2.3522),  # degrees and minutes
        ("+485123.76+0022107.92/", 48.8566, 2.3522),  # degrees, minutes and seconds
        ("+00.0000+000.0000/", 0.0, 0.0),
    ],
)
def test_parse_iso6709(text: str, lat: float, lon: float) -> None:
    point = parse_iso6709(text)
    assert point.lat == pytest.approx(lat, abs=1e-4)
    assert point.lon == pytest.approx(lon, abs=1e-4)


@pytest.mark.parametrize("text", ["", "hello", "48.8566 2.3522", "+48.8566/", "+91.0000+002.0000/", "+48.85+190.00/"])
def test_parse_iso6709_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso6709(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T08:00:00.000000Z", CONTAINER_TIME),
        ("2026-03-02T09:00:00+01:00", datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=1)))),
        ("2026-03-02T09:00:00+0100", datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=1)))),
        ("2026-03-02 08:00:00", CONTAINER_TIME),  # naive container times are UTC
        ("1970-01-01T00:00:00Z", None),  # an unset clock
        ("1904-01-01T00:00:00Z", None),  # MP4's epoch
        ("not a time", None),
    ],
)
def test_parse_timestamp(text: str, expected: datetime | None) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


# -- probe ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["mp4", "mov", "mkv"])
def test_probe_reads_container_time_and_place(media: Path, suffix: str) -> None:
    info = probe(media / f"clip.{suffix}")
    assert info.kind is MediaKind.VIDEO
    assert info.has_audio and info.has_video
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(10.0)
    assert info.creation_time == CONTAINER_TIME
    assert info.location == PARIS


def test_probe_apple_tags_keep_local_offset(media: Path) -> None:
    info = probe(media / "apple.mov")
    assert info.creation_time == datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=1)))
    assert info.creation_time.utcoffset() == timedelta(hours=1)  # type: ignore[union-attr]
    assert info.location == GeoPoint(-33.8688, 151.2093)
    assert not info.has_audio


def test_probe_without_metadata(media: Path) -> None:
    info = probe(media / "bare.mp4")
    assert info.creation_time is None
    assert info.location is None


def test_probe_reports_displayed_size_of_rotated_video(media: Path) -> None:
    info = probe(media / "rotated.mp4")
    assert (info.width, info.height) == (240, 320)
    frames = list(iter_frames(media / "rotated.mp4", fps=5, width=120))
    assert frames[0][1].shape == (160, 120, 3)


def test_probe_audio_only(media: Path) -> None:
    info = probe(media / "tone.wav")
    assert info.kind is MediaKind.AUDIO
    assert info.has_audio and not info.has_video
    assert info.width is None and info.fps is None
    assert info.duration_s == pytest.approx(1.0, abs=0.05)


def test_probe_cover_art_is_not_video(media: Path) -> None:
    info = probe(media / "cover.m4a")
    assert info.kind is MediaKind.AUDIO
    assert not info.has_video


def test_probe_photo_reads_exif(media: Path) -> None:
    info = probe(media / "exif.jpg")
    assert info.kind is MediaKind.PHOTO
    assert info.duration_s == 0.0
    assert info.creation_time == datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=1)))
    assert info.creation_time_note is None
    assert info.location is not None
    assert info.location.lat == pytest.approx(-33.8688, abs=1e-4)
    assert info.location.lon == pytest.approx(151.2093, abs=1e-4)
    assert (info.width, info.height) == (48, 64)  # EXIF orientation 6 turns it upright


def test_photo_classified_by_content_not_extension(media: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "photo.mp4"
    shutil.copy(media / "plain.png", disguised)
    info = probe(disguised)
    assert info.kind is MediaKind.PHOTO
    assert info.creation_time is None


def test_photo_yields_one_upright_frame(media: Path) -> None:
    frames = list(iter_frames(media / "exif.jpg", fps=2, width=32))
    assert len(frames) == 1
    offset, frame = frames[0]
    assert offset == 0.0
    assert frame.shape == (42, 32, 3) and frame.dtype == np.uint8
    blue, green, red = frame[20, 16]
    assert red > 150 and blue < 80  # BGR order


def test_shared_speech_flac(shared_data: Path) -> None:
    path = shared_data / "media" / "jfk.flac"
    info = probe(path)
    assert info.kind is MediaKind.AUDIO
    assert info.has_audio and not info.has_video
    assert info.duration_s == pytest.approx(11.0, abs=0.2)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(info.duration_s * 16000, rel=0.01)
    assert -1.0 <= audio.min() < 0 < audio.max() <= 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # speech, not silence


def test_shared_video_clip(shared_data: Path) -> None:
    path = shared_data / "media" / "short_hamilton_clip.mp4"
    info = probe(path)
    assert info.kind is MediaKind.VIDEO
    assert info.has_audio and info.has_video
    assert info.duration_s == pytest.approx(10.0, abs=0.3)
    assert (info.width, info.height) == (640, 360)
    audio = load_audio(path)
    assert len(audio) == pytest.approx(info.duration_s * 16000, rel=0.01)
    frames = list(iter_frames(path, fps=2, width=320))
    assert 19 <= len(frames) <= 21
    assert [t for t, _ in frames] == pytest.approx([i / 2 for i in range(len(frames))])
    assert all(f.shape == (180, 320, 3) and f.dtype == np.uint8 for _, f in frames)
    assert frames[-1][1].std() > 10  # real picture, not a blank frame


# -- decode ---------------------------------------------------------------------------------------


def test_frames_are_never_upscaled_and_height_is_even(media: Path) -> None:
    path = media / "clip.mp4"
    frames = list(iter_frames(path, fps=10, width=1000))
    assert len(frames) == pytest.approx(20, abs=1)
    assert frames[0][1].shape == (240, 320, 3)
    for width in (100, 161):
        _, frame = next(iter(iter_frames(path, fps=1, width=width)))
        assert frame.shape[1] == width and frame.shape[0] % 2 == 0
        assert frame.shape[0] == pytest.approx(width * 240 / 320, abs=1)


def test_frames_are_writable_copies(media: Path) -> None:
    (_, first), (_, second) = list(iter_frames(media / "clip.mp4", fps=1, width=64))[:2]
    first[:] = 0
    assert second.any()


def test_audio_is_resampled_mono(media: Path) -> None:
    audio = load_audio(media / "clip.mkv", sample_rate=8000)
    assert len(audio) == pytest.approx(2.0 * 8000, rel=0.02)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) * 8000 / len(audio) == pytest.approx(440, abs=5)


def test_closing_frames_early_stops_ffmpeg(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        process = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(decode.subprocess, "Popen", spy)
    frames = iter_frames(media / "faststart.mp4", fps=10, width=320)
    next(frames)
    frames.close()
    decoders = [p for p in started if Path(p.args[0]).name == "ffmpeg"]  # ffprobe runs through Popen too
    assert len(decoders) == 1
    assert decoders[0].returncode is not None  # killed and reaped, not left running


def test_decode_that_dies_midway_keeps_earlier_frames(media: Path) -> None:
    path = media / "halfway.mp4"
    assert probe(path).duration_s == pytest.approx(6.0, abs=0.1)  # the index still promises it all
    got: list[float] = []
    with pytest.raises(MediaError, match="stopped at") as caught:
        for offset, _ in iter_frames(path, fps=2, width=160):
            got.append(offset)
    assert 1 <= len(got) < 10
    assert "truncated or corrupt" in caught.value.reason
    with pytest.raises(MediaError, match="audio decoding stopped"):
        load_audio(path)
    partial = load_audio(path, allow_partial=True)
    assert 0 < len(partial) < 5.0 * 16000


def test_no_audio_and_no_video_are_said_plainly(media: Path) -> None:
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(media / "apple.mov")  # picture only
    with pytest.raises(MediaError, match="no video stream"):
        iter_frames(media / "tone.wav", fps=1, width=64)


# -- failures a person must understand ------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="file not found") as caught:
        probe(tmp_path / "nowhere.mp4")
    assert caught.value.path == tmp_path / "nowhere.mp4"
    with pytest.raises(MediaError, match="file not found"):
        load_audio(tmp_path / "nowhere.mp4")
    with pytest.raises(MediaError, match="file not found"):
        iter_frames(tmp_path / "nowhere.mp4", fps=1, width=64)


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MediaError, match=r"empty file \(0 bytes\)"):
        probe(empty)


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("Shopping list: oat milk, batteries, bread.\n")
    with pytest.raises(MediaError, match="not a media file ffmpeg can read"):
        probe(fake)
    with pytest.raises(MediaError, match="not a media file"):
        build_recording(fake, None, now=NOW)


def test_truncated_shared_clip(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "media" / "short_hamilton_clip.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.raises(MediaError) as caught:
        probe(cut)
    reason = caught.value.reason
    assert "truncated" in reason and "cut off" in reason
    assert "@ 0x" not in reason


def test_folder_is_not_media(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="folder"):
        probe(tmp_path)


# -- finding recordings ---------------------------------------------------------------------------


def write_manifest(root: Path, lines: list[object]) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (root / "manifest.jsonl").write_text(text + "\n")


@pytest.fixture
def life(media: Path, tmp_path: Path) -> Path:
    root = tmp_path / "life"
    (root / "media" / "day1").mkdir(parents=True)
    (root / "people" / "alice").mkdir(parents=True)
    (root / "questions.jsonl").write_text("")
    shutil.copy(media / "clip.mp4", root / "media/day1/0900_kitchen.mp4")  # container says 08:00Z, Paris
    shutil.copy(media / "clip.mov", root / "media/day1/1000_walk.mov")
    shutil.copy(media / "tone.wav", root / "media/day1/1100_note.wav")  # no metadata at all
    write_manifest(
        root,
        [
            {"file": "media/day1/0900_kitchen.mp4", "start": "2026-03-02T09:00:00+01:00",
             "device": "glasses-01", "lat": 51.5072, "lon": -0.1276},
            "",
            {"file": "media/day1/1000_walk.mov", "device": "glasses-01"},
            {"file": "media/day1/1100_note.wav", "start": None, "extra": "ignored"},
        ],
    )  # fmt: skip
    return root


def test_read_life_folder(life: Path) -> None:
    folder = read_life_folder(life)
    assert folder.root == life.resolve()
    assert folder.people_dir == life.resolve() / "people"
    assert folder.questions_path == life.resolve() / "questions.jsonl"
    files = [e.file for e in folder.entries]
    assert files == [life.resolve() / "media/day1" / n for n in ("0900_kitchen.mp4", "1000_walk.mov", "1100_note.wav")]
    kitchen, walk, note = folder.entries
    assert kitchen.start == datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=1)))
    assert kitchen.location == GeoPoint(51.5072, -0.1276)
    assert kitchen.device == "glasses-01"
    assert walk.start is None and walk.location is None
    assert note.device is None


def test_manifest_wins_over_container(life: Path) -> None:
    kitchen, walk, note = read_life_folder(life).entries
    rec = build_recording(kitchen.file, kitchen, now=NOW)
    assert rec.start == kitchen.start and rec.start_source is FactSource.MANIFEST
    assert rec.location == GeoPoint(51.5072, -0.1276) and rec.location_source is FactSource.MANIFEST
    assert rec.device == "glasses-01"
    assert rec.kind is MediaKind.VIDEO and rec.duration_s == pytest.approx(2.0, abs=0.1)
    assert rec.notes == ()

    rec = build_recording(walk.file, walk, now=NOW)  # manifest names no time or place: the container does
    assert rec.start == CONTAINER_TIME and rec.start_source is FactSource.CONTAINER
    assert rec.location == PARIS and rec.location_source is FactSource.CONTAINER


def test_recording_without_any_time_or_place_says_so(life: Path) -> None:
    note = read_life_folder(life).entries[2]
    rec = build_recording(note.file, note, now=NOW)
    assert rec.start == NOW and rec.start_source is FactSource.INGEST_TIME
    assert rec.location is None and rec.location_source is FactSource.NONE
    assert NO_START_NOTE in rec.notes and NO_LOCATION_NOTE in rec.notes
    assert "no start time in manifest or container metadata; using ingest time" in rec.notes
    assert rec.kind is MediaKind.AUDIO and not rec.has_video


def test_build_recording_for_photo(media: Path) -> None:
    rec = build_recording(media / "exif.jpg", None, now=NOW)
    assert rec.kind is MediaKind.PHOTO and rec.duration_s == 0.0
    assert rec.start_source is FactSource.CONTAINER
    assert rec.start == datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=1)))
    assert rec.location_source is FactSource.CONTAINER


def test_recording_id_follows_content_not_name(media: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.mp4"
    shutil.copy(media / "clip.mp4", renamed)
    original = build_recording(media / "clip.mp4", None, now=NOW)
    assert build_recording(renamed, None, now=NOW).id == original.id
    assert len(original.id) == 32 and int(original.id, 16) >= 0
    assert original.id == content_id(media / "clip.mp4")
    assert build_recording(media / "clip.mov", None, now=NOW).id != original.id


def test_build_recording_needs_aware_now(media: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_recording(media / "tone.wav", None, now=datetime(2026, 5, 1, 12, 0))


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (['{"file": "a.mp4", "start": "2026-03-02T09:00:00+01:00"}', "{not json"], ["line 2", "not valid JSON"]),
        ([{"file": "a.mp4", "start": "2026-03-02T09:00:00"}], ["line 1", "no UTC offset"]),
        ([{"file": "a.mp4", "start": "yesterday"}], ["line 1", "not an ISO 8601 time"]),
        ([{"start": "2026-03-02T09:00:00Z"}], ["line 1", '"file"']),
        ([{"file": "a.mp4", "lat": 48.8}], ["line 1", "together"]),
        ([{"file": "a.mp4", "lat": "48.8", "lon": 2.3}], ["line 1", '"lat" must be a number']),
        ([{"file": "a.mp4", "lat": 95.0, "lon": 2.3}], ["line 1", "not a position on Earth"]),
        ([{"file": "a.mp4"}, {"file": "./a.mp4"}], ["line 2", "already listed on line 1"]),
        (["[1, 2]"], ["line 1", "JSON object"]),
    ],
)
def test_bad_manifest_lines_are_named(tmp_path: Path, lines: list[object], words: list[str]) -> None:
    write_manifest(tmp_path, lines)
    with pytest.raises(ManifestError) as caught:
        read_life_folder(tmp_path)
    assert caught.value.path == tmp_path.resolve() / "manifest.jsonl"
    for word in words:
        assert word in caught.value.reason
    assert isinstance(caught.value, MediaError)


def test_collect_life_folder_gives_manifest_entries(life: Path) -> None:
    (life / "media" / "day1" / "unlisted.mp4").write_bytes(b"x")  # only the manifest says what belongs
    items = collect([life])
    assert [i.path.name for i in items] == ["0900_kitchen.mp4", "1000_walk.mov", "1100_note.wav"]
    assert all(isinstance(i, IngestItem) and i.entry is not None and i.entry.file == i.path for i in items)


def test_collect_plain_folder(media: Path, tmp_path: Path, life: Path) -> None:
    root = tmp_path / "dump"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / ".cache").mkdir()
    for name in ("b/deeper/z.flac", "b/a.MOV", "IMG_0001.JPG", "c.mp4", ".hidden.mp4", ".cache/x.mp4", "notes.txt"):
        (root / name).write_bytes(b"x")
    shutil.copytree(life, root / "trip")  # a life folder inside: read by its manifest
    items = collect([root])
    names = [i.path.relative_to(root).as_posix() for i in items]
    assert names == [
        "IMG_0001.JPG",
        "b/a.MOV",
        "b/deeper/z.flac",
        "c.mp4",
        "trip/media/day1/0900_kitchen.mp4",
        "trip/media/day1/1000_walk.mov",
        "trip/media/day1/1100_note.wav",
    ]
    assert [i.entry is not None for i in items] == [False] * 4 + [True] * 3
    assert all(i.path.is_absolute() for i in items)


def test_collect_files_as_given(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not media")
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    items = collect([text, clip, text, tmp_path / "missing.wav"])
    assert [i.path.name for i in items] == ["notes.txt", "a.mp4", "missing.wav"]  # ingest reports why each fails
    assert all(i.entry is None for i in items)


def test_supported_suffixes() -> None:
    assert {".mp4", ".mov", ".mkv", ".wav", ".flac", ".m4a", ".mp3", ".ogg", ".opus", ".jpg", ".jpeg", ".png"} == set(
        SUPPORTED_SUFFIXES
    )


def test_a_container_time_in_utc_is_told_in_the_offset_of_the_recordings_around_it(tmp_path: Path) -> None:
    from datetime import datetime

    from egomem.media.recording import FactSource, MediaKind, Recording
    from egomem.media.sources import in_local_offset

    def rec(name: str, start: str, source: FactSource) -> Recording:
        return Recording(name, tmp_path / name, MediaKind.AUDIO, datetime.fromisoformat(start), 10.0, True, False, source)

    batch = [rec("a", "2026-02-20T17:00:00-07:00", FactSource.MANIFEST), rec("call", "2026-02-21T00:33:00+00:00", FactSource.CONTAINER),
             rec("far", "2026-03-20T00:33:00+00:00", FactSource.CONTAINER)]  # fmt: skip
    local = in_local_offset(batch)
    assert local[1].start == batch[1].start and local[1].start.isoformat() == "2026-02-20T17:33:00-07:00"  # Friday evening, not Saturday
    assert "offset of the recordings around it" in local[1].notes[-1]
    assert local[0] == batch[0] and local[2] == batch[2]  # a manifest time, and one too far from any, stay as they were
