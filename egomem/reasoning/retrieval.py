"""Finding the moments a question is about: hybrid search (dense text vectors + BM25 keywords) under
hard filters (nothing at or after the asking time is visible; places and people named are
constraints), and the whole-window reads that counting, habits and sequences need.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from egomem.memory.events import DAY_SUMMARY_RECORDING, Event
from egomem.memory.places import distance_m
from egomem.reasoning.question import Kind, Question, compact, tokens
from egomem.store.base import EventFilter, EventStore

CANDIDATES = 30
SAME_PLACE_M = 150.0  # an event this close to one where the named place's sign was read happened there too
OCCASION_GAP_S = 1800  # moments further apart than this (or in other recordings) are separate occasions


@dataclass
class Candidate:
    event: Event
    dense: float = 0.0
    keyword: float = 0.0
    relevance: float = 0.0


class Retriever:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def search(self, q: Question, query_vectors: np.ndarray) -> list[Candidate]:
        """The best moments for the question (and for the question with each choice), most relevant first."""
        flt = window_filter(q)
        found: dict[str, Candidate] = {}
        for vector in query_vectors:
            for hit in self.store.search_text(vector.tolist(), flt, CANDIDATES):
                cand = found.setdefault(hit.event.id, Candidate(hit.event))
                cand.dense = max(cand.dense, hit.score)
        keyword_query = " ".join(q.keywords)
        if keyword_query:
            hits = self.store.search_keywords(keyword_query, flt, CANDIDATES)
            top = max((h.score for h in hits), default=0.0) or 1.0
            for hit in hits:
                found.setdefault(hit.event.id, Candidate(hit.event)).keyword = hit.score / top
        # Answers cite moments; day summaries are for browsing, not evidence.
        moments = [c for c in found.values() if c.event.recording_id != DAY_SUMMARY_RECORDING]
        for cand in moments:
            cand.relevance = relevance(q, cand)
        return sorted(moments, key=lambda c: c.relevance, reverse=True)

    def moments(self, q: Question) -> list[Event]:
        """Every moment in the question's window, oldest first (counting, habits, sequences, clock times)."""
        return [e for e in self.store.events(window_filter(q)) if e.recording_id != DAY_SUMMARY_RECORDING]

    def browse(self, q: Question) -> list[Candidate]:
        """A question with nothing to search for ("who did I see today?") reads the window itself,
        most recent first (nearest the asked clock time first), keeping events that can answer its kind."""
        answers_kind = {
            Kind.WHO: lambda e: bool(e.people),
            Kind.WHERE: lambda e: e.place is not None,
        }.get(q.kind, lambda e: True)
        relevant = [e for e in reversed(self.moments(q)) if answers_kind(e)]
        if q.clock is not None:
            relevant.sort(key=lambda e: _seconds_from(e, q.clock))  # type: ignore[arg-type]
        return [Candidate(e, relevance=1.0) for e in relevant]

    def constrain(self, q: Question, candidates: list[Candidate]) -> list[Candidate]:
        """Places and people a question names are constraints, like its time window: keep the events
        that satisfy them (unless none does: then perception may have missed them, and ranking decides)."""
        if q.places and not q.said_place:
            at_place = at_places(q.places, [c.event for c in candidates])
            candidates = [c for c in candidates if c.event.id in at_place] or candidates
        if q.people and q.kind is not Kind.WHO:  # "who was with Bob" would otherwise answer Bob
            candidates = [c for c in candidates if present(q.people, c.event) or said_by_any(q.people, c.event)] or candidates
        if q.kind is Kind.WHO:  # only events with someone in them (or a named voice) can say who
            candidates = [c for c in candidates if c.event.people or named_speakers(c.event)] or candidates
        if q.clock is not None:
            near = [c for c in candidates if _seconds_from(c.event, q.clock) <= 45 * 60]
            candidates = sorted(near, key=lambda c: _seconds_from(c.event, q.clock)) or candidates  # type: ignore[arg-type]
        place_words = {w for p in q.places for w in tokens(p)}
        if candidates and (q.places or q.people) and not set(q.keywords) - place_words:
            # Nothing left to rank by once place and people hold: every remaining event matches
            # equally, and "last time" / "first" / "how many" decide among them.
            best = candidates[0].relevance
            for c in candidates:
                c.relevance = best
        return candidates

    def occasions(self, q: Question) -> list[Candidate]:
        """"How many times did I go to X / see Bob?": every event at the place or with the person,
        read from the whole window rather than the top of a search, oldest first."""
        if not (q.places or q.people):
            return []
        events = self.moments(q)
        if q.places:
            at_place = at_places(q.places, events)
            events = [e for e in events if e.id in at_place]
        if q.people:
            events = [e for e in events if present(q.people, e)]
        return [Candidate(e, relevance=1.0) for e in events]

    def next_to(self, q: Question, anchors: list[Candidate]) -> list[Candidate]:
        """"Where did I go after the bank?": the first moment at another place after the latest anchor
        visit (or the last one before it)."""
        if q.sequence is None or not anchors:
            return []
        anchor = anchors[0].event
        anchor_key = place_key(anchor)
        everything = [e for e in self.store.events(EventFilter(before=q.at)) if e.recording_id != DAY_SUMMARY_RECORDING]
        if q.sequence.relation == "after":
            later = [e for e in everything if e.start >= anchor.end and place_key(e) != anchor_key and e.place is not None]
            return [Candidate(e, relevance=anchors[0].relevance) for e in later[:1]]
        earlier = [e for e in everything if e.end <= anchor.start and place_key(e) != anchor_key and e.place is not None]
        return [Candidate(e, relevance=anchors[0].relevance) for e in earlier[-1:]]


