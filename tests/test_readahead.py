"""ReadAhead: a decoder runs ahead of its consumer in a thread, and stops when told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from egomem.errors import MediaError
from egomem.media.decode import iter_frames
from egomem.media.readahead import ReadAhead


def test_items_come_in_order_and_a_failure_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise MediaError(Path("x.mp4"), "truncated")

    reader = ReadAhead(source(), depth=2)
    got = []
    with pytest.raises(MediaError, match="truncated"):
        for item in reader:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]
    assert next(reader, None) is None  # finished stays finished
    reader.close()


def test_it_reads_at_most_depth_items_ahead_and_close_stops_the_source() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    with ReadAhead(source(), depth=3) as reader:
        assert next(reader) == 0
        time.sleep(0.3)  # plenty of time to run ahead, were it unbounded
        assert len(produced) <= 1 + 3 + 1  # the one taken, a full queue, one waiting to go in
    assert closed.wait(2.0)  # the generator was closed in its own thread when the reader closed
    assert len(produced) < 10


def test_frames_of_a_real_video_come_through_unchanged(shared_data: Path) -> None:
    path = shared_data / "media" / "short_hamilton_clip.mp4"
    direct = list(iter_frames(path, 2.0, 320))
    with ReadAhead(iter_frames(path, 2.0, 320), depth=2) as reader:
        ahead = list(reader)
    assert [t for t, _ in ahead] == [t for t, _ in direct]
    assert all((a == b).all() for (_, a), (_, b) in zip(ahead, direct))


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ReadAhead(iter([]), depth=0)
