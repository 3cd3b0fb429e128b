"""Who is who: face exemplars of known and unnamed people, on a Qdrant Edge shard.

Layout of the folder given to `IdentityIndex`:

* `shard/`: a Qdrant Edge shard with one point per exemplar (a 128-d dlib descriptor, Euclidean),
  payload {identity_id, name, source, added_at}. The shard's WAL makes every write durable when
  `update` returns.
* `identities.json`: the registry, one entry per identity (name, source, created) and the next
  `person-N` number. It is the single authority for names; the `name` in point payloads is a copy
  kept for inspection and resynchronised from the registry when the index opens. Written to a
  temporary file and renamed, so a crash leaves the old or the new registry, never half of one.
  An entry may also hold a name heard in speech (`heard`, with the mentions that support it in
  `evidence`) and the heard names the user rejected (`rejected`); a heard name is shown until the
  user confirms or rejects it, and never loosens face matching the way a user-given name does.
  People only ever heard (a caller) are entries with source "voice" and no exemplars.
* `.lock`: an flock held while the index is open, naming the holder's pid.

Crash safety: a new identity is registered before its first exemplar is written. On open the
registry is reconciled with the shard: exemplars whose identity is missing from the registry are
adopted from their payload, unnamed identities without exemplars are dropped, and the `person-N`
counter never goes back, so a number once handed out is never reused (events keep referring to it).

Every identity, named or not, has an id `person-N` from one counter: naming, renaming or merging an
identity later never changes ids that events already hold.

* `crops/<identity_id>/NNNN.jpg`: up to `max_crops` small face crops per identity, so that a person
  can put a name to a face. An identity keeps at most one crop per stored exemplar: crops follow
  new exemplars (new views of the face), not every frame the face is seen in.

Merging and forgetting leave tombstones in the registry (`merged`: source -> into, `forgotten`: ids)
before touching the shard or the crops, and every open finishes what a crash interrupted: points and
crops of a merged id move to the surviving identity, those of a forgotten id are deleted. Without
the tombstones a forgotten person's exemplars would be adopted back, name and all, from their payload.

Clustering thresholds (Euclidean distance between dlib descriptors), measured on the shared photos
(faces/train, faces/test, the stranger; 14 faces, and 142 with each face also downscaled to 120 and
70 px tall with JPEG q55, blur or darkening, and mirrored, to stand in for video frames):

* clean photos: same person at most 0.464 (19 pairs, mean 0.39); different people at least 0.700.
* with the video-like variants: same person at most 0.614 (p99 0.557, 1707 pairs); different people
  at least 0.618 (p1 0.684, 8304 pairs). At 0.60 no different pair joins, but the margin is 0.018.

A face joins a named identity within `match_distance` (dlib's 0.6, the settings' value), and an
unnamed one only within `cluster_distance` (0.55): no different-person pair of the measurements is
that close (margin 0.07), while 99% of same-person pairs are, and an identity matches through its
nearest of several exemplars. Unnamed clusters grow on their own with no person checking them, and
the error costs are lopsided: a person split in two is one `egomem people merge` away from whole,
two people fused into one identity cannot be split by the user at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import qdrant_edge as qe

from egomem.errors import EgomemError, StoreError
from egomem.files import fsync_dir, write_atomic
from egomem.store.shard import LockedShard, qdrant_errors

VECTOR = "face"
DESCRIPTOR_SIZE = 128
REGISTRY_FILE = "identities.json"
SHARD_DIR = "shard"
CROPS_DIR = "crops"
CROP_SIDE = 160  # px, the longer side of a stored face crop: enough to recognise someone by eye
CROP_QUALITY = 85
CLUSTER_DISTANCE = 0.55  # unnamed clustering; see the module doc for the measurements
MATCH_CANDIDATES = 64  # nearest exemplars examined per face, enough to look past one identity's
REGISTRY_VERSION = 1
SOURCES = ("enrolled", "observed", "voice")  # "voice": heard giving their name, never seen
MAX_EVIDENCE = 24  # heard mentions kept per identity: enough to show why, bounded for a chatty friend
ID_PREFIX = "person-"
_ID_RE = re.compile(rf"^{ID_PREFIX}(\d+)$")


@dataclass(frozen=True)
class Identity:
    id: str  # "person-N", stable for the identity's whole life
    name: str | None  # None for someone seen but never named
    exemplars: int  # face samples stored for this identity
    source: str  # "enrolled" (labelled photos), "observed" (first seen in a recording) or "voice" (only heard)
    created: str  # ISO 8601, UTC
    heard_name: str | None = None  # a name heard in speech (egomem.memory.naming), not confirmed by the user
    evidence: tuple[dict[str, Any], ...] = ()  # what was heard: Evidence.to_json() of each mention

    @property
    def display_name(self) -> str | None:
        """What events show: the name the user gave, else the name heard."""
        return self.name or self.heard_name

    @property
    def voice_only(self) -> bool:
        return self.source == "voice"


@dataclass(frozen=True)
class IdentityMatch:
    identity_id: str
    name: str | None
    distance: float  # to the nearest exemplar of the identity; 0.0 when the identity was just created
    is_new: bool  # True when this descriptor started a new unnamed identity


class IdentityError(EgomemError):
    """A people operation that cannot be done as asked (the message says what to do instead)."""


class UnknownIdentity(IdentityError):
    """No identity has this id or name."""


class NameTaken(IdentityError):
    """Another identity already has this name."""


@dataclass
class _Entry:
    """One identity in the registry; exemplar counts come from the shard, not the file."""

    name: str | None  # given by the user (enrolment, `people name`): the only name that loosens face matching
    source: str
    created: str
    exemplars: int = 0
    heard: str | None = None  # proposed from speech, shown until confirmed or rejected
    evidence: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # heard names the user refused for this identity


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


class IdentityIndex(LockedShard):
    """The persistent face memory in `path`, opened by one process at a time."""

    label = "identity index"

    def __init__(
        self,
        path: Path,
        *,
        match_distance: float = 0.6,
        max_exemplars: int = 12,
        duplicate_distance: float = 0.25,
        cluster_distance: float = CLUSTER_DISTANCE,
        max_crops: int = 4,
    ) -> None:
        """
        match_distance: a face within this Euclidean distance of an exemplar of a named identity is that person.
        max_exemplars: observed faces are added as exemplars only while an identity has fewer.
        duplicate_distance: a face this close to an identity's exemplar adds nothing and is not stored.
        cluster_distance: the same for unnamed identities; never looser than match_distance.
        max_crops: face crops kept per identity.
        """
        cluster_distance = min(float(cluster_distance), float(match_distance))
        if not 0 < duplicate_distance < cluster_distance:
            raise ValueError("need 0 < duplicate_distance < cluster_distance <= match_distance")
        if max_crops < 0:
            raise ValueError("max_crops cannot be negative")
        self.path = Path(path)
        self.match_distance = float(match_distance)
        self.cluster_distance = cluster_distance
        self.max_exemplars = int(max_exemplars)
        self.duplicate_distance = float(duplicate_distance)
        self.max_crops = int(max_crops)
        self._registry_path = self.path / REGISTRY_FILE
        self._crops_root = self.path / CROPS_DIR
        self._hold(self.path)
        self._entries: dict[str, _Entry] = {}
        self._merged: dict[str, str] = {}  # tombstones: merged-away id -> the id it was merged into
        self._forgotten: set[str] = set()  # tombstones: ids of forgotten people
        self._next_number = 1
        try:
            self._shard = self._open_shard()
            self._load()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def _open_shard(self) -> qe.EdgeShard:
        shard_path = self.path / SHARD_DIR
        _finish_swap(shard_path)
        config = _shard_config()
        if (shard_path / "edge_config.json").exists():
            with qdrant_errors(f"could not open the identity index at {shard_path}"):
                shard = qe.EdgeShard.load(str(shard_path), config)
        else:
            with qdrant_errors(f"could not create the identity index at {shard_path}"):
                shard = qe.EdgeShard.create(str(shard_path), config)
        with qdrant_errors(f"could not index the identity index at {shard_path}"):
            if "identity_id" not in shard.info().payload_schema:
                shard.update(qe.UpdateOperation.create_field_index("identity_id", qe.PayloadSchemaType.Keyword))
        return shard

    def _compact(self) -> None:
        """Rewrite the shard with only the exemplars that remain, so that a forgotten face leaves no bytes.

        Deleting points is not enough: Qdrant keeps deleted vectors in segment files until a vacuum,
        and every upsert in its write-ahead log until the log wraps around (32 MB, years of faces).
        The new shard is built beside the old one and swapped in by renames (see `_finish_swap`).
        """
        live = self.path / SHARD_DIR
        fresh, old = live.with_name(SHARD_DIR + ".new"), live.with_name(SHARD_DIR + ".old")
        with qdrant_errors(f"could not rewrite the identity index at {live}"):
            shutil.rmtree(fresh, ignore_errors=True)
            records = list(self.scroll_all(with_vector=True))
            rebuilt = qe.EdgeShard.create(str(fresh), _shard_config())
            try:
                rebuilt.update(qe.UpdateOperation.create_field_index("identity_id", qe.PayloadSchemaType.Keyword))
                for start in range(0, len(records), 256):
                    batch = [qe.Point(str(r.id), r.vector, r.payload or {}) for r in records[start : start + 256]]
                    rebuilt.update(qe.UpdateOperation.upsert_points(batch))
                rebuilt.flush()
            finally:
                rebuilt.close()
            shard, self._shard = self._shard, None
            if shard is not None:
                shard.close()
            os.replace(live, old)
            os.replace(fresh, live)
            fsync_dir(self.path)
            shutil.rmtree(old)
            self._shard = self._open_shard()

    def _load(self) -> None:
        """Read the registry and reconcile it with the exemplars in the shard (see the module doc)."""
        changed = False
        if self._registry_path.is_file():
            self._entries, self._next_number, self._merged, self._forgotten = _read_registry(self._registry_path)
        else:
            changed = True  # a new index, or a registry lost outside egomem: rebuilt from payloads
        self._finish_tombstones()

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
            if entry.exemplars == 0 and entry.name is None and entry.source != "voice":
                del self._entries[identity_id]  # registered, then the process died before its first face
                changed = True
            elif payload_names.get(identity_id, {entry.name}) != {entry.name}:
                self._sync_payload_name(identity_id)  # a rename that died between registry and shard

        highest = max((_number(i) for i in [*self._entries, *self._merged, *self._forgotten]), default=0)
        if highest >= self._next_number:
            self._next_number = highest + 1
            changed = True
        if changed:
            self._save_registry()
        self._drop_orphan_crops()

    def _finish_tombstones(self) -> None:
        """Redo the shard and crop side of merges and forgets a crash may have cut short."""
        ids = [*self._merged, *self._forgotten]
        if not ids:
            return
        with qdrant_errors(f"could not read the identity index at {self.path}"):
            leftover = self.shard.count(qe.CountRequest(exact=True, filter=_of_any(ids)))
        for identity_id in ids:
            final = self.resolve(identity_id)
            if leftover:
                self._move_points(identity_id, final)
            if self._crop_dir(identity_id).is_dir():
                self._move_crops(identity_id, final)
        if leftover:
            self._compact()  # a forget cut short may have left the faces in the log

    def _drop_orphan_crops(self) -> None:
        """Crops of an identity the registry no longer has (dropped on load, or a crash mid-forget)."""
        if not self._crops_root.is_dir():
            return
        for folder in self._crops_root.iterdir():
            if folder.is_dir() and folder.name not in self._entries and folder.name not in self._merged:
                shutil.rmtree(folder, ignore_errors=True)

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

    def find_heard(self, name: str) -> Identity | None:
        """The identity whose unconfirmed heard name this is, if any."""
        key = _name_key(name)
        for identity_id, entry in self._entries.items():
            if entry.name is None and entry.heard is not None and entry.heard.casefold() == key:
                return self._identity(identity_id)
        return None

    def rejected_names(self, identity_id: str) -> list[str]:
        return list(self._entry(identity_id).rejected)

    def resolve(self, identity_id: str) -> str | None:
        """The live id an id now stands for: itself, the identity it was merged into, or None
        when it was forgotten or never existed."""
        seen: set[str] = set()
        while identity_id in self._merged and identity_id not in seen:  # a cycle cannot be written, but never loop
            seen.add(identity_id)
            identity_id = self._merged[identity_id]
        return identity_id if identity_id in self._entries else None

    def was_forgotten(self, identity_id: str) -> bool:
        return identity_id in self._forgotten

    def crops(self, identity_id: str) -> list[Path]:
        """The identity's face crops, oldest first (empty for an unknown id)."""
        if not _ID_RE.match(identity_id):
            return []
        folder = self._crop_dir(identity_id)
        return sorted(folder.glob("*.jpg")) if folder.is_dir() else []

    def _entry(self, identity_id: str) -> _Entry:
        entry = self._entries.get(identity_id)
        if entry is not None:
            return entry
        live = self.resolve(identity_id)
        if live is not None:
            raise UnknownIdentity(f"{identity_id} was merged into {live}; use {live}")
        if identity_id in self._forgotten:
            raise UnknownIdentity(f"{identity_id} was forgotten")
        raise UnknownIdentity(f"no identity {identity_id!r}; `egomem people list` shows who egomem knows")

    def _identity(self, identity_id: str) -> Identity:
        e = self._entries[identity_id]
        heard = e.heard if e.name is None else None  # a name the user gave always wins
        return Identity(identity_id, e.name, e.exemplars, e.source, e.created, heard, tuple(e.evidence))

    # -- writes ---------------------------------------------------------------------------------

    def enroll(
        self,
        name: str,
        descriptors: Sequence[np.ndarray],
        source: str = "enrolled",
        crops: Sequence[np.ndarray | None] | None = None,
    ) -> str:
        """Add labelled face samples to the identity called `name`, creating it if needed; its id.

        Samples that nearly duplicate one the identity already has are not stored again, so
        enrolling the same photos twice (a life folder ingested again) changes nothing.
        crops: the face image of each descriptor (BGR), kept as in `identify`.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        vectors = [_vector(d) for d in descriptors]
        if not vectors:
            raise ValueError("enroll needs at least one face descriptor")
        face_crops = list(crops) if crops is not None else [None] * len(vectors)
        if len(face_crops) != len(vectors):
            raise ValueError(f"enroll got {len(vectors)} descriptors but {len(face_crops)} crops")
        display = normalize_name(name)
        existing = self.find(display)
        identity_id = existing.id if existing else self._create(display, source)
        for vector, crop in zip(vectors, face_crops):
            nearest = self._nearest(vector, identity_id)
            if nearest is None or nearest[1] > self.duplicate_distance:
                self._add_exemplar(identity_id, vector, source)
            self._keep_crop(identity_id, crop)
        with qdrant_errors(f"could not flush the identity index at {self.path}"):
            self.shard.flush()
        return identity_id

    def identify(self, descriptor: np.ndarray, crop: np.ndarray | None = None) -> IdentityMatch:
        """The identity of a face: the nearest exemplar's if close enough, else a new unnamed one.

        crop: the face as cut from the frame (BGR); stored, downscaled, while the identity has
        fewer crops than exemplars and than `max_crops`.
        """
        vector = _vector(descriptor)
        match = self._match(vector)
        if match is not None:
            identity_id, distance = match
            if identity_id not in self._entries:  # only if the registry was edited behind our back
                self._entries[identity_id] = _Entry(None, "observed", _now())
                self._save_registry()
            entry = self._entries[identity_id]
            # The first exemplar that passes is the identity's nearest (hits come nearest first and
            # an identity's threshold is the same for all its exemplars), so `distance` is the
            # near-duplicate test too.
            if entry.exemplars < self.max_exemplars and distance > self.duplicate_distance:
                self._add_exemplar(identity_id, vector, "observed")
            self._keep_crop(identity_id, crop)
            return IdentityMatch(identity_id, entry.name or entry.heard, distance, is_new=False)
        identity_id = self._create(None, "observed")
        self._add_exemplar(identity_id, vector, "observed")
        self._keep_crop(identity_id, crop)
        return IdentityMatch(identity_id, None, 0.0, is_new=True)

    def rename(self, identity_id: str, name: str) -> Identity:
        """Name an unnamed identity or rename a named one. Naming it what it is already called is a no-op."""
        entry = self._entry(identity_id)
        try:
            display = normalize_name(name)
        except ValueError as exc:
            raise IdentityError(str(exc)) from exc
        if _ID_RE.match(display):  # events show unnamed people by id: such a name would read as someone else
            raise IdentityError(f"{display!r} looks like an identity id; choose a person's name")
        other = self.find(display)
        if other is not None and other.id != identity_id:
            raise NameTaken(
                f"{other.name!r} is already the name of {other.id}; if {identity_id} is the same person, "
                f"merge them: egomem people merge {identity_id} {other.id}"
            )
        if entry.name != display or entry.heard is not None:
            entry.name, entry.heard = display, None
            self._save_registry()  # the registry is the authority; a crash before the sync is redone on open
            self._sync_payload_name(identity_id)
            self._flush()
        return self._identity(identity_id)

    def merge(self, source_id: str, into_id: str) -> Identity:
        """Make `source_id` part of `into_id`: its exemplars and crops move, its id is retired.

        The merged identity keeps into's name, else takes the source's. Returns it.
        """
        if source_id == into_id:
            raise IdentityError(f"cannot merge {source_id} into itself")
        source, into = self._entry(source_id), self._entry(into_id)
        into.name = into.name or source.name
        into.heard = into.heard or source.heard
        into.evidence = (into.evidence + source.evidence)[-MAX_EVIDENCE:]
        into.rejected = list(dict.fromkeys(into.rejected + source.rejected))
        into.created = min(into.created, source.created)
        into.exemplars += source.exemplars
        del self._entries[source_id]
        self._merged = {old: (into_id if new == source_id else new) for old, new in self._merged.items()}
        self._merged[source_id] = into_id
        self._save_registry()  # tombstone first, see the module doc
        self._move_points(source_id, into_id)
        self._sync_payload_name(into_id)
        self._flush()
        self._move_crops(source_id, into_id)
        return self._identity(into_id)

    def forget(self, identity_id: str) -> Identity:
        """Delete an identity: its exemplars, crops and name. Its id is never handed out again.

        Returns the identity as it was, for reporting.
        """
        self._entry(identity_id)
        gone = self._identity(identity_id)
        del self._entries[identity_id]
        self._forgotten.add(identity_id)
        self._save_registry()  # tombstone first, see the module doc
        self._move_points(identity_id, None)
        self._compact()
        self._move_crops(identity_id, None)
        return gone

    # -- heard names (see egomem.memory.naming) --------------------------------------------------

    def hear(self, identity_id: str, evidence: Sequence[dict[str, Any]]) -> Identity:
        """Keep mentions of a name heard for the identity (pending until enough of them agree)."""
        entry = self._entry(identity_id)
        new = [dict(e) for e in evidence if dict(e) not in entry.evidence]
        if new:
            entry.evidence = (entry.evidence + new)[-MAX_EVIDENCE:]
            self._save_registry()
        return self._identity(identity_id)

    def propose_name(self, identity_id: str, name: str, evidence: Sequence[dict[str, Any]] = ()) -> Identity | None:
        """Show `name`, heard in speech, for the identity until the user confirms or rejects it.

        Returns the identity, or None when the name is not taken up: the user named the identity
        already, refused this name for it, or another identity is called that.
        """
        entry = self._entry(identity_id)
        display = normalize_name(name)
        if entry.name is not None or display.casefold() in {n.casefold() for n in entry.rejected} or _ID_RE.match(display):
            return None
        other = self.find(display) or self.find_heard(display)
        if other is not None and other.id != identity_id:
            return None
        self.hear(identity_id, evidence)
        if entry.heard != display:
            entry.heard = display
            self._save_registry()
        return self._identity(identity_id)

    def confirm_name(self, identity_id: str) -> Identity:
        """The heard name becomes the identity's real name (as if the user had given it)."""
        entry = self._entry(identity_id)
        if entry.name is not None:
            return self._identity(identity_id)
        if entry.heard is None:
            raise IdentityError(f"{identity_id} has no heard name to confirm; name them with `egomem people name {identity_id} NAME`")
        return self.rename(identity_id, entry.heard)

    def reject_name(self, identity_id: str) -> Identity:
        """Drop the heard name and remember the refusal, so that it is not proposed again for them."""
        entry = self._entry(identity_id)
        if entry.heard is None:
            raise IdentityError(f"{identity_id} has no heard name to reject")
        rejected = entry.heard
        entry.rejected = list(dict.fromkeys([*entry.rejected, rejected]))
        entry.evidence = [e for e in entry.evidence if str(e.get("name", "")).casefold() != rejected.casefold()]
        entry.heard = None
        self._save_registry()
        return self._identity(identity_id)

    def add_voice(self, name: str, evidence: Sequence[dict[str, Any]] = ()) -> Identity | None:
        """A person only heard (a call, a voice memo), found by name or created with source "voice".

        None when the user rejected that name for a voice-only person, or someone seen has it.
        """
        display = normalize_name(name)
        if _ID_RE.match(display) or self.find(display) is not None:
            return None
        for identity_id, entry in self._entries.items():
            if entry.source == "voice" and display.casefold() in {n.casefold() for n in entry.rejected}:
                return None
        for identity_id, entry in self._entries.items():
            if entry.source == "voice" and display.casefold() in {(entry.name or "").casefold(), (entry.heard or "").casefold()}:
                return self.hear(identity_id, evidence)
        identity_id = f"{ID_PREFIX}{self._next_number}"
        self._next_number += 1
        self._entries[identity_id] = _Entry(None, "voice", _now(), heard=display, evidence=[dict(e) for e in evidence][-MAX_EVIDENCE:])
        self._save_registry()
        return self._identity(identity_id)

    def _create(self, name: str | None, source: str) -> str:
        identity_id = f"{ID_PREFIX}{self._next_number}"
        self._next_number += 1
        self._entries[identity_id] = _Entry(name, source, _now())
        self._save_registry()  # before any exemplar refers to the id, see the module doc
        return identity_id

    def _add_exemplar(self, identity_id: str, vector: list[float], source: str) -> None:
        entry = self._entries[identity_id]
        payload = {"identity_id": identity_id, "name": entry.name, "source": source, "added_at": _now()}
        with qdrant_errors(f"could not store a face sample in {self.path}"):
            self.shard.update(qe.UpdateOperation.upsert_points([qe.Point(str(uuid.uuid4()), {VECTOR: vector}, payload)]))
        entry.exemplars += 1

    def _match(self, vector: list[float]) -> tuple[str, float] | None:
        """(identity id, distance) of the nearest exemplar within its identity's threshold."""
        request = qe.QueryRequest(limit=MATCH_CANDIDATES, query=qe.Query.Nearest(vector, using=VECTOR), with_payload=True)
        with qdrant_errors(f"could not search the identity index at {self.path}"):
            hits = self.shard.query(request)
        for hit in hits:  # nearest first; for Euclid the score is the distance
            distance = float(hit.score)
            if distance > self.match_distance:
                return None
            identity_id = str(hit.payload["identity_id"])
            entry = self._entries.get(identity_id)
            if distance <= (self.match_distance if entry is not None and entry.name else self.cluster_distance):
                return identity_id, distance
        return None

    def _move_points(self, identity_id: str, into_id: str | None) -> None:
        """Give every exemplar of `identity_id` to `into_id`, or delete them when it is None."""
        with qdrant_errors(f"could not update face samples of {identity_id} in {self.path}"):
            if into_id is None:
                self.shard.update(qe.UpdateOperation.delete_points_by_filter(_of(identity_id)))
            else:
                payload = {"identity_id": into_id, "name": self._entries[into_id].name}
                self.shard.update(qe.UpdateOperation.set_payload_by_filter(_of(identity_id), payload))

    def _flush(self) -> None:
        with qdrant_errors(f"could not flush the identity index at {self.path}"):
            self.shard.flush()

    # -- crops ----------------------------------------------------------------------------------

    def _crop_dir(self, identity_id: str) -> Path:
        if not _ID_RE.match(identity_id):  # ids become folder names: nothing like "../x"
            raise UnknownIdentity(f"no identity {identity_id!r}")
        return self._crops_root / identity_id

    def _keep_crop(self, identity_id: str, crop: np.ndarray | None) -> None:
        """Store the crop while the identity has fewer crops than exemplars and than max_crops.

        One crop per exemplar keeps them as varied as the exemplars are, rather than a run of
        near-identical frames; an identity that had no crops (older index, enrolled without
        crops) catches up from its next sightings.
        """
        if crop is None or self.max_crops == 0:
            return
        have = len(self.crops(identity_id))
        if have >= min(self.max_crops, self._entries[identity_id].exemplars):
            return
        image = _small_crop(crop)
        if image is None:
            return  # an empty or malformed crop is no reason to lose the face itself
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, CROP_QUALITY])
        if not ok:
            return
        folder = self._crop_dir(identity_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / f"{_next_crop_number(folder):04d}.jpg", encoded.tobytes(), sync=False)
        except OSError as exc:
            raise StoreError(f"could not store a face crop in {folder}: {exc}") from exc

    def _move_crops(self, identity_id: str, into_id: str | None) -> None:
        """Move the crops to `into_id` up to its max_crops, deleting the rest (all when into_id is None)."""
        source = self._crop_dir(identity_id)
        if not source.is_dir():
            return
        try:
            if into_id is not None:
                target = self._crop_dir(into_id)
                target.mkdir(parents=True, exist_ok=True)
                for crop in sorted(source.glob("*.jpg")):
                    if len(self.crops(into_id)) >= self.max_crops:
                        break
                    os.replace(crop, target / f"{_next_crop_number(target):04d}.jpg")
            shutil.rmtree(source)
        except OSError as exc:
            raise StoreError(f"could not move the face crops of {identity_id} in {self.path}: {exc}") from exc

    def _sync_payload_name(self, identity_id: str) -> None:
        """Copy the registry's name onto every exemplar of the identity (one shard operation)."""
        with qdrant_errors(f"could not update face samples of {identity_id} in {self.path}"):
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
        with qdrant_errors(f"could not search the identity index at {self.path}"):
            hits = self.shard.query(request)
        if not hits:
            return None
        # For Euclid, Qdrant's score is the distance itself (lower is closer).
        return str(hits[0].payload["identity_id"]), float(hits[0].score)

    def _scroll_payloads(self) -> Iterator[dict[str, Any]]:
        for record in self.scroll_all():
            yield dict(record.payload or {})

    def _save_registry(self) -> None:
        data = {
            "version": REGISTRY_VERSION,
            "next_number": self._next_number,
            "identities": {
                i: {"name": e.name, "source": e.source, "created": e.created,
                    **({"heard": e.heard} if e.heard else {}), **({"evidence": e.evidence} if e.evidence else {}),
                    **({"rejected": e.rejected} if e.rejected else {})}  # fmt: skip
                for i, e in sorted(self._entries.items(), key=lambda item: _number(item[0]))
            },
            "merged": dict(sorted(self._merged.items(), key=lambda item: _number(item[0]))),
            "forgotten": sorted(self._forgotten, key=_number),
        }
        try:
            write_atomic(self._registry_path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise StoreError(f"could not write {self._registry_path}: {exc}") from exc


def _shard_config() -> qe.EdgeConfig:
    return qe.EdgeConfig(vectors={VECTOR: qe.EdgeVectorParams(size=DESCRIPTOR_SIZE, distance=qe.Distance.Euclid)})


def _finish_swap(live: Path) -> None:
    """Settle a shard rewrite (`IdentityIndex._compact`) that a crash cut short.

    The old shard is renamed away only once the new one is complete, so with `live` missing the
    new one is whole (else the old one is put back); any other leftover is dropped.
    """
    fresh, old = live.with_name(live.name + ".new"), live.with_name(live.name + ".old")
    try:
        if not live.exists():
            for candidate in (fresh, old):
                if candidate.is_dir():
                    os.replace(candidate, live)
                    break
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise StoreError(f"could not finish rewriting the identity index at {live}: {exc}") from exc


def _vector(descriptor: np.ndarray) -> list[float]:
    array = np.asarray(descriptor, dtype=np.float32).reshape(-1)
    if array.size != DESCRIPTOR_SIZE or not np.all(np.isfinite(array)):
        raise ValueError(f"a face descriptor must be {DESCRIPTOR_SIZE} finite numbers, got shape {np.shape(descriptor)}")
    return array.tolist()


def _of(identity_id: str) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("identity_id", match=qe.MatchValue(identity_id))])


