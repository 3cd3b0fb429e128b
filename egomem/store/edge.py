"""The embedded event store: one Qdrant Edge shard in a folder, no server.

Layout of the folder: Qdrant Edge's own files (`edge_config.json`, `wal/`, `segments/`) and our
`.lock`, which holds the pid of the process that has the store open.

What this module relies on, checked against qdrant-edge-py 0.9.0 (tests/test_store.py pins it):

* Datetime payload indexes parse ISO 8601 strings with any whole-minute UTC offset and compare the
  instants, so `start`/`end` keep the recording's own offset and ranges still work across offsets.
  Offsets with seconds ("+05:30:15") are not parsed and would silently drop out of every range and
  ordering, so `upsert` refuses them; naive strings would be taken as UTC, so both `upsert` and the
  filters refuse naive datetimes.
* `OrderBy("start")` on the datetime index sorts by instant (order_value is epoch microseconds).
  A scroll with order_by returns no next-page offset and defaults to 10 results, so `events()`
  counts first and asks for exactly that many.
* `Bm25.embed_document` gives saturated term frequencies only and `embed_query` gives 1.0 per
  token; inverse document frequency comes from the sparse vector's `Modifier.Idf`, computed by the
  shard at query time. Documents and queries must go through the same Bm25 config.
* Dense search on a named vector skips points that lack it; the image search still adds a
  has-vector condition so that holds by construction.
* Cosine vectors are stored L2-normalised as float32: vectors read back are unit length.
* Every update goes to the WAL before it returns: a process killed (SIGKILL) without flush or
  close loses nothing, the WAL is replayed on load. `upsert` flushes anyway so that what it wrote
  is in the segments too, not only in the log.
* Qdrant itself refuses a second open of the same shard (its WAL lock, "WouldBlock"), but with an
  opaque message; our own flock comes first and names the holder.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import qdrant_edge as qe

from egomem.errors import StoreError
from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote
from egomem.memory.facts import Fact
from egomem.store.base import EventFilter, FactFilter, ScoredEvent
from egomem.store.facts import FACT, FACT_INDEXES, IS_A_FACT, RECORD, fact_from_payload, fact_to_payload, to_fact_filter, without_person
from egomem.store.shard import LockedShard, qdrant_errors
from egomem.types import GeoPoint

TEXT = "text"
IMAGE = "image"
KEYWORDS = "keywords"
PAYLOAD_VERSION = 1

# Filterable payload fields and their index types; created with the shard, ensured on every load.
_INDEXES: dict[str, qe.PayloadSchemaType] = {
    "start": qe.PayloadSchemaType.Datetime,
    "end": qe.PayloadSchemaType.Datetime,
    "day": qe.PayloadSchemaType.Keyword,
    "people": qe.PayloadSchemaType.Keyword,
    "place_name": qe.PayloadSchemaType.Keyword,
    "location": qe.PayloadSchemaType.Geo,
    "recording_id": qe.PayloadSchemaType.Keyword,
    "identity_ids": qe.PayloadSchemaType.Keyword,  # naming, merging and forgetting find events by id
}

# Text embedding for re-captioned events: texts in, one L2-normalised row per text out.
Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Appearances:
    """Where one identity shows up in memory."""

    events: int
    first_seen: datetime  # start of the earliest event, in its own offset
    last_seen: datetime  # end of the latest event


class StoreStats(TypedDict):
    events: int
    recordings: int
    days: int
    first_start: str | None  # ISO 8601, in the event's own offset
    last_start: str | None
    disk_bytes: int  # allocated on disk, like `du` (Qdrant pre-allocates sparse files)


class EdgeEventStore(LockedShard):
    """Events in a Qdrant Edge shard at `path`, opened exclusively by one process at a time."""

    label = "event store"

    def __init__(self, path: Path, *, text_dim: int = 384, image_dim: int = 512) -> None:
        self.text_dim = text_dim
        self.image_dim = image_dim
        # Documents and queries must share one tokenizer; ascii folding lets "cafe" find "Café".
        self._bm25 = qe.Bm25(qe.Bm25Config(ascii_folding=True))
        self._hold(path)
        try:
            self._shard = self._open()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def _config(self) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={
                TEXT: qe.EdgeVectorParams(size=self.text_dim, distance=qe.Distance.Cosine),
                IMAGE: qe.EdgeVectorParams(size=self.image_dim, distance=qe.Distance.Cosine),
            },
            sparse_vectors={KEYWORDS: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )

    def _open(self) -> qe.EdgeShard:
        exists = (self.path / "edge_config.json").exists() or any((self.path / "segments").glob("*"))
        if exists:
            self._check_dims()
            with qdrant_errors(f"could not open the event store at {self.path}"):
                shard = qe.EdgeShard.load(str(self.path), self._config())
        else:
            with qdrant_errors(f"could not create the event store at {self.path}"):
                shard = qe.EdgeShard.create(str(self.path), self._config())
        try:
            with qdrant_errors(f"could not index the event store at {self.path}"):
                present = set(shard.info().payload_schema)
                for name, kind in {**_INDEXES, **FACT_INDEXES}.items():
                    if name not in present:
                        shard.update(qe.UpdateOperation.create_field_index(name, kind))
                shard.flush()
        except BaseException:
            shard.close()
            raise
        return shard

    def _check_dims(self) -> None:
        """Name both sizes when the shard was built for other embedders (Qdrant's own error doesn't)."""
        try:
            vectors = json.loads((self.path / "edge_config.json").read_text())["vectors"]
            have = {name: int(vectors[name]["size"]) for name in (TEXT, IMAGE)}
        except (OSError, ValueError, KeyError, TypeError):
            return  # unreadable: Qdrant's compatibility check on load still applies
        want = {TEXT: self.text_dim, IMAGE: self.image_dim}
        if have != want:
            raise StoreError(
                f"the event store at {self.path} holds {have[TEXT]}-d text and {have[IMAGE]}-d image vectors, "
                f"but the configured models give {want[TEXT]}-d and {want[IMAGE]}-d; use the models it was "
                "built with, or move the folder aside and re-ingest"
            )

    # -- writes ---------------------------------------------------------------------------------

    def upsert(self, events: Sequence[Event]) -> None:
        """Insert or replace events by id, then flush."""
        if not events:
            return
        points = [self._point(e) for e in events]
        with qdrant_errors(f"could not write {len(points)} events to {self.path}"):
            self.shard.update(qe.UpdateOperation.upsert_points(points))
            self.shard.flush()

    def delete_recording(self, recording_id: str) -> None:
        flt = qe.Filter(must=[_match("recording_id", recording_id)])
        with qdrant_errors(f"could not delete recording {recording_id} from {self.path}"):
            self.shard.update(qe.UpdateOperation.delete_points_by_filter(flt))
            self.shard.flush()

    def relabel_identity(
        self, identity_id: str, name: str | None, *, into_id: str | None = None, embed: Embed | None = None
    ) -> int:
        """Show `identity_id` as `name` (its id when None) in every event that has it; the number changed.

        With `into_id` (a merge) the id itself becomes `into_id`, once per event, and events of
        `into_id` show `name` too. Composed captions are rewritten with the new names and the
        keywords follow them; the text vectors are recomputed only when `embed` is given.
        """
        label = name or into_id or identity_id
        replace = {identity_id: into_id or identity_id}
        labels = {identity_id: label, **({into_id: label} if into_id else {})}
        ids = list(labels)
        return self._rewrite_people(ids, lambda people, identity_ids: _relabelled(people, identity_ids, replace, labels), embed)

    def remove_identity(self, identity_id: str, *, name: str | None = None, embed: Embed | None = None) -> int:
        """Take `identity_id` and its display name out of every event that has it; the number changed.

        name: the identity's display name, only needed for events whose `people` and `identity_ids`
        are not parallel lists (never the case for ingested events).
        """
        drop = {identity_id, *([name] if name else [])}
        names = drop | self._names_of(identity_id)  # the labels facts know them by
        changed = self._rewrite_people([identity_id], lambda people, ids: _without(people, ids, identity_id, drop), embed)
        self._forget_in_facts(names)
        return changed

    def identity_appearances(self) -> dict[str, Appearances]:
        """Per identity id: how many events it is in and when it was first and last seen. One scan."""
        found: dict[str, Appearances] = {}
        for record in self.scroll_all(with_payload=["identity_ids", "start", "end"]):
            payload = record.payload or {}
            try:
                start, end = datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"])
            except (KeyError, TypeError, ValueError):
                continue
            for identity_id in dict.fromkeys(payload.get("identity_ids") or []):
                seen = found.get(identity_id)
                found[identity_id] = (
                    Appearances(1, start, end)
                    if seen is None
                    else Appearances(seen.events + 1, min(seen.first_seen, start), max(seen.last_seen, end))
                )
        return found

    # -- places -----------------------------------------------------------------------------------

    def place_events(self) -> list[Event]:
        """Every event with what placing and naming it needs (place, visits, text, speech, keyframes), no
        vectors nor captions: one scroll of a few payload fields."""
        fields = ["id", "recording_id", "source", "start", "end", "place", "people", "quotes", "visible_text", "keyframes"]
        return [event_from_payload(r.payload or {}) for r in self.scroll_all(to_qdrant_filter(None), with_payload=fields)]

    def set_places(self, places: dict[str, Place | None], *, embed: Embed | None = None) -> int:
        """Give each event (by id) its place; the number changed. Unknown ids and unchanged places are skipped.

        Only the place fields are rewritten (set_payload, and delete_payload for a name or position
        that went away). A composed caption that said where is re-composed; when that changes the
        document, its keywords follow and its text vector is recomputed when `embed` is given.
        """
        if not places:
            return 0
        changed: list[tuple[str, dict[str, Any], list[str], str | None]] = []  # point id, payload, keys to drop, new document
        ids = {_point_id(event_id): event_id for event_id in places}
        with qdrant_errors(f"could not read the event store at {self.path}"):
            records = self.shard.retrieve(list(ids), True, False)
        for record in records:
            event = event_from_payload(record.payload or {})
            place = places[ids[str(record.id)]]
            if place == event.place:
                continue
            fields = _place_fields(place)
            caption = _recaption_place(event, place)
            document = None
            if caption != event.caption:
                fields["caption"] = caption
                event.caption = caption
                document = event.document
            drop = [key for key in ("place_name", "location") if key not in fields]
            changed.append((_point_id(event.id), fields, drop, document))
        if not changed:
            return 0
        with qdrant_errors(f"could not relabel places in the event store at {self.path}"):
            for pid, fields, drop, _ in changed:
                self.shard.update(qe.UpdateOperation.set_payload([pid], fields))
                if drop:
                    self.shard.update(qe.UpdateOperation.delete_payload([pid], drop))
            self._rewrite_documents([(pid, doc) for pid, _, _, doc in changed if doc is not None], embed)
            self.shard.flush()
        return len(changed)

    def _rewrite_documents(self, documents: list[tuple[str, str]], embed: Embed | None) -> None:
        """New keywords, and text vectors when `embed` is given, for (point id, new document) pairs."""
        text_vectors = embed([doc for _, doc in documents]) if embed is not None and documents else None
        for k, (pid, doc) in enumerate(documents):
            vectors: dict[str, Any] = {}
            if text_vectors is not None:
                _check_len(text_vectors[k], self.text_dim, f"text vector of event {pid}")
                vectors[TEXT] = [float(x) for x in text_vectors[k]]
            keywords = self._bm25.embed_document(doc)
            if keywords.indices:
                vectors[KEYWORDS] = keywords
            else:
                self.shard.update(qe.UpdateOperation.delete_vectors([pid], [KEYWORDS]))
            if vectors:
                self.shard.update(qe.UpdateOperation.update_vectors([qe.PointVectors(pid, vectors)]))

    def _rewrite_people(
        self,
        identity_ids: list[str],
        edit: Callable[[list[str], list[str]], tuple[list[str], list[str]]],
        embed: Embed | None,
    ) -> int:
        """Apply `edit` to (people, identity_ids) of every event holding any of the ids.

        Only the changed payload fields and vectors are written (set_payload, update_vectors), so
        anything else on the point stays exactly as it was.
        """
        flt = qe.Filter(must=[qe.FieldCondition("identity_ids", match=qe.MatchAny(identity_ids))])
        changed: list[tuple[str, dict[str, Any], str | None]] = []  # point id, payload, new document
        for record in self.scroll_all(flt):
            event = event_from_payload(record.payload or {})
            people, ids = edit(list(event.people), list(event.identity_ids))
            if people == event.people and ids == event.identity_ids:
                continue
            caption = _recaption(event, people)
            document = None
            if caption != event.caption:
                event.caption = caption
                document = event.document
            changed.append((_point_id(event.id), {"people": people, "identity_ids": ids, "caption": caption}, document))
        if not changed:
            return 0
        with qdrant_errors(f"could not relabel people in the event store at {self.path}"):
            for pid, payload, _ in changed:
                self.shard.update(qe.UpdateOperation.set_payload([pid], payload))
            self._rewrite_documents([(pid, doc) for pid, _, doc in changed if doc is not None], embed)
            self.shard.flush()
        return len(changed)

    def _point(self, event: Event) -> qe.Point:
        if event.text_vector is None:
            raise StoreError(f"event {event.id} has no text vector; embed events before storing them")
        _check_len(event.text_vector, self.text_dim, f"text vector of event {event.id}")
        vectors: dict[str, Any] = {TEXT: [float(x) for x in event.text_vector]}
        if event.image_vector is not None:
            _check_len(event.image_vector, self.image_dim, f"image vector of event {event.id}")
            vectors[IMAGE] = [float(x) for x in event.image_vector]
        keywords = self._bm25.embed_document(event.document)
        if keywords.indices:
            vectors[KEYWORDS] = keywords
        return qe.Point(_point_id(event.id), vectors, event_to_payload(event))

    # -- facts ----------------------------------------------------------------------------------

    def upsert_facts(self, facts: Sequence[Fact]) -> None:
        """Insert or replace facts by id (their own points, `record: "fact"`), then flush. Facts must carry a text vector."""
        if not facts:
            return
        points = []
        for fact in facts:
            if fact.text_vector is None:
                raise StoreError(f"fact {fact.id} has no text vector; embed facts before storing them")
            _check_len(fact.text_vector, self.text_dim, f"text vector of fact {fact.id}")
            points.append(qe.Point(_point_id(fact.id), {TEXT: [float(x) for x in fact.text_vector]}, fact_to_payload(fact, _iso)))
        with qdrant_errors(f"could not write {len(points)} facts to {self.path}"):
            self.shard.update(qe.UpdateOperation.upsert_points(points))
            self.shard.flush()

    def facts(self, flt: FactFilter | None = None) -> list[Fact]:
        """Facts matching the filter, oldest said first (ties by id)."""
        found = [fact_from_payload(r.payload or {}, r.vector) for r in self.scroll_all(to_fact_filter(flt, _iso), with_vector=[TEXT])]
        return sorted(found, key=lambda f: (f.said_at, f.id))

    def search_facts(self, vector: Sequence[float], flt: FactFilter | None = None, limit: int = 10) -> list[tuple[Fact, float]]:
        """Nearest facts by the text vector, best first."""
        _check_len(vector, self.text_dim, "text query vector")
        if limit <= 0:
            return []
        request = qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest([float(x) for x in vector], using=TEXT), filter=to_fact_filter(flt, _iso),
            with_payload=True, with_vector=[TEXT],
        )  # fmt: skip
        with qdrant_errors(f"could not search the facts in {self.path}"):
            hits = self.shard.query(request)
        return [(fact_from_payload(h.payload or {}, h.vector), float(h.score)) for h in hits]

    def _names_of(self, identity_id: str) -> set[str]:
        """Display names an identity has in events (paired with its id)."""
        names: set[str] = set()
        flt = qe.Filter(must=[qe.FieldCondition("identity_ids", match=qe.MatchValue(identity_id))], must_not=[IS_A_FACT])
        for record in self.scroll_all(flt, with_payload=["people", "identity_ids"]):
            payload = record.payload or {}
            people, ids = payload.get("people") or [], payload.get("identity_ids") or []
            if len(people) == len(ids):
                names.update(p for p, i in zip(people, ids) if i == identity_id)
        return names

    def _forget_in_facts(self, names: set[str]) -> int:
        """Take these display names out of every fact (present, speaker, addressee); the number changed."""
        flt = qe.Filter(must=[IS_A_FACT, qe.FieldCondition("mentioned", match=qe.MatchAny(sorted(names)))])
        changed = [(str(r.id), fields) for r in self.scroll_all(flt) if (fields := without_person(r.payload or {}, names))]
        if changed:
            with qdrant_errors(f"could not remove a person from the facts in {self.path}"):
                for pid, fields in changed:
                    self.shard.update(qe.UpdateOperation.set_payload([pid], fields))
                self.shard.flush()
        return len(changed)

    # -- reads ----------------------------------------------------------------------------------

    def search_text(self, vector: Sequence[float], flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        _check_len(vector, self.text_dim, "text query vector")
        return self._search(qe.Query.Nearest([float(x) for x in vector], using=TEXT), flt, limit)

    def search_keywords(self, text: str, flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        query = self._bm25.embed_query(text)
        if not query.indices:
            return []  # only stopwords or punctuation: nothing to rank by
        return self._search(qe.Query.Nearest(query, using=KEYWORDS), flt, limit)

    def search_image(self, vector: Sequence[float], flt: EventFilter | None = None, limit: int = 10) -> list[ScoredEvent]:
        _check_len(vector, self.image_dim, "image query vector")
        return self._search(qe.Query.Nearest([float(x) for x in vector], using=IMAGE), flt, limit, [qe.HasVectorCondition(IMAGE)])

    def _search(self, query: qe.Query, flt: EventFilter | None, limit: int, extra: list[Any] | None = None) -> list[ScoredEvent]:
        if limit <= 0:
            return []
        request = qe.QueryRequest(
            limit=limit,
            query=query,
            filter=to_qdrant_filter(flt, extra),
            with_payload=True,
            with_vector=[TEXT, IMAGE],
        )
        with qdrant_errors(f"could not search the event store at {self.path}"):
            hits = self.shard.query(request)
        return [ScoredEvent(event_from_payload(h.payload or {}, h.vector), float(h.score)) for h in hits]

    def events(self, flt: EventFilter | None = None, limit: int | None = None) -> list[Event]:
        """Events matching the filter, oldest start first (ties by end, then id)."""
        wanted = self.count(flt) if limit is None else min(limit, self.count(flt))
        if wanted <= 0:
            return []
        request = qe.ScrollRequest(
            limit=wanted,
            filter=to_qdrant_filter(flt),
            with_payload=True,
            with_vector=[TEXT, IMAGE],
            order_by=qe.OrderBy("start", qe.Direction.Asc),
        )
        with qdrant_errors(f"could not read the event store at {self.path}"):
            records, _ = self.shard.scroll(request)
        found = [event_from_payload(r.payload or {}, r.vector) for r in records]
        # The index orders by instant; a stable re-sort only settles ties deterministically.
        return sorted(found, key=lambda e: (e.start, e.end, e.id))

    def get(self, ids: Sequence[str]) -> list[Event]:
        """Events by id in the order asked; unknown (or non-UUID) ids are skipped."""
        point_ids: list[str] = []
        for raw in ids:
            try:
                point_ids.append(_point_id(raw))
            except StoreError:
                continue
        if not point_ids:
            return []
        with qdrant_errors(f"could not read the event store at {self.path}"):
            records = self.shard.retrieve(point_ids, True, [TEXT, IMAGE])
        by_id = {str(r.id): event_from_payload(r.payload or {}, r.vector) for r in records if (r.payload or {}).get(RECORD) != FACT}
        out: list[Event] = []
        for pid in dict.fromkeys(point_ids):
            if pid in by_id:
                out.append(by_id[pid])
        return out

    def count(self, flt: EventFilter | None = None) -> int:
        with qdrant_errors(f"could not count the event store at {self.path}"):
            return int(self.shard.count(qe.CountRequest(exact=True, filter=to_qdrant_filter(flt))))

    def stats(self) -> StoreStats:
        """Counts and size for `egomem status`."""
        events = self.count()
        with qdrant_errors(f"could not read the event store at {self.path}"):
            recordings = self._distinct("recording_id", events)
            days = self._distinct("day", events)
            first = self._edge_start(qe.Direction.Asc)
            last = self._edge_start(qe.Direction.Desc)
        return StoreStats(
            events=events, recordings=recordings, days=days, first_start=first, last_start=last, disk_bytes=_disk_bytes(self.path)
        )

    def _distinct(self, key: str, upper: int) -> int:
        if upper == 0:
            return 0
        return len(self.shard.facet(qe.FacetRequest(key, limit=upper, exact=True, filter=qe.Filter(must_not=[IS_A_FACT]))).hits)

    def _edge_start(self, direction: qe.Direction) -> str | None:
        records, _ = self.shard.scroll(
            qe.ScrollRequest(limit=1, with_payload=["start"], with_vector=False, order_by=qe.OrderBy("start", direction))
        )
        return str(records[0].payload["start"]) if records and records[0].payload else None


# -- payload ------------------------------------------------------------------------------------


def event_to_payload(event: Event) -> dict[str, Any]:
    """Everything needed to rebuild the event, plus flat copies of what filters need indexed."""
    payload: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "id": event.id,
        "recording_id": event.recording_id,
        "source": event.source,
        "start": _iso(event.start, f"start of event {event.id}"),
        "end": _iso(event.end, f"end of event {event.id}"),
        "day": event.day,
        "place": None,
        "people": list(event.people),
        "identity_ids": list(event.identity_ids),
        "quotes": [
            {"start": _iso(q.start, f"quote in event {event.id}"), "end": _iso(q.end, f"quote in event {event.id}"),
             "text": q.text, "speaker": q.speaker}
            for q in event.quotes
        ],
        "visible_text": list(event.visible_text),
        "tags": list(event.tags),
        "caption": event.caption,
        "keyframes": list(event.keyframes),
    }
    if event.place is not None:
        payload.update(_place_fields(event.place))
    return payload


def _place_fields(place: Place | None) -> dict[str, Any]:
    """The payload fields of a place: the place itself and flat, indexed copies (a keyword for the
    name, a geo point for radius filters), each present only when it has a value."""
    if place is None:
        return {"place": None}
    point = place.point
    fields: dict[str, Any] = {
        "place": {"name": place.name, "point": {"lat": point.lat, "lon": point.lon} if point else None, "source": place.source}
    }
    if place.name:
        fields["place_name"] = place.name
    if point is not None:
        fields["location"] = {"lat": point.lat, "lon": point.lon}
    return fields


def event_from_payload(payload: dict[str, Any], vectors: Any = None) -> Event:
    """The inverse of `event_to_payload`; vectors are the named dense vectors read with the point."""
    try:
        place_data = payload.get("place")
        place = None
        if place_data is not None:
            pt = place_data.get("point")
            point = GeoPoint(float(pt["lat"]), float(pt["lon"])) if pt else None
            place = Place(name=place_data.get("name"), point=point, source=place_data.get("source"))  # no source before v1.1
        dense = vectors if isinstance(vectors, dict) else {}
        return Event(
            id=payload["id"],
            recording_id=payload["recording_id"],
            source=payload["source"],
            start=datetime.fromisoformat(payload["start"]),
            end=datetime.fromisoformat(payload["end"]),
            place=place,
            people=list(payload.get("people", [])),
            identity_ids=list(payload.get("identity_ids", [])),
            quotes=[
                Quote(datetime.fromisoformat(q["start"]), datetime.fromisoformat(q["end"]), q["text"], q.get("speaker"))
                for q in payload.get("quotes", [])
            ],
            visible_text=list(payload.get("visible_text", [])),
            tags=list(payload.get("tags", [])),
            caption=payload.get("caption", ""),
            keyframes=list(payload.get("keyframes", [])),
            text_vector=_floats(dense.get(TEXT)),
            image_vector=_floats(dense.get(IMAGE)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a stored event is malformed ({exc!r}): {payload.get('id', '?')}") from exc


# -- filters ------------------------------------------------------------------------------------


def to_qdrant_filter(flt: EventFilter | None, extra: list[Any] | None = None) -> qe.Filter | None:
    must: list[Any] = list(extra or [])
    if flt is not None:
        if flt.before is not None:
            must.append(qe.FieldCondition("start", range=qe.RangeDateTime(lt=_iso(flt.before, "EventFilter.before"))))
        if flt.after is not None:
            must.append(qe.FieldCondition("end", range=qe.RangeDateTime(gte=_iso(flt.after, "EventFilter.after"))))
        if flt.days is not None:
            must.append(qe.FieldCondition("day", match=qe.MatchAny(list(flt.days))))  # [] matches nothing
        if flt.people is not None:
            must.append(qe.FieldCondition("people", match=qe.MatchAny(list(flt.people))))
        if flt.place_name is not None:
            must.append(_match("place_name", flt.place_name))
        if flt.near is not None:
            centre = qe.GeoPoint(lon=flt.near.lon, lat=flt.near.lat)
            must.append(qe.FieldCondition("location", geo_radius=qe.GeoRadius(centre, float(flt.radius_m))))
        if flt.recording_id is not None:
            must.append(_match("recording_id", flt.recording_id))
    return qe.Filter(must=must or None, must_not=[IS_A_FACT])  # facts share the shard, never an event query


def _match(key: str, value: str) -> qe.FieldCondition:
    return qe.FieldCondition(key, match=qe.MatchValue(value))


# -- people labels --------------------------------------------------------------------------------


def _relabelled(
    people: list[str], identity_ids: list[str], replace: dict[str, str], labels: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Ids swapped per `replace` and display names per `labels`, each id once (its first place kept)."""
    if len(people) != len(identity_ids):  # not built by the ingest pipeline: names cannot be paired with ids
        ids = list(dict.fromkeys(replace.get(i, i) for i in identity_ids))
        return list(dict.fromkeys(labels.get(p, p) for p in people)), ids
    out_people: list[str] = []
    out_ids: list[str] = []
    for person, identity_id in zip(people, identity_ids):
        identity_id = replace.get(identity_id, identity_id)
        if identity_id in out_ids:
            continue  # both halves of a merge were in the event
        out_ids.append(identity_id)
        out_people.append(labels.get(identity_id, person))
    return out_people, out_ids