def window_filter(q: Question) -> EventFilter:
    window = q.time.window
    return EventFilter(before=min(window.end, q.at) if window else q.at, after=window.start if window else None)


def relevance(q: Question, cand: Candidate) -> float:
    event = cand.event
    # "Where did I see the X label?" is about what was in view, not where X was talked about;
    # "who said X?" about what was heard, not a sign that reads X.
    text = {"seen": " ".join(event.visible_text), "heard": event.transcript}.get(q.modality or "", event.document)
    text_words = set(tokens(text))
    squeezed = compact(text)
    covered = sum(1 for k in q.keywords if k in text_words or k in squeezed) / len(q.keywords) if q.keywords else 0.0
    person = 0.2 if q.people and (present(q.people, event) or said_by_any(q.people, event)) else 0.0
    return cand.dense + 0.25 * cand.keyword + 0.25 * covered + person + 0.3 * at_place(q, event)


def at_places(places: Sequence[str], events: list[Event]) -> set[str]:
    """Ids of the events at any of the named places: where the place's name or sign was read, and any
    event recorded within SAME_PLACE_M of one of those (a sign is not read in every frame)."""
    wanted = [compact(p) for p in places if compact(p)]
    anchors = [e for e in events if any(w in place_text(e) for w in wanted)]
    points = [e.place.point for e in anchors if e.place and e.place.point]
    near = {e.id for e in events if e.place and e.place.point and any(distance_m(e.place.point, p) <= SAME_PLACE_M for p in points)}
    return {e.id for e in anchors} | near


def place_text(event: Event) -> str:
    return compact(" ".join(event.visible_text + ([event.place.label] if event.place else [])))


def at_place(q: Question, event: Event) -> float:
    """1 when the event happened at a place the question names: its sign or its place name says so."""
    if not q.places:
        return 0.0
    seen = place_text(event)
    return 1.0 if any(compact(p) and compact(p) in seen for p in q.places) else 0.0


def place_key(event: Event) -> str:
    """Visits group by the place's name, else by position on a ~100 m grid."""
    place = event.place
    if place and place.name:
        return place.name.lower()
    if place and place.point:
        return f"{place.point.lat:.3f},{place.point.lon:.3f}"
    return "unknown"


def present(people: Sequence[str], event: Event) -> bool:
    return any(same_person(p, e) for p in people for e in event.people)


def said_by_any(people: Sequence[str], event: Event) -> bool:
    """A named voice counts for "what did Tom say" even when Tom was never in view (a call)."""
    return any(q.speaker and same_person(p, q.speaker) for p in people for q in event.quotes)


def named_voice(speaker: str | None) -> bool:
    """A speaker label that names someone: not the wearer ("me"), not an anonymous "speaker 2"."""
    return bool(speaker) and speaker != "me" and not re.match(r"speaker[ -]?\d+$", speaker or "", re.IGNORECASE)


def named_speakers(event: Event) -> list[str]:
    return [q.speaker for q in event.quotes if q.speaker and named_voice(q.speaker)]


def same_person(a: str, b: str) -> bool:
    wa = {w for w in re.split(r"[\s_\-]+", a.lower()) if w}
    wb = {w for w in re.split(r"[\s_\-]+", b.lower()) if w}
    return bool(wa & wb)


def distinct_occasions(events: Sequence[Event]) -> int:
    """Separate occasions: moments more than OCCASION_GAP_S apart."""
    occasions = 0
    last: datetime | None = None
    for s in sorted(e.start for e in events):
        if last is None or (s - last).total_seconds() > OCCASION_GAP_S:
            occasions += 1
        last = s
    return occasions


def _seconds_from(event: Event, moment: datetime) -> float:
    if event.start <= moment <= event.end:
        return 0.0
    return min(abs((event.start - moment).total_seconds()), abs((event.end - moment).total_seconds()))
