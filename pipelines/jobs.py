"""A durable job queue for finished uploads, and the worker thread that ingests them.

SQLite in WAL mode: a job survives a crash or restart. A job claimed by a worker that died stays
"running" in the file; `recover()` (called when a worker starts) puts it back in the queue, and a
job that was interrupted `MAX_ATTEMPTS` times is failed instead, so one file that crashes the
process cannot crash it forever.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from egomem.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    metadata TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at);
"""


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    id: str
    upload_id: str
    path: Path
    metadata: dict[str, Any]
    state: JobState
    error: str | None
    result: str | None
    attempts: int
    created_at: str
    updated_at: str


class JobQueue:
    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # the server's threads and the worker share one connection
        # Autocommit mode: transactions are opened explicitly, with BEGIN IMMEDIATE where a
        # read-then-write must be atomic also against another process using the same file.
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged upload must not lose its job
        self._db.executescript(_SCHEMA)

    def enqueue(self, upload_id: str, path: Path, metadata: dict[str, Any]) -> str:
        """Queue a job for this upload, or return the job it already has (never a second one)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO jobs (id, upload_id, path, metadata, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                (uuid.uuid4().hex, upload_id, str(path), json.dumps(metadata), JobState.QUEUED.value, _now(), _now()),
            )
            return self._db.execute("SELECT id FROM jobs WHERE upload_id = ?", (upload_id,)).fetchone()["id"]

    def claim(self) -> Job | None:
        """Atomically move the oldest queued job to running and return it; None when the queue is empty."""
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE id = (SELECT id FROM jobs WHERE state = ? ORDER BY created_at, rowid LIMIT 1) RETURNING *",
                (JobState.RUNNING.value, _now(), JobState.QUEUED.value),
            ).fetchone()
        return _job(row) if row else None

    def finish(self, job_id: str, result: str) -> None:
        self._settle(job_id, JobState.DONE, result=result)

    def fail(self, job_id: str, error: str) -> None:
        self._settle(job_id, JobState.FAILED, error=error)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def get_by_upload(self, upload_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE upload_id = ?", (upload_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, state: JobState | None = None) -> list[Job]:
        with self._lock:
            if state is None:
                rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at, rowid").fetchall()
            else:
                rows = self._db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY created_at, rowid", (state.value,)).fetchall()
        return [_job(r) for r in rows]

    def recover(self) -> int:
        """Re-queue jobs left running by a worker that stopped mid-job; returns how many were re-queued.

        Call it only when no other worker is running on this queue (a worker does so when it starts).
        """
        now = _now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE state = ? AND attempts >= ?",
                    (JobState.FAILED.value, f"interrupted {MAX_ATTEMPTS} times while being ingested; giving up", now,
                     JobState.RUNNING.value, MAX_ATTEMPTS),
                )
                count = self._db.execute(
                    "UPDATE jobs SET state = ?, updated_at = ? WHERE state = ?", (JobState.QUEUED.value, now, JobState.RUNNING.value)
                ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _settle(self, job_id: str, state: JobState, *, result: str | None = None, error: str | None = None) -> None:
        with self._lock:
            changed = self._db.execute(
                "UPDATE jobs SET state = ?, result = ?, error = ?, updated_at = ? WHERE id = ?",
                (state.value, result, error, _now(), job_id),
            ).rowcount
        if not changed:
            raise KeyError(f"no job {job_id}")


IngestFn = Callable[[Path, dict[str, Any]], tuple[bool, str]]


class Worker:
    """Drains a JobQueue in a background thread, one job at a time, until stop()."""

    def __init__(self, queue: JobQueue, ingest: IngestFn, *, poll_s: float = 0.2) -> None:
        self.queue = queue
        self.ingest = ingest
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Worker":
        if self._thread is not None and self._thread.is_alive():
            return self
        recovered = self.queue.recover()
        if recovered:
            log.info("re-queued %d job(s) interrupted by the last shutdown", recovered)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="egomem-ingest-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the worker to stop after the job in hand; a job still running at timeout is re-queued on the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> Job | None:
        """Claim and run one job, if any; returns the job as it was claimed."""
        job = self.queue.claim()
        if job is None:
            return None
        try:
            ok, message = self.ingest(job.path, job.metadata)
        except Exception as exc:  # one bad recording must not stop the worker
            log.exception("ingest job %s crashed", job.id)
            self.queue.fail(job.id, f"ingest crashed: {type(exc).__name__}: {exc}")
            return job
        if ok:
            self.queue.finish(job.id, message)
        else:
            self.queue.fail(job.id, message)
        return job

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.run_once()
            except sqlite3.Error:
                log.exception("job queue unavailable; retrying")
                job = None
            if job is None:
                self._stop.wait(self.poll_s)


def ingest_with_metadata(rt: Runtime, path: Path, metadata: dict[str, Any]) -> tuple[bool, str]:
    """Ingest one uploaded file with what its device said: start time, first GPS fix, device name.

    The device's metadata plays the part of a life-folder manifest line: it wins over the
    container's own tags. Returns (ok, message); a recording already in memory counts as ok.
    """
    from egomem.media.sources import IngestItem, ManifestEntry
    from egomem.types import GeoPoint
    from pipelines.ingest import Ingestor, Outcome

    path = Path(path).resolve()
    start = _aware(metadata.get("start"))
    fixes = metadata.get("gps") or []
    location = GeoPoint(float(fixes[0]["lat"]), float(fixes[0]["lon"])) if fixes else None
    entry = ManifestEntry(file=path, start=start, device=metadata.get("device"), location=location)
    result = Ingestor(rt).ingest_item(IngestItem(path, entry))
    recording = f" (recording {result.recording.id})" if result.recording is not None else ""
    return result.outcome is not Outcome.FAILED, f"{result.outcome.value}: {result.message}{recording}"


def _aware(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"start time {value!r} has no UTC offset")
    return moment


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], upload_id=row["upload_id"], path=Path(row["path"]), metadata=json.loads(row["metadata"]),
        state=JobState(row["state"]), error=row["error"], result=row["result"], attempts=row["attempts"],
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
