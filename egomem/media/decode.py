"""Decode what perception needs, and no more: 16 kHz mono audio, and frames at a low rate and size.

ffmpeg does the resampling, frame-rate reduction and scaling, so Python only ever sees the small
result. Frames come over a pipe one at a time, so memory stays flat however long the recording is.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import IO, Iterator

import ffmpeg
import numpy as np

from egomem.errors import MediaError
from egomem.media.probe import MediaInfo, last_ffmpeg_line, probe
from egomem.media.recording import MediaKind

# Global options first: ffmpeg-python would put them after the output, where ffmpeg may ignore them.
_FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error"]
_S16_SCALE = 32768.0


def load_audio(path: Path, sample_rate: int = 16000, *, allow_partial: bool = False) -> np.ndarray:
    """The first audio stream as float32 mono samples in [-1, 1] at `sample_rate`.

    Raises MediaError when the file has no audio stream or cannot be decoded. When decoding dies
    partway (a truncated file), it raises too, unless `allow_partial` is set: then the samples
    decoded before the failure are returned (still an error if there are none).
    """
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, not {sample_rate}")
    info = probe(path)
    if not info.has_audio:
        raise MediaError(path, "no audio stream")
    command = (
        ffmpeg.input(str(path.absolute()))["a:0"]
        .output("pipe:", format="s16le", acodec="pcm_s16le", ac=1, ar=sample_rate)
        .compile(cmd=_FFMPEG)
    )
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except OSError as exc:
        raise MediaError(path, f"could not run ffmpeg: {exc}") from None

    raw = memoryview(done.stdout)[: len(done.stdout) // 2 * 2]  # a view: slicing bytes would copy them
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    samples /= _S16_SCALE  # in place: an hour of audio is 230 MB as float32
    returncode, stderr = done.returncode, done.stderr
    del raw, done  # the 16-bit bytes are not needed any more
    decoded_s = len(samples) / sample_rate
    failed = returncode != 0 or _stopped_early(decoded_s, info, stderr)
    if not failed and len(samples):
        return samples
    reason = _failure_reason("audio", decoded_s, info, stderr)
    if allow_partial and len(samples):
        return samples
    raise MediaError(path, reason)


def iter_frames(path: Path, fps: float, width: int) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (offset seconds, BGR uint8 H x W x 3 frame) at `fps`, scaled to `width` pixels wide.

    Frames narrower than `width` are never upscaled; the height keeps the aspect ratio and is even.
    Timestamps: ffmpeg's fps filter is anchored at 0 s and emits a constant rate (the gap before a
    late first frame is filled with that frame), so frame i shows the picture at i / fps seconds.
    A photo yields a single frame at 0.0, turned upright by its EXIF orientation.

    The file is probed now, so a missing or unreadable file raises MediaError at the call. A decode
    that dies partway raises MediaError after the frames read so far were yielded. Closing the
    iterator early stops ffmpeg.
    """
    path = Path(path)
    if fps <= 0 or width <= 0:
        raise ValueError(f"fps and width must be positive, not fps={fps}, width={width}")
    info = probe(path)
    if info.kind is MediaKind.PHOTO:
        return _photo_frames(path, width)
    if not info.has_video:
        raise MediaError(path, "no video stream")
    if not info.width or not info.height:
        raise MediaError(path, "video stream has no picture size")
    out_w, out_h = _target_size(info.width, info.height, width)
    return _video_frames(path, info, fps, out_w, out_h)


def _target_size(src_w: int, src_h: int, width: int) -> tuple[int, int]:
    out_w = min(width, src_w)
    out_h = max(2, round(out_w * src_h / src_w / 2) * 2)
    return out_w, out_h


def _video_frames(path: Path, info: MediaInfo, fps: float, out_w: int, out_h: int) -> Iterator[tuple[float, np.ndarray]]:
    # V (capital) skips cover art; ffmpeg applies rotation metadata before our filters, like probe assumes.
    command = (
        ffmpeg.input(str(path.absolute()))["V:0"]
        .filter("fps", fps=fps, start_time=0)
        .filter("scale", out_w, out_h, flags="area")
        .output("pipe:", format="rawvideo", pix_fmt="bgr24")
        .compile(cmd=_FFMPEG)
    )
    frame_bytes = out_w * out_h * 3
    count = 0
    # stderr goes to a file: a pipe nobody drains could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise MediaError(path, f"could not run ffmpeg: {exc}") from None
        assert process.stdout is not None
        try:
            while (buffer := _read_exactly(process.stdout, frame_bytes)) is not None:
                yield count / fps, np.frombuffer(buffer, dtype=np.uint8).reshape(out_h, out_w, 3)
                count += 1
            returncode = process.wait()
        finally:
            if process.poll() is None:  # the consumer stopped early
                process.kill()
                process.wait()
            process.stdout.close()
        errors.seek(0)
        stderr = errors.read()
    decoded_s = count / fps
    if returncode != 0 or count == 0 or _stopped_early(decoded_s, info, stderr):
        raise MediaError(path, _failure_reason("video", decoded_s, info, stderr))


def _read_exactly(stream: IO[bytes], size: int) -> bytearray | None:
    """One whole frame, or None at the end (a trailing partial frame is dropped)."""
    buffer = bytearray(size)  # a fresh buffer per frame: the arrays handed out stay independent and writable
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        got = stream.readinto(view[filled:])
        if not got:
            return None
        filled += got
    return buffer


def _stopped_early(decoded_s: float, info: MediaInfo, stderr: bytes) -> bool:
    """ffmpeg exits 0 on a truncated file; errors plus a clearly short result mean it died midway."""
    if not last_ffmpeg_line(stderr) or info.duration_s <= 0:
        return False  # without errors, a short stream is just short
    return decoded_s < info.duration_s - max(1.0, 0.05 * info.duration_s)


def _failure_reason(what: str, decoded_s: float, info: MediaInfo, stderr: bytes) -> str:
    detail = last_ffmpeg_line(stderr) or "ffmpeg gave no reason"
    if decoded_s <= 0:
        return f"{what} could not be decoded: {detail}"
    return (
        f"{what} decoding stopped at {decoded_s:.1f} s of {info.duration_s:.1f} s "
        f"(file truncated or corrupt): {detail}"
    )


def _photo_frames(path: Path, width: int) -> Iterator[tuple[float, np.ndarray]]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            src_w, src_h = image.size
            needed = max(_target_size(src_w, src_h, width))
            image.draft("RGB", (needed, needed))  # JPEG: decode at a reduced scale, much faster for big photos
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(path, f"photo could not be decoded: {exc}") from None
    out_w, out_h = _target_size(upright.width, upright.height, width)
    if (out_w, out_h) != upright.size:
        upright = upright.resize((out_w, out_h), Image.Resampling.LANCZOS, reducing_gap=2.0)
    rgb = np.asarray(upright, dtype=np.uint8)
    yield 0.0, np.ascontiguousarray(rgb[:, :, ::-1])
