"""The recording catalog: which files were ingested, when, with what outcome.

SQLite beside the event shard. It makes re-ingest idempotent (same content id, same outcome) and
keeps the reason a file failed, so a bad upload is explained rather than silently dropped.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT,
    start TEXT,
    end TEXT,
    lat REAL,
    lon REAL,
    status TEXT NOT NULL,
    error TEXT,
    events INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '[]',
    stages TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    error TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class RecordingStatus(str, Enum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    path: str
    kind: str | None
    start: str | None
    end: str | None
    status: RecordingStatus
    error: str | None
    events: int
    notes: list[str]
    stages: list[dict]


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def get(self, recording_id: str) -> CatalogEntry | None:
        row = self._db.execute("SELECT * FROM recordings WHERE id = ?", (recording_id,)).fetchone()
        return _entry(row) if row else None

    def entries(self) -> list[CatalogEntry]:
        return [_entry(r) for r in self._db.execute("SELECT * FROM recordings ORDER BY start")]

    def failures(self) -> dict[str, str]:
        """Files that could not even be identified (unreadable, missing), by path."""
        return {r["path"]: r["error"] for r in self._db.execute("SELECT * FROM failures ORDER BY path")}

    def record_done(self, recording, events: int, stages: list[dict]) -> None:
        loc = recording.location
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO recordings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    recording.id, str(recording.path), recording.kind.value, recording.start.isoformat(), recording.end.isoformat(),
                    loc.lat if loc else None, loc.lon if loc else None, RecordingStatus.DONE.value, None, events,
                    json.dumps(list(recording.notes)), json.dumps(stages), _now(),
                ),
            )
            self._db.execute("DELETE FROM failures WHERE path = ?", (str(recording.path),))

    def record_failure(self, path: Path, error: str, recording=None) -> None:
        with self._db:
            if recording is None:
                self._db.execute("INSERT OR REPLACE INTO failures VALUES (?,?,?)", (str(path), error, _now()))
                return
            self._db.execute(
                "INSERT OR REPLACE INTO recordings (id, path, kind, start, end, status, error, events, notes, updated_at)"
                " VALUES (?,?,?,?,?,?,?,0,?,?)",
                (
                    recording.id, str(path), recording.kind.value, recording.start.isoformat(), recording.end.isoformat(),
                    RecordingStatus.FAILED.value, error, json.dumps(list(recording.notes)), _now(),
                ),
            )

    def close(self) -> None:
        self._db.close()


def _entry(row: sqlite3.Row) -> CatalogEntry:
    return CatalogEntry(
        id=row["id"], path=row["path"], kind=row["kind"], start=row["start"], end=row["end"],
        status=RecordingStatus(row["status"]), error=row["error"], events=row["events"],
        notes=json.loads(row["notes"]), stages=json.loads(row["stages"]),
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
