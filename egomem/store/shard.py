"""What every Qdrant Edge shard of ours shares: an exclusive lock, error mapping and lifecycle."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import qdrant_edge as qe

from egomem.errors import StoreError, StoreLocked

LOCK_FILE = ".lock"
SCROLL_PAGE = 256  # records per page when reading a whole shard


@contextmanager
def qdrant_errors(what: str) -> Iterator[None]:
    """Qdrant Edge raises bare Exceptions; callers catch StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{what}: {exc}") from exc


def acquire_lock(path: Path, label: str) -> int:
    """An exclusive, non-blocking flock on path/.lock, with our pid written in for the next opener.

    flock locks belong to the open file description, so a second open in this same process
    conflicts too; the descriptor is not inherited by child processes (os.open is non-inheritable).
    """
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        who = "this process" if holder == str(os.getpid()) else "another process"
        raise StoreLocked(
            f"the {label} at {path} is already open in {who} (pid {holder}); close it (for example stop `egomem serve`) and try again"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def release_lock(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class LockedShard:
    """A shard in a folder that this object holds exclusively from open to `close()`.

    Subclasses call `_hold(path)` first, then open their shard into `self._shard`; on a failed open
    they call `close()`, which releases whatever was taken.
    """

    label = "store"

    def _hold(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._shard: qe.EdgeShard | None = None
        self._lock_fd: int | None = acquire_lock(self.path, self.label)

    def close(self) -> None:
        """Flush, close the shard and release the lock. Safe to call twice."""
        shard, self._shard = self._shard, None
        try:
            if shard is not None:
                try:
                    with qdrant_errors(f"could not flush the {self.label} at {self.path}"):
                        shard.flush()
                finally:
                    shard.close()
        finally:
            if self._lock_fd is not None:
                release_lock(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreError(f"the {self.label} at {self.path} is closed")
        return self._shard

    def scroll_all(
        self, flt: qe.Filter | None = None, *, with_payload: bool | list[str] = True, with_vector: bool = False
    ) -> Iterator[Any]:
        """Every matching record, page by page."""
        offset = None
        while True:
            with qdrant_errors(f"could not read the {self.label} at {self.path}"):
                request = qe.ScrollRequest(offset=offset, limit=SCROLL_PAGE, filter=flt, with_payload=with_payload, with_vector=with_vector)
                records, offset = self.shard.scroll(request)
            yield from records
            if offset is None:
                return
