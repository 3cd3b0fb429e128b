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
from egomem.memory.events import Event
from egomem.reasoning.question import STOPWORDS, Kind, Question, analyse, tokens
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
        candidates = self._retrieve(q, choices or {})
        if not candidates or candidates[0].relevance < MIN_RELEVANCE:
            return Answer(text, NO_MEMORY, [], abstained=True)
        matching = self._matching(q, candidates)
        evidence_events = matching + [c for c in candidates if c not in matching]
        evidence = [self._evidence(q, c) for c in evidence_events[:EVIDENCE]]
        answer_text = self._compose(q, matching)
        if not choices:
            return Answer(text, answer_text, evidence)
        scores = {key: self._score_choice(q, value, matching, candidates) for key, value in choices.items()}
        best = max(scores, key=lambda k: scores[k])
        return Answer(text, f"{best}. {choices[best]} — {answer_text}", evidence, best, scores)

    # -- retrieval ----------------------------------------------------------------------------

    def _retrieve(self, q: Question, choices: Mapping[str, str]) -> list[_Candidate]:
        window = q.time.window
        flt = EventFilter(before=min(window.end, q.at) if window else q.at, after=window.start if window else None)
        found: dict[str, _Candidate] = {}
        queries = [q.text] + [f"{q.text} {c}" for c in choices.values()]
        vectors = self.embedder.embed(queries)
        for vector in vectors:
            for hit in self.store.search_text(vector.tolist(), flt, CANDIDATES):
                cand = found.setdefault(hit.event.id, _Candidate(hit.event))
                cand.dense = max(cand.dense, hit.score)
        keyword_query = " ".join(q.keywords)
        if keyword_query:
            hits = self.store.search_keywords(keyword_query, flt, CANDIDATES)
            top = max((h.score for h in hits), default=0.0) or 1.0
            for hit in hits:
                found.setdefault(hit.event.id, _Candidate(hit.event)).keyword = hit.score / top
        for cand in found.values():
            cand.relevance = self._relevance(q, cand)
        return sorted(found.values(), key=lambda c: c.relevance, reverse=True)

    def _relevance(self, q: Question, cand: _Candidate) -> float:
        event = cand.event
        text_words = set(tokens(event.document))
        covered = sum(1 for k in q.keywords if k in text_words) / len(q.keywords) if q.keywords else 0.0
        person = 0.2 if q.people and any(_same_person(p, e) for p in q.people for e in event.people) else 0.0
        return cand.dense + 0.25 * cand.keyword + 0.25 * covered + person

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

    def _compose(self, q: Question, matching: list[_Candidate]) -> str:
        top = matching[0].event
        when = _when(top.start)
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
            return f"{n} time{'s' if n != 1 else ''}: " + "; ".join(_when(c.event.start) for c in matching[:6]) + "."
        quote = self._best_sentence(q.text, top)
        return f'"{quote}" ({when}{", " + where if where else ""}).' if quote else f"{top.caption} ({when})."

    def _evidence(self, q: Question, cand: _Candidate) -> Evidence:
        e = cand.event
        return Evidence(
            event_id=e.id, start=e.start, end=e.end, place=e.place.label if e.place else None, people=list(e.people),
            quote=self._best_sentence(q.text, e) or e.caption, keyframe=e.keyframes[0] if e.keyframes else None,
            relevance=round(cand.relevance, 4),
        )

    def _best_sentence(self, text: str, event: Event) -> str | None:
        sentences = [s.strip() for quote in event.quotes for s in re.split(r"(?<=[.!?])\s+", quote.text) if s.strip()]
        if not sentences:
            return None
        vectors = self.embedder.embed([text] + sentences)
        return sentences[int(np.argmax(vectors[1:] @ vectors[0]))]

    # -- choices ------------------------------------------------------------------------------

    def _score_choice(self, q: Question, choice: str, matching: list[_Candidate], candidates: list[_Candidate]) -> float:
        top = matching[0].event
        if q.kind is Kind.WHO:
            return sum(w for w, c in _weighted(matching) if any(_same_person(choice, p) for p in c.event.people)) + 0.01 * _overlap(choice, top.document)
        if q.kind is Kind.WHERE:
            place = " ".join([top.place.label if top.place else "", " ".join(top.visible_text), top.caption])
            return _overlap(choice, place)
        if q.kind is Kind.WHEN:
            return _time_match(choice, top.start, q.at)
        if q.kind is Kind.COUNT:
            number = _number(choice)
            return 1.0 if number is not None and number == _distinct(matching) else 0.0
        return max(w * _overlap(choice, c.event.document) for w, c in _weighted(matching)) + 0.1 * self._similarity(choice, top)

    def _similarity(self, choice: str, event: Event) -> float:
        vectors = self.embedder.embed([choice, event.document])
        return float(vectors[0] @ vectors[1])


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


def _when(t: datetime) -> str:
    return t.strftime("%a %d %b %Y %H:%M")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
