"""Devices allowed to upload recordings, each with its own bearer token.

A token is shown once, when the device is added; only its SHA-256 is stored. A plain (unsalted,
fast) hash is enough here because the token is 32 random bytes from `secrets`: nobody can guess
or brute-force a 256-bit value, so the slow salted hashes that protect low-entropy passwords would
add cost and nothing else. A stolen database therefore yields no usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from egomem.errors import EgomemError

# Device names become folder names (recordings/<device>/), so they are kept filesystem-safe.
DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TOKEN_PREFIX = "egm_"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    name TEXT PRIMARY KEY,
    token_sha256 BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT
);
"""


class DeviceError(EgomemError):
    """A device cannot be added or revoked as asked."""


@dataclass(frozen=True)
class Device:
    name: str
    created_at: str
    last_seen_at: str | None


class DeviceRegistry:
    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one connection shared by the server's threads
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def add(self, name: str, *, replace: bool = False) -> str:
        """Register a device and return its new token; the token is not stored and cannot be shown again."""
        if not DEVICE_NAME.match(name):
            raise DeviceError(f"device name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        # The prefix names what it is (and lets secret scanners spot it); it also keeps a token from
        # starting with '-', which a command line would read as an option.
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock, self._db:
            exists = self._db.execute("SELECT 1 FROM devices WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise DeviceError(f"a device named {name!r} already exists; revoke it first or replace its token")
            self._db.execute(
                "INSERT OR REPLACE INTO devices (name, token_sha256, created_at, last_seen_at) VALUES (?, ?, ?, NULL)",
                (name, _digest(token), _now()),
            )
        return token

    def authenticate(self, token: str) -> Device | None:
        """The device holding this token, or None."""
        if not token:
            return None
        digest = _digest(token)
        with self._lock:
            # Looking the digest up by index may leak timing about the *digest*, which is useless to an
            # attacker (they would need a SHA-256 preimage); the final comparison is constant-time anyway.
            row = self._db.execute("SELECT * FROM devices WHERE token_sha256 = ?", (digest,)).fetchone()
            if row is None or not hmac.compare_digest(bytes(row["token_sha256"]), digest):
                return None
            now = _now()
            if row["last_seen_at"] != now:
                with self._db:
                    self._db.execute("UPDATE devices SET last_seen_at = ? WHERE name = ?", (now, row["name"]))
            return Device(row["name"], row["created_at"], now)

    def list(self) -> list[Device]:
        with self._lock:
            rows = self._db.execute("SELECT name, created_at, last_seen_at FROM devices ORDER BY name").fetchall()
        return [Device(r["name"], r["created_at"], r["last_seen_at"]) for r in rows]

    def revoke(self, name: str) -> bool:
        """Forget a device and its token. False when no such device exists."""
        with self._lock, self._db:
            return self._db.execute("DELETE FROM devices WHERE name = ?", (name,)).rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _now() -> str:
    # Minute precision: last_seen is for "is this watch still syncing", and it spares a write per request.
    return datetime.now(timezone.utc).replace(second=0, microsecond=0).isoformat()
