"""How facts live in the event shard: their payload, their indexes and their filters.

Facts are points of their own beside the events, marked `record: "fact"`, with the same named text
vector (the fact's subject and sentence). Event queries exclude them with `NOT_A_FACT`; fact queries
require `IS_A_FACT`. Datetimes keep the speaker's UTC offset, as event times do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import qdrant_edge as qe

from egomem.errors import StoreError
from egomem.memory.facts import Fact, FactKind, FactStatus
from egomem.store.base import FactFilter

RECORD = "record"
FACT = "fact"
FACT_PAYLOAD_VERSION = 1

# Created with the shard and ensured on every load, beside the event indexes (recording_id and
# people are shared with them).
FACT_INDEXES: dict[str, qe.PayloadSchemaType] = {
    RECORD: qe.PayloadSchemaType.Keyword,
    "kind": qe.PayloadSchemaType.Keyword,
    "status": qe.PayloadSchemaType.Keyword,
    "said_at": qe.PayloadSchemaType.Datetime,
    "target_start": qe.PayloadSchemaType.Datetime,
    "valid_to": qe.PayloadSchemaType.Datetime,
    "subject_words": qe.PayloadSchemaType.Keyword,
    "event_id": qe.PayloadSchemaType.Keyword,
    "mentioned": qe.PayloadSchemaType.Keyword,
}

IS_A_FACT = qe.FieldCondition(RECORD, match=qe.MatchValue(FACT))
_TIMES = ("said_at", "target_start", "target_end", "valid_from", "valid_to")


def fact_to_payload(fact: Fact, iso: Any) -> dict[str, Any]:
    """Everything needed to rebuild the fact, plus flat indexed copies; `iso` checks and formats datetimes."""
    payload: dict[str, Any] = {
        RECORD: FACT,
        "v": FACT_PAYLOAD_VERSION,
        "id": fact.id,
        "kind": fact.kind.value,
        "text": fact.text,
        "subject": fact.subject,
        "event_id": fact.event_id,
        "recording_id": fact.recording_id,
        "source": fact.source,
        "speaker": fact.speaker,
        "addressee": fact.addressee,
        "people": list(fact.people),
        "place": fact.place,
        "where": fact.where,
        "item": fact.item,
        "price": fact.price,
        "currency": fact.currency,
        "status": fact.status.value,
        "said_status": fact.said_status.value,
        "supersedes": fact.supersedes,
        "cue": fact.cue,
        "subject_words": fact.words,
        # Present, speaking or spoken to: what "what did Ana ask me" filters on.
        "mentioned": list(dict.fromkeys([*fact.people, *(p for p in (fact.speaker, fact.addressee) if p)])),
    }
    for name in _TIMES:
        value = getattr(fact, name)
        if value is not None:
            payload[name] = iso(value, f"{name} of fact {fact.id}")
    return payload


def fact_from_payload(payload: dict[str, Any], vectors: Any = None, text_name: str = "text") -> Fact:
    try:
        times = {name: datetime.fromisoformat(payload[name]) if payload.get(name) else None for name in _TIMES}
        dense = vectors if isinstance(vectors, dict) else {}
        vector = dense.get(text_name)
        return Fact(
            id=payload["id"], kind=FactKind(payload["kind"]), text=payload["text"], subject=payload.get("subject", ""),
            said_at=times["said_at"], event_id=payload["event_id"], recording_id=payload["recording_id"],
            source=payload.get("source", "heard"), speaker=payload.get("speaker"), addressee=payload.get("addressee"),
            people=list(payload.get("people", [])), place=payload.get("place"), target_start=times["target_start"],
            target_end=times["target_end"], where=payload.get("where"), item=payload.get("item"), price=payload.get("price"),
            currency=payload.get("currency"), status=FactStatus(payload.get("status", "open")), supersedes=payload.get("supersedes"),
            valid_from=times["valid_from"], valid_to=times["valid_to"],
            text_vector=[float(x) for x in vector] if isinstance(vector, list) else None,
            said_status=FactStatus(payload.get("said_status", "open")), cue=payload.get("cue", ""),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a stored fact is malformed ({exc!r}): {payload.get('id', '?')}") from exc


def to_fact_filter(flt: FactFilter | None, iso: Any) -> qe.Filter:
    must: list[Any] = [IS_A_FACT]
    must_not: list[Any] = []
    flt = flt or FactFilter()
    if flt.said_before is not None:
        must.append(qe.FieldCondition("said_at", range=qe.RangeDateTime(lt=iso(flt.said_before, "FactFilter.said_before"))))
    if flt.said_after is not None:
        must.append(qe.FieldCondition("said_at", range=qe.RangeDateTime(gte=iso(flt.said_after, "FactFilter.said_after"))))
    if flt.target_after is not None:
        must.append(qe.FieldCondition("target_start", range=qe.RangeDateTime(gte=iso(flt.target_after, "FactFilter.target_after"))))
    if flt.target_before is not None:
        must.append(qe.FieldCondition("target_start", range=qe.RangeDateTime(lt=iso(flt.target_before, "FactFilter.target_before"))))
    if flt.kinds is not None:
        must.append(qe.FieldCondition("kind", match=qe.MatchAny([FactKind(k).value for k in flt.kinds])))
    if flt.statuses is not None:
        must.append(qe.FieldCondition("status", match=qe.MatchAny([FactStatus(s).value for s in flt.statuses])))
    if not flt.include_superseded:
        superseded = qe.FieldCondition("status", match=qe.MatchValue(FactStatus.SUPERSEDED.value))
        if flt.said_before is None:
            must_not.append(superseded)
        else:  # as it stood at said_before: not yet replaced then
            replaced_before = qe.FieldCondition("valid_to", range=qe.RangeDateTime(lt=iso(flt.said_before, "FactFilter.said_before")))
            must_not.append(qe.Filter(must=[superseded, replaced_before]))
    if flt.recording_id is not None:
        must.append(qe.FieldCondition("recording_id", match=qe.MatchValue(flt.recording_id)))
    if flt.people is not None:
        must.append(qe.FieldCondition("mentioned", match=qe.MatchAny(list(flt.people))))
    if flt.event_ids is not None:
        must.append(qe.FieldCondition("event_id", match=qe.MatchAny(list(flt.event_ids))))
    if flt.subject_words is not None:
        must.append(qe.FieldCondition("subject_words", match=qe.MatchAny(list(flt.subject_words))))
    return qe.Filter(must=must, must_not=must_not or None)


def without_person(payload: dict[str, Any], names: set[str]) -> dict[str, Any] | None:
    """The payload fields to set so that none of `names` is left in the fact; None when none was there."""
    people = [p for p in payload.get("people", []) if p not in names]
    speaker = None if payload.get("speaker") in names else payload.get("speaker")
    addressee = None if payload.get("addressee") in names else payload.get("addressee")
    mentioned = [p for p in payload.get("mentioned", []) if p not in names]
    if people == payload.get("people", []) and speaker == payload.get("speaker") and addressee == payload.get("addressee"):
        return None
    return {"people": people, "speaker": speaker, "addressee": addressee, "mentioned": mentioned}