def _without(people: list[str], identity_ids: list[str], identity_id: str, names: set[str]) -> tuple[list[str], list[str]]:
    if len(people) != len(identity_ids):
        return [p for p in people if p not in names], [i for i in identity_ids if i != identity_id]
    kept = [(p, i) for p, i in zip(people, identity_ids) if i != identity_id]
    return [p for p, _ in kept], [i for _, i in kept]


def _recaption(event: Event, people: list[str]) -> str:
    """The caption with `people` in its "with ..." part, when it is a composed caption; else as it was.

    A caption is rewritten only if composing it from the event's own fields gives it back exactly:
    a caption written by hand or by another stage (a day summary) is never touched.
    """
    for tags in (event.tags, []):  # the ingest pipeline composes without tags
        if compose_caption(event.place, event.people, event.visible_text, event.quotes, tags) == event.caption:
            return compose_caption(event.place, people, event.visible_text, event.quotes, tags)
    return event.caption


def _recaption_place(event: Event, place: Place | None) -> str:
    """The caption saying `place`, when it is a composed caption; else as it was (see `_recaption`)."""
    for tags in (event.tags, []):
        if compose_caption(event.place, event.people, event.visible_text, event.quotes, tags) == event.caption:
            return compose_caption(place, event.people, event.visible_text, event.quotes, tags)
    return event.caption


# -- helpers ------------------------------------------------------------------------------------


def _iso(moment: datetime, what: str) -> str:
    offset = moment.utcoffset()
    if offset is None:
        raise StoreError(f"{what} has no UTC offset: {moment.isoformat()}")
    if offset % timedelta(minutes=1):
        raise StoreError(f"{what} has a UTC offset with seconds, which the store cannot index: {moment.isoformat()}")
    return moment.isoformat()


def _point_id(event_id: str) -> str:
    try:
        return str(uuid.UUID(event_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"event id {event_id!r} is not a UUID") from exc


def _check_len(vector: Sequence[float], dim: int, what: str) -> None:
    if len(vector) != dim:
        raise StoreError(f"{what} has {len(vector)} dimensions, the store expects {dim}")


def _floats(vector: Any) -> list[float] | None:
    return [float(x) for x in vector] if isinstance(vector, list) else None


def _disk_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue  # a segment file swapped out by the optimizer mid-walk
    return total


