"""Who is who: face exemplars of known and unnamed people, on a Qdrant Edge shard.

Layout of the folder given to `IdentityIndex`:

* `shard/`: a Qdrant Edge shard with one point per exemplar (a 128-d dlib descriptor, Euclidean),
  payload {identity_id, name, source, added_at}. The shard's WAL makes every write durable when
  `update` returns.
* `identities.json`: the registry, one entry per identity (name, source, created) and the next
  `person-N` number. It is the single authority for names; the `name` in point payloads is a copy
  kept for inspection and resynchronised from the registry when the index opens. Written to a
  temporary file and renamed, so a crash leaves the old or the new registry, never half of one.
* `.lock`: an flock held while the index is open, naming the holder's pid.

Crash safety: a new identity is registered before its first exemplar is written. On open the
registry is reconciled with the shard: exemplars whose identity is missing from the registry are
adopted from their payload, unnamed identities without exemplars are dropped, and the `person-N`
counter never goes back, so a number once handed out is never reused (events keep referring to it).

Every identity, named or not, has an id `person-N` from one counter: naming, renaming or merging an
identity later never changes ids that events already hold.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import qdrant_edge as qe

from egomem.errors import StoreError, StoreLocked

VECTOR = "face"
DESCRIPTOR_SIZE = 128
REGISTRY_FILE = "identities.json"
SHARD_DIR = "shard"
LOCK_FILE = ".lock"
REGISTRY_VERSION = 1
SOURCES = ("enrolled", "observed")
ID_PREFIX = "person-"
_ID_RE = re.compile(rf"^{ID_PREFIX}(\d+)$")


@dataclass(frozen=True)
class Identity:
    id: str  # "person-N", stable for the identity's whole life
    name: str | None  # None for someone seen but never named
    exemplars: int  # face samples stored for this identity
    source: str  # "enrolled" (created from labelled photos) or "observed" (first seen in a recording)
    created: str  # ISO 8601, UTC


@dataclass(frozen=True)
class IdentityMatch:
    identity_id: str
    name: str | None
    distance: float  # to the nearest exemplar of the identity; 0.0 when the identity was just created
    is_new: bool  # True when this descriptor started a new unnamed identity


@dataclass
class _Entry:
    """One identity in the registry; exemplar counts come from the shard, not the file."""

    name: str | None
    source: str
    created: str
    exemplars: int = 0


def normalize_name(name: str) -> str:
    """The display form of a name: surrounding whitespace gone, inner runs of whitespace one space.

    Case and punctuation stay as typed ("obama", "Kit Harington", "o'neil" are kept as they are).
    """
    display = " ".join(str(name).split())
    if not display:
        raise ValueError("a person's name cannot be empty")
    return display


def _name_key(name: str) -> str:
    # "Obama" and "obama " are the same person; the first spelling enrolled is the one shown.
    return normalize_name(name).casefold()


class IdentityIndex:
    """The persistent face memory in `path`, opened by one process at a time."""

    def __init__(
        self,
        path: Path,
        *,
        match_distance: float = 0.6,
        max_exemplars: int = 12,
        duplicate_distance: float = 0.25,
    ) -> None:
        """
        match_distance: a face within this Euclidean distance of an exemplar is that identity.
        max_exemplars: observed faces are added as exemplars only while an identity has fewer.
        duplicate_distance: a face this close to an identity's exemplar adds nothing and is not stored.
        """
        if not 0 < duplicate_distance < match_distance:
            raise ValueError("need 0 < duplicate_distance < match_distance")
        self.path = Path(path)
        self.match_distance = float(match_distance)
        self.max_exemplars = int(max_exemplars)
        self.duplicate_distance = float(duplicate_distance)
        self._registry_path = self.path / REGISTRY_FILE
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = _acquire_lock(self.path)
        self._entries: dict[str, _Entry] = {}
        self._next_number = 1
        try:
            self._shard: qe.EdgeShard | None = self._open_shard()
            try:
                self._load()
            except BaseException:
                self._shard.close()
                raise
        except BaseException:
            _release_lock(self._lock_fd)
            self._lock_fd = None
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def _open_shard(self) -> qe.EdgeShard:
        shard_path = self.path / SHARD_DIR
        config = qe.EdgeConfig(vectors={VECTOR: qe.EdgeVectorParams(size=DESCRIPTOR_SIZE, distance=qe.Distance.Euclid)})
        if (shard_path / "edge_config.json").exists():
            with _errors(f"could not open the identity index at {shard_path}"):
                shard = qe.EdgeShard.load(str(shard_path), config)
        else:
            with _errors(f"could not create the identity index at {shard_path}"):
                shard = qe.EdgeShard.create(str(shard_path), config)
        with _errors(f"could not index the identity index at {shard_path}"):
            if "identity_id" not in shard.info().payload_schema:
                shard.update(qe.UpdateOperation.create_field_index("identity_id", qe.PayloadSchemaType.Keyword))
        return shard

    def _load(self) -> None:
        """Read the registry and reconcile it with the exemplars in the shard (see the module doc)."""
        changed = False
        if self._registry_path.is_file():
            self._entries, self._next_number = _read_registry(self._registry_path)
        else:
            changed = True  # a new index, or a registry lost outside egomem: rebuilt from payloads

        counts: dict[str, int] = {}
        payload_names: dict[str, set[str | None]] = {}
        for payload in self._scroll_payloads():
            identity_id = str(payload.get("identity_id"))
            counts[identity_id] = counts.get(identity_id, 0) + 1
            payload_names.setdefault(identity_id, set()).add(payload.get("name"))
            if identity_id not in self._entries:
                name = payload.get("name")
                self._entries[identity_id] = _Entry(
                    name=normalize_name(name) if isinstance(name, str) and name.strip() else None,
                    source=payload.get("source") if payload.get("source") in SOURCES else "observed",
                    created=str(payload.get("added_at") or _now()),
                )
                changed = True
            else:
                entry = self._entries[identity_id]
                added = str(payload.get("added_at") or "")
                if added and added < entry.created:
                    entry.created = added

        for identity_id in list(self._entries):
            entry = self._entries[identity_id]
            entry.exemplars = counts.get(identity_id, 0)
            if entry.exemplars == 0 and entry.name is None:
                del self._entries[identity_id]  # registered, then the process died before its first face
                changed = True
            elif payload_names.get(identity_id, {entry.name}) != {entry.name}:
                self._sync_payload_name(identity_id)  # a rename that died between registry and shard

        highest = max((_number(i) for i in self._entries), default=0)
        if highest >= self._next_number:
            self._next_number = highest + 1
            changed = True
        if changed:
            self._save_registry()

    def close(self) -> None:
        """Flush, close the shard and release the lock. Safe to call twice."""
        shard, self._shard = self._shard, None
        try:
            if shard is not None:
                try:
                    with _errors(f"could not flush the identity index at {self.path}"):
                        shard.flush()
                finally:
                    shard.close()
        finally:
            if self._lock_fd is not None:
                _release_lock(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> IdentityIndex:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreError(f"the identity index at {self.path} is closed")
        return self._shard

    # -- reads ----------------------------------------------------------------------------------

    def identities(self) -> list[Identity]:
        """Every identity, oldest first."""
        return [self._identity(i) for i in sorted(self._entries, key=_number)]

    def get(self, identity_id: str) -> Identity | None:
        return self._identity(identity_id) if identity_id in self._entries else None

    def find(self, name: str) -> Identity | None:
        """The identity enrolled under this name (any case or spacing), if any."""
        key = _name_key(name)
        for identity_id, entry in self._entries.items():
            if entry.name is not None and entry.name.casefold() == key:
                return self._identity(identity_id)
        return None

    def _identity(self, identity_id: str) -> Identity:
        e = self._entries[identity_id]
        return Identity(identity_id, e.name, e.exemplars, e.source, e.created)

    # -- writes ---------------------------------------------------------------------------------

    def enroll(self, name: str, descriptors: Sequence[np.ndarray], source: str = "enrolled") -> str:
        """Add labelled face samples to the identity called `name`, creating it if needed; its id.

        Samples that nearly duplicate one the identity already has are not stored again, so
        enrolling the same photos twice (a life folder ingested again) changes nothing.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        vectors = [_vector(d) for d in descriptors]
        if not vectors:
            raise ValueError("enroll needs at least one face descriptor")
        display = normalize_name(name)
        existing = self.find(display)
        identity_id = existing.id if existing else self._create(display, source)
        for vector in vectors:
            nearest = self._nearest(vector, identity_id)
            if nearest is None or nearest[1] > self.duplicate_distance:
                self._add_exemplar(identity_id, vector, source)
        with _errors(f"could not flush the identity index at {self.path}"):
            self.shard.flush()
        return identity_id

    def identify(self, descriptor: np.ndarray) -> IdentityMatch:
        """The identity of a face: the nearest exemplar's if close enough, else a new unnamed one."""
        vector = _vector(descriptor)
        nearest = self._nearest(vector)
        if nearest is not None and nearest[1] <= self.match_distance:
            identity_id, distance = nearest
            if identity_id not in self._entries:  # only if the registry was edited behind our back
                self._entries[identity_id] = _Entry(None, "observed", _now())
                self._save_registry()
            entry = self._entries[identity_id]
            # The nearest exemplar overall is also the nearest of this identity, so `distance`
            # is the near-duplicate test too.
            if entry.exemplars < self.max_exemplars and distance > self.duplicate_distance:
                self._add_exemplar(identity_id, vector, "observed")
            return IdentityMatch(identity_id, entry.name, distance, is_new=False)
        identity_id = self._create(None, "observed")
        self._add_exemplar(identity_id, vector, "observed")
        return IdentityMatch(identity_id, None, 0.0, is_new=True)

    def _create(self, name: str | None, source: str) -> str:
        identity_id = f"{ID_PREFIX}{self._next_number}"
        self._next_number += 1
        self._entries[identity_id] = _Entry(name, source, _now())
        self._save_registry()  # before any exemplar refers to the id, see the module doc
        return identity_id

    def _add_exemplar(self, identity_id: str, vector: list[float], source: str) -> None:
        entry = self._entries[identity_id]
        payload = {"identity_id": identity_id, "name": entry.name, "source": source, "added_at": _now()}
        with _errors(f"could not store a face sample in {self.path}"):
            self.shard.update(qe.UpdateOperation.upsert_points([qe.Point(str(uuid.uuid4()), {VECTOR: vector}, payload)]))
        entry.exemplars += 1

    def _sync_payload_name(self, identity_id: str) -> None:
        """Copy the registry's name onto every exemplar of the identity (one shard operation)."""
        with _errors(f"could not update face samples of {identity_id} in {self.path}"):
            name = self._entries[identity_id].name
            self.shard.update(qe.UpdateOperation.set_payload_by_filter(_of(identity_id), {"name": name}))

    # -- helpers --------------------------------------------------------------------------------

    def _nearest(self, vector: list[float], identity_id: str | None = None) -> tuple[str, float] | None:
        """(identity id, Euclidean distance) of the nearest exemplar, optionally of one identity."""
        request = qe.QueryRequest(
            limit=1,
            query=qe.Query.Nearest(vector, using=VECTOR),
            filter=_of(identity_id) if identity_id else None,
            with_payload=True,
        )
        with _errors(f"could not search the identity index at {self.path}"):
            hits = self.shard.query(request)
        if not hits:
            return None
        # For Euclid, Qdrant's score is the distance itself (lower is closer).
        return str(hits[0].payload["identity_id"]), float(hits[0].score)

    def _scroll_payloads(self) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            with _errors(f"could not read the identity index at {self.path}"):
                request = qe.ScrollRequest(offset=offset, limit=512, with_payload=True, with_vector=False)
                records, offset = self.shard.scroll(request)
            for record in records:
                yield dict(record.payload or {})
            if offset is None:
                return

    def _save_registry(self) -> None:
        data = {
            "version": REGISTRY_VERSION,
            "next_number": self._next_number,
            "identities": {
                i: {"name": e.name, "source": e.source, "created": e.created}
                for i, e in sorted(self._entries.items(), key=lambda item: _number(item[0]))
            },
        }
        try:
            _write_atomic(self._registry_path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise StoreError(f"could not write {self._registry_path}: {exc}") from exc


def _vector(descriptor: np.ndarray) -> list[float]:
    array = np.asarray(descriptor, dtype=np.float32).reshape(-1)
    if array.size != DESCRIPTOR_SIZE or not np.all(np.isfinite(array)):
        raise ValueError(f"a face descriptor must be {DESCRIPTOR_SIZE} finite numbers, got shape {np.shape(descriptor)}")
    return array.tolist()


def _of(identity_id: str) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("identity_id", match=qe.MatchValue(identity_id))])


def _number(identity_id: str) -> int:
    match = _ID_RE.match(identity_id)
    return int(match.group(1)) if match else 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_registry(path: Path) -> tuple[dict[str, _Entry], int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = {
            str(i): _Entry(
                name=normalize_name(v["name"]) if v.get("name") else None,
                source=v.get("source") if v.get("source") in SOURCES else "observed",
                created=str(v.get("created") or _now()),
            )
            for i, v in data["identities"].items()
        }
        return entries, int(data.get("next_number", 1))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StoreError(
            f"the identity registry {path} is unreadable ({exc}); move it aside and egomem rebuilds it "
            "from the stored face samples (names included)"
        ) from exc


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """Qdrant Edge raises bare Exceptions; callers catch StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{what}: {exc}") from exc


def _acquire_lock(path: Path) -> int:
    """An exclusive, non-blocking flock on path/.lock, with our pid written in for the next opener."""
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        who = "this process" if holder == str(os.getpid()) else "another process"
        raise StoreLocked(
            f"the identity index at {path} is already open in {who} (pid {holder}); "
            "close it (for example stop `egomem serve`) and try again"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _release_lock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
