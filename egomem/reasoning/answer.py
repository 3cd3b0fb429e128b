"""Answer questions from memory alone, citing the moments used.

Retrieval is hybrid (dense text vectors + BM25 keywords, under hard time filters: nothing at or after
the asking time is visible). The answer then follows the question's logic, not similarity alone:
"who" reads the people present, "where" the place and signs, "when" the time (the latest or earliest
match for "last time" / "first time"), "how many" counts distinct matching events, "what" quotes
the best sentence. With choices, every choice is scored against the evidence and the best is picked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, Sequence

import numpy as np

from egomem.memory.embedder import TextEmbedder
from egomem.memory.events import DAY_SUMMARY_RECORDING, Event
from egomem.reasoning.question import STOPWORDS, Kind, Question, analyse, compact, tokens
from egomem.reasoning.timeexpr import Order, resolve
from egomem.store.base import EventFilter, EventStore

NO_MEMORY = "I don't have a memory of that."
CANDIDATES = 30
EVIDENCE = 5
MIN_RELEVANCE = 0.30  # below this the best event is not about the question: abstain rather than guess
SAME_MATCH = 0.75  # events within this share of the best relevance count as "the same thing again"


@dataclass(frozen=True)
class Evidence:
    event_id: str
    start: datetime
    end: datetime
    place: str | None
    people: list[str]
    quote: str
    keyframe: str | None
    relevance: float


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    evidence: list[Evidence]
    choice: str | None = None
    choice_scores: dict[str, float] = field(default_factory=dict)
    abstained: bool = False


@dataclass
class _Candidate:
    event: Event
    dense: float = 0.0
    keyword: float = 0.0
    relevance: float = 0.0


class Reasoner:
    def __init__(self, store: EventStore, embedder: TextEmbedder, known_people: Callable[[], Sequence[str]] = tuple) -> None:
        self.store = store
        self.embedder = embedder
        self.known_people = known_people

    def ask(self, text: str, at: datetime, choices: Mapping[str, str] | None = None) -> Answer:
        if at.tzinfo is None:
            raise ValueError("the asking time must carry a UTC offset")
        q = analyse(text, at, self.known_people())
        choices = dict(choices or {})
        # One batch: the question, the question with each choice (to retrieve each choice's
        # evidence), and each choice alone (to compare with events).
        vectors = self.embedder.embed([q.text] + [f"{q.text} {c}" for c in choices.values()] + list(choices.values()))
        query_vectors, choice_vectors = vectors[: 1 + len(choices)], vectors[1 + len(choices) :]
        candidates = self._retrieve(q, query_vectors) if q.keywords or q.people else self._browse(q)
        if not candidates or candidates[0].relevance < MIN_RELEVANCE:
            return Answer(text, NO_MEMORY, [], abstained=True)
        matching = self._matching(q, candidates)
        evidence_events = (matching + [c for c in candidates if c not in matching])[:EVIDENCE]
        quotes = self._best_sentences(vectors[0], [c.event for c in evidence_events])
        evidence = [self._evidence(c, quotes.get(c.event.id)) for c in evidence_events]
        answer_text = self._compose(q, matching, quotes.get(matching[0].event.id))
        if not choices:
            return Answer(text, answer_text, evidence)
        scores = {
            key: self._score_choice(q, value, vector, matching) for (key, value), vector in zip(choices.items(), choice_vectors)
        }
        best = max(scores, key=lambda k: scores[k])
        return Answer(text, f"{best}. {choices[best]} — {answer_text}", evidence, best, scores)

    # -- retrieval ----------------------------------------------------------------------------

    def _retrieve(self, q: Question, query_vectors: np.ndarray) -> list[_Candidate]:
        flt = self._filter(q)
        found: dict[str, _Candidate] = {}
        for vector in query_vectors:
            for hit in self.store.search_text(vector.tolist(), flt, CANDIDATES):
                cand = found.setdefault(hit.event.id, _Candidate(hit.event))
                cand.dense = max(cand.dense, hit.score)
        keyword_query = " ".join(q.keywords)
        if keyword_query:
            hits = self.store.search_keywords(keyword_query, flt, CANDIDATES)
            top = max((h.score for h in hits), default=0.0) or 1.0
            for hit in hits:
                found.setdefault(hit.event.id, _Candidate(hit.event)).keyword = hit.score / top
        # Answers cite moments; day summaries are for browsing, not evidence.
        moments = [c for c in found.values() if c.event.recording_id != DAY_SUMMARY_RECORDING]
        for cand in moments:
            cand.relevance = self._relevance(q, cand)
        return sorted(moments, key=lambda c: c.relevance, reverse=True)

    def _browse(self, q: Question) -> list[_Candidate]:
        """A question with nothing to search for ("who did I see today?") reads the window itself,
        most recent first, keeping only events that can answer its kind."""
        events = self.store.events(self._filter(q))
        answers_kind = {
            Kind.WHO: lambda e: bool(e.people),
            Kind.WHERE: lambda e: e.place is not None,
        }.get(q.kind, lambda e: True)
        relevant = [e for e in reversed(events) if answers_kind(e) and e.recording_id != DAY_SUMMARY_RECORDING]
        return [_Candidate(e, relevance=1.0) for e in relevant]

    @staticmethod
    def _filter(q: Question) -> EventFilter:
        window = q.time.window
        return EventFilter(before=min(window.end, q.at) if window else q.at, after=window.start if window else None)

    def _relevance(self, q: Question, cand: _Candidate) -> float:
        event = cand.event
        text_words = set(tokens(event.document))
        squeezed = compact(event.document)
        covered = sum(1 for k in q.keywords if k in text_words or k in squeezed) / len(q.keywords) if q.keywords else 0.0
        person = 0.2 if q.people and any(_same_person(p, e) for p in q.people for e in event.people) else 0.0
        return cand.dense + 0.25 * cand.keyword + 0.25 * covered + person + 0.3 * _at_place(q, event)

    def _matching(self, q: Question, candidates: list[_Candidate]) -> list[_Candidate]:
        """The events that answer the question, in the order the question's logic wants them."""
        best = candidates[0].relevance
        same = [c for c in candidates if c.relevance >= SAME_MATCH * best]
        if q.time.order is Order.LATEST:
            return sorted(same, key=lambda c: c.event.start, reverse=True)
        if q.time.order is Order.EARLIEST:
            return sorted(same, key=lambda c: c.event.start)
        if q.kind is Kind.COUNT:
            return sorted(same, key=lambda c: c.event.start)
        return [candidates[0]] + [c for c in same if c is not candidates[0]]

    # -- answering ----------------------------------------------------------------------------

    def _compose(self, q: Question, matching: list[_Candidate], quote: str | None) -> str:
        top = matching[0].event
        when = _when(top.start, q.at)
        where = top.place.label if top.place else None
        if q.kind is Kind.WHO:
            people = [p for p in top.people if not any(_same_person(n, p) for n in q.people)]
            who = _join(people) if people else "no one I could recognise"
            return f"{who} ({when}{', ' + where if where else ''})."
        if q.kind is Kind.WHERE:
            signs = f" (signs in view: {', '.join(top.visible_text[:3])})" if top.visible_text else ""
            return f"At {where or 'a place without a recorded position'}{signs}, {when}."
        if q.kind is Kind.WHEN:
            return f"{when}{' at ' + where if where else ''}."
        if q.kind is Kind.COUNT:
            n = _distinct(matching)
            return f"{n} time{'s' if n != 1 else ''}: " + "; ".join(_when(c.event.start, q.at) for c in matching[:6]) + "."
        return f'"{quote}" ({when}{", " + where if where else ""}).' if quote else f"{top.caption} ({when})."

    @staticmethod
    def _evidence(cand: _Candidate, quote: str | None) -> Evidence:
        e = cand.event
        return Evidence(
            event_id=e.id, start=e.start, end=e.end, place=e.place.label if e.place else None, people=list(e.people),
            quote=quote or e.caption, keyframe=e.keyframes[0] if e.keyframes else None, relevance=round(cand.relevance, 4),
        )

    def _best_sentences(self, question_vector: np.ndarray, events: list[Event]) -> dict[str, str]:
        """For each event, the spoken sentence closest to the question (one embedding batch)."""
        pairs = [(e.id, s.strip()) for e in events for quote in e.quotes for s in re.split(r"(?<=[.!?])\s+", quote.text) if s.strip()]
        if not pairs:
            return {}
        scores = self.embedder.embed([sentence for _, sentence in pairs]) @ question_vector
        best: dict[str, tuple[float, str]] = {}
        for (event_id, sentence), score in zip(pairs, scores):
            if event_id not in best or score > best[event_id][0]:
                best[event_id] = (float(score), sentence)
        return {event_id: sentence for event_id, (_, sentence) in best.items()}

    # -- choices ------------------------------------------------------------------------------

    def _score_choice(self, q: Question, choice: str, choice_vector: np.ndarray, matching: list[_Candidate]) -> float:
        top = matching[0].event
        if q.kind is Kind.WHO:
            return sum(w for w, c in _weighted(matching) if any(_same_person(choice, p) for p in c.event.people)) + 0.01 * _overlap(choice, top.document)
        if q.kind is Kind.WHERE:
            place = " ".join([top.place.label if top.place else "", " ".join(top.visible_text), top.caption])
            return max(_overlap(choice, place), 1.0 if compact(choice) and compact(choice) in compact(place) else 0.0)
        if q.kind is Kind.WHEN:
            return _time_match(choice, top.start.astimezone(q.at.tzinfo), q.at)
        if q.kind is Kind.COUNT:
            number = _number(choice)
            return 1.0 if number is not None and number == _distinct(matching) else 0.0
        similarity = float(np.asarray(top.text_vector, np.float32) @ choice_vector) if top.text_vector else 0.0
        return max(w * _overlap(choice, c.event.document) for w, c in _weighted(matching)) + 0.1 * similarity


