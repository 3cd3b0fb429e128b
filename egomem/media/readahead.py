"""Run an iterator (a frame decoder) in a thread of its own, a few items ahead of its consumer.

Decoding then overlaps the models that look at the frames: ffmpeg keeps decoding while a frame is
searched for faces instead of waiting, blocked on a full pipe, for the next read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = range(3)
_POLL_S = 0.1  # how often a producer blocked on a full queue checks whether it was stopped


class ReadAhead(Generic[T]):
    """Iterates `source` up to `depth` items ahead of the consumer, in a daemon thread.

    The source's items come out in order; an exception it raises comes out after the items before it.
    `close()` stops the thread and closes the source there (closing a frame iterator stops ffmpeg);
    use it as a context manager so that an early exit never leaves a decoder running.
    """

    def __init__(self, source: Iterator[T], depth: int = 4, name: str = "read-ahead") -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(source,), name=name, daemon=True)
        self._thread.start()

    def _produce(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put(_ITEM, item):
                    return
            self._put(_END, None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(_ERROR, exc)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # in this thread: a generator can only be closed where it runs

    def _put(self, kind: int, value: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._finished = True
        if kind == _ERROR:
            raise value  # type: ignore[misc]
        raise StopIteration

    def close(self) -> None:
        self._finished = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