def _of_any(identity_ids: Sequence[str]) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("identity_id", match=qe.MatchAny(list(identity_ids)))])


def _small_crop(crop: np.ndarray) -> np.ndarray | None:
    """The crop as 8-bit BGR, its longer side at most CROP_SIDE; None when it is no image."""
    image = np.asarray(crop)
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim not in (2, 3) or image.size == 0 or image.dtype != np.uint8:
        return None
    longest = max(image.shape[:2])
    if longest > CROP_SIDE:
        scale = CROP_SIDE / longest
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def _next_crop_number(folder: Path) -> int:
    numbers = [int(p.stem) for p in folder.glob("*.jpg") if p.stem.isdigit()]
    return max(numbers, default=0) + 1


def _number(identity_id: str) -> int:
    match = _ID_RE.match(identity_id)
    return int(match.group(1)) if match else 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_registry(path: Path) -> tuple[dict[str, _Entry], int, dict[str, str], set[str]]:
    """Entries, the next person-N number, and the merge and forget tombstones."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = {
            str(i): _Entry(
                name=normalize_name(v["name"]) if v.get("name") else None,
                source=v.get("source") if v.get("source") in SOURCES else "observed",
                created=str(v.get("created") or _now()),
                heard=normalize_name(v["heard"]) if v.get("heard") else None,
                evidence=[dict(e) for e in v.get("evidence") or []],
                rejected=[str(n) for n in v.get("rejected") or []],
            )
            for i, v in data["identities"].items()
        }
        merged = {str(k): str(v) for k, v in dict(data.get("merged") or {}).items()}
        forgotten = {str(i) for i in data.get("forgotten") or []}
        return entries, int(data.get("next_number", 1)), merged, forgotten
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StoreError(
            f"the identity registry {path} is unreadable ({exc}); move it aside and egomem rebuilds it "
            "from the stored face samples (names included)"
        ) from exc