def _at_place(q: Question, event: Event) -> float:
    """1 when the event happened at a place the question names: its sign or its place name says so."""
    if not q.places:
        return 0.0
    seen = compact(" ".join(event.visible_text + ([event.place.label] if event.place else [])))
    return 1.0 if any(compact(p) and compact(p) in seen for p in q.places) else 0.0


def _weighted(matching: list[_Candidate]) -> list[tuple[float, _Candidate]]:
    """The first matches weigh most: the evidence order is the question's logic."""
    return [(1.0 / (rank + 1), c) for rank, c in enumerate(matching[:3])]


def _overlap(choice: str, text: str) -> float:
    """Share of the choice's content words found in the text."""
    words = [w for w in tokens(choice) if w not in STOPWORDS] or tokens(choice)
    if not words:
        return 0.0
    present = set(tokens(text))
    return sum(1 for w in words if w in present or (w.endswith("s") and w[:-1] in present)) / len(words)


def _same_person(a: str, b: str) -> bool:
    wa = {w for w in re.split(r"[\s_\-]+", a.lower()) if w}
    wb = {w for w in re.split(r"[\s_\-]+", b.lower()) if w}
    return bool(wa & wb)


def _time_match(choice: str, t: datetime, at: datetime) -> float:
    """How well a choice like "18:00", "6 pm", "Tuesday evening" or "yesterday morning" fits time t."""
    lowered = choice.lower()
    if m := re.search(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b", lowered):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if m.group(3) == "pm" and hour < 12:
            hour += 12
        if m.group(3) == "am" and hour == 12:
            hour = 0
        if m.group(2) or m.group(3):
            minutes = abs((t.hour * 60 + t.minute) - (hour * 60 + minute))
            score = max(0.0, 1.0 - minutes / 120.0)
            day = resolve(lowered, at).window
            return score if day is None or day.contains(t) or (day.start.date() <= t.date() <= day.end.date()) else score * 0.2
    window = resolve(lowered, at).window
    return 1.0 if window is not None and window.contains(t) else 0.0


def _number(choice: str) -> int | None:
    words = {"once": 1, "twice": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "zero": 0, "never": 0}
    if m := re.search(r"\d+", choice):
        return int(m.group(0))
    for word, value in words.items():
        if re.search(rf"\b{word}\b", choice.lower()):
            return value
    return None


def _distinct(matching: list[_Candidate]) -> int:
    """Separate occasions: events of different recordings, or more than 30 minutes apart."""
    starts = sorted(c.event.start for c in matching)
    occasions = 0
    last: datetime | None = None
    for s in starts:
        if last is None or (s - last).total_seconds() > 1800:
            occasions += 1
        last = s
    return occasions


def _when(t: datetime, at: datetime) -> str:
    """Times are told in the asker's UTC offset, whatever offset the recording carried."""
    return t.astimezone(at.tzinfo).strftime("%a %d %b %Y %H:%M")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
