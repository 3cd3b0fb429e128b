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
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from egomem.memory.embedder import TextEmbedder
from egomem.memory.events import DAY_SUMMARY_RECORDING, Event
from egomem.memory.places import distance_m
from egomem.reasoning.question import STOPWORDS, Kind, Question, analyse, compact, tokens
from egomem.reasoning.timeexpr import Order, resolve
from egomem.store.base import EventFilter, EventStore

if TYPE_CHECKING:
    from egomem.reasoning.reader import LLMReader

NO_MEMORY = "I don't have a memory of that."
CANDIDATES = 30
EVIDENCE = 5
MIN_RELEVANCE = 0.30  # below this the best event is not about the question: abstain rather than guess
SAME_MATCH = 0.75  # events within this share of the best relevance count as "the same thing again"
SAME_PLACE_M = 150.0  # an event this close to one where the named place's sign was read happened there too


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
    read_by: str = "rules"  # "rules", or "llm:MODEL" when the LLM reader wrote it
    note: str | None = None  # what the person should know about how it was answered (a reader that failed)

    def to_json(self) -> dict[str, Any]:
        """The answer as `egomem ask --json` prints it and `POST /v1/ask` returns it."""
        return {
            "answer": self.choice,
            "text": self.text,
            "abstained": self.abstained,
            "read_by": self.read_by,
            "note": self.note,
            "choice_scores": {key: float(score) for key, score in self.choice_scores.items()},
            "evidence": [
                {"event_id": e.event_id, "start": e.start.isoformat(), "end": e.end.isoformat(), "place": e.place,
                 "people": e.people, "quote": e.quote, "keyframe": e.keyframe}
                for e in self.evidence
            ],
        }  # fmt: skip


@dataclass
class _Candidate:
    event: Event
    dense: float = 0.0
    keyword: float = 0.0
    relevance: float = 0.0


class Reasoner:
    def __init__(
        self,
        store: EventStore,
        embedder: TextEmbedder,
        known_people: Callable[[], Sequence[str]] = tuple,
        reader: LLMReader | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.known_people = known_people
        self.reader = reader  # optional: an LLM writes the answer from the evidence planned here

    def ask(self, text: str, at: datetime, choices: Mapping[str, str] | None = None) -> Answer:
        if at.tzinfo is None:
            raise ValueError("the asking time must carry a UTC offset")
        answer = self._answer(text, at, choices)
        return self.reader.read(answer, at, choices) if self.reader is not None else answer

    def _answer(self, text: str, at: datetime, choices: Mapping[str, str] | None) -> Answer:
        """The rule-based answer: retrieval planned from the question, then its logic applied."""
        q = analyse(text, at, self.known_people())
        choices = dict(choices or {})
        # One batch: the question, the question with each choice (to retrieve each choice's
        # evidence), and each choice alone (to compare with events).
        vectors = self.embedder.embed([q.text] + [f"{q.text} {c}" for c in choices.values()] + list(choices.values()))
        query_vectors, choice_vectors = vectors[: 1 + len(choices)], vectors[1 + len(choices) :]
        if q.habit and q.kind is Kind.WHERE:
            return self._habitual_place(q, choices)
        counted = self._occasions(q) if q.kind is Kind.COUNT else []
        candidates = self._retrieve(q, query_vectors) if q.keywords or q.people else self._browse(q)
        candidates = counted or self._constrain(q, candidates)
        if not candidates or candidates[0].relevance < MIN_RELEVANCE:
            return Answer(text, NO_MEMORY, [], abstained=True)
        matching = counted or self._matching(q, candidates)
        evidence_events = (matching + [c for c in candidates if c not in matching])[:EVIDENCE]
        quotes = self._best_sentences(q, vectors[0], [c.event for c in evidence_events])
        evidence = [self._evidence(c, quotes.get(c.event.id)) for c in evidence_events]
        answer_text = self._compose(q, matching, quotes.get(matching[0].event.id))
        if not choices:
            return Answer(text, answer_text, evidence)
        scores = {
            key: self._score_choice(q, value, vector, matching, quotes) for (key, value), vector in zip(choices.items(), choice_vectors)
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

    def _constrain(self, q: Question, candidates: list[_Candidate]) -> list[_Candidate]:
        """Places and people a question names are constraints, like its time window: keep the events
        that satisfy them (unless none does: then perception may have missed them, and ranking decides)."""
        if q.places and not q.said_place:
            at_place = _at_places(q.places, [c.event for c in candidates])
            candidates = [c for c in candidates if c.event.id in at_place] or candidates
        if q.people and q.kind is not Kind.WHO:  # "who was with Bob" would otherwise answer Bob
            candidates = [c for c in candidates if _present(q.people, c.event)] or candidates
        if q.kind is Kind.WHO:  # only events with someone in them can say who
            candidates = [c for c in candidates if c.event.people] or candidates
        place_words = {w for p in q.places for w in tokens(p)}
        if candidates and (q.places or q.people) and not set(q.keywords) - place_words:
            # Nothing left to rank by once place and people hold: every remaining event matches
            # equally, and "last time" / "first" / "how many" decide among them.
            best = candidates[0].relevance
            for c in candidates:
                c.relevance = best
        return candidates

    def _occasions(self, q: Question) -> list[_Candidate]:
        """"How many times did I go to X / see Bob?": every event at the place or with the person,
        read from the whole window rather than the top of a search, oldest first."""
        if not (q.places or q.people):
            return []
        events = [e for e in self.store.events(self._filter(q)) if e.recording_id != DAY_SUMMARY_RECORDING]
        if q.places:
            at_place = _at_places(q.places, events)
            events = [e for e in events if e.id in at_place]
        if q.people:
            events = [e for e in events if _present(q.people, e)]
        return [_Candidate(e, relevance=1.0) for e in events]

    def _habitual_place(self, q: Question, choices: Mapping[str, str]) -> Answer:
        """"Where do I usually go in the evening?": count distinct visits per place over every day."""
        events = [e for e in self.store.events(self._filter(q)) if e.recording_id != DAY_SUMMARY_RECORDING and e.place]
        if q.daily_hours:
            start, end = q.daily_hours
            events = [e for e in events if start <= _hour(e.start.astimezone(q.at.tzinfo)) < end]
        visits: dict[str, list[Event]] = {}
        for e in events:
            visits.setdefault(_place_key(e), []).append(e)
        if not visits:
            return Answer(q.text, NO_MEMORY, [], abstained=True)
        days = {key: len({e.start.astimezone(q.at.tzinfo).date() for e in group}) for key, group in visits.items()}
        ranked = sorted(visits, key=lambda key: (days[key], len(visits[key])), reverse=True)
        best = visits[ranked[0]]
        name = _place_name(best)
        total_days = len({e.start.astimezone(q.at.tzinfo).date() for e in events})
        text = f"{name}: on {days[ranked[0]]} of the {total_days} days with memories at that time."
        evidence = [self._evidence(_Candidate(e, relevance=1.0), None) for e in sorted(best, key=lambda e: e.start, reverse=True)[:EVIDENCE]]
        if not choices:
            return Answer(q.text, text, evidence)
        scores = {
            key: max((days[k] / total_days for k in visits if _names_place(value, visits[k])), default=0.0) for key, value in choices.items()
        }
        pick = max(scores, key=lambda k: scores[k])
        return Answer(q.text, f"{pick}. {choices[pick]} — {text}", evidence, pick, scores)

    @staticmethod
    def _filter(q: Question) -> EventFilter:
        window = q.time.window
        return EventFilter(before=min(window.end, q.at) if window else q.at, after=window.start if window else None)

    def _relevance(self, q: Question, cand: _Candidate) -> float:
        event = cand.event
        # "Where did I see the X label?" is about what was in view, not where X was talked about;
        # "who said X?" about what was heard, not a sign that reads X.
        text = {"seen": " ".join(event.visible_text), "heard": event.transcript}.get(q.modality or "", event.document)
        text_words = set(tokens(text))
        squeezed = compact(text)
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
        if q.kind is Kind.WHERE and q.said_place and quote:
            return f'"{quote}" ({when}{", " + where if where else ""}).'
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

    def _best_sentences(self, q: Question, question_vector: np.ndarray, events: list[Event]) -> dict[str, str]:
        """For each event, the spoken sentence closest to the question (one embedding batch); a sentence
        with the question's content words beats a greeting that only shares its time words ("morning")."""
        pairs = [(e.id, s.strip()) for e in events for quote in e.quotes for s in re.split(r"(?<=[.!?])\s+", quote.text) if s.strip()]
        if not pairs:
            return {}
        similarity = self.embedder.embed([sentence for _, sentence in pairs]) @ question_vector
        scores = [float(sim) + 0.3 * _covered(q.keywords, sentence) for sim, (_, sentence) in zip(similarity, pairs)]
        best: dict[str, tuple[float, str]] = {}
        for (event_id, sentence), score in zip(pairs, scores):
            if event_id not in best or score > best[event_id][0]:
                best[event_id] = (float(score), sentence)
        return {event_id: sentence for event_id, (_, sentence) in best.items()}

    # -- choices ------------------------------------------------------------------------------

    def _score_choice(
        self, q: Question, choice: str, choice_vector: np.ndarray, matching: list[_Candidate], quotes: Mapping[str, str]
    ) -> float:
        top = matching[0].event
        if q.kind is Kind.WHO:
            present = sum(w for w, c in _weighted(matching) if any(_same_person(choice, p) for p in c.event.people))
            # "Who asked me to ...?": of the people in view, the one heard saying it.
            spoke = sum(w for w, c in _weighted(matching) if q.modality == "heard" and _said_by(choice, c.event, quotes.get(c.event.id)))
            return present + 0.5 * spoke + 0.01 * _overlap(choice, top.document)
        if q.kind is Kind.WHERE and q.said_place:  # the place was named aloud, wherever I was then
            return max(w * _said(choice, q.keywords, c.event) for w, c in _weighted(matching))
        if q.kind is Kind.WHERE:
            # What was in view and the place itself; not the caption, which quotes what was said there.
            place = " ".join([top.place.label if top.place else "", " ".join(top.visible_text), " ".join(top.tags)])
            return max(_overlap(choice, place), 1.0 if compact(choice) and compact(choice) in compact(place) else 0.0)
        if q.kind is Kind.WHEN:
            return _time_match(choice, top.start.astimezone(q.at.tzinfo), q.at)
        if q.kind is Kind.COUNT:
            number = _number(choice)
            return 1.0 if number is not None and number == _distinct(matching) else 0.0
        similarity = float(np.asarray(top.text_vector, np.float32) @ choice_vector) if top.text_vector else 0.0
        if q.modality == "seen":  # "which label did I see": what was in view, not what was said
            return max(w * _seen(choice, c.event) for w, c in _weighted(matching)) + 0.05 * similarity
        if q.modality == "heard":
            return max(w * _overlap(choice, c.event.transcript) for w, c in _weighted(matching)) + 0.1 * similarity
        return max(w * _overlap(choice, c.event.document) for w, c in _weighted(matching)) + 0.1 * similarity


def _seen(choice: str, event: Event) -> float:
    """How much of a choice was read in view (OCR drops spaces: "OATMILK" is "oat milk")."""
    seen = " ".join(event.visible_text)
    return max(_overlap(choice, seen), 1.0 if compact(choice) and compact(choice) in compact(seen) else 0.0)


def _said(choice: str, keywords: Sequence[str], event: Event) -> float:
    """How well a choice was said in the sentence the question is about: "let's meet at X" beats
    "see you at home" for "where did Bob suggest we meet?"."""
    sentences = [s for quote in event.quotes for s in re.split(r"(?<=[.!?])\s+", quote.text) if s.strip()]
    return max((_overlap(choice, s) * (1 + _covered(keywords, s)) / 2 for s in sentences), default=0.0)


def _said_by(person: str, event: Event, sentence: str | None) -> bool:
    """Whether the quote holding a sentence was attributed to this person (voices tied to faces at ingest)."""
    if not sentence:
        return False
    return any(q.speaker and sentence in q.text and _same_person(person, q.speaker) for q in event.quotes)


def _hour(t: datetime) -> float:
    return t.hour + t.minute / 60


def _place_key(event: Event) -> str:
    """Visits group by the place's name, else by position on a ~100 m grid."""
    place = event.place
    if place and place.name:
        return place.name.lower()
    if place and place.point:
        return f"{place.point.lat:.3f},{place.point.lon:.3f}"
    return "unknown"


def _place_name(events: list[Event]) -> str:
    """A named place's name; otherwise the sign most often read there, then the coordinates."""
    if events[0].place and events[0].place.name:
        return events[0].place.name
    signs: dict[str, int] = {}
    for e in events:
        for text in e.visible_text[:1]:  # the first text read is the most prominent (largest, earliest)
            signs[text] = signs.get(text, 0) + 1
    if signs:
        return max(signs, key=lambda t: signs[t])
    return events[0].place.label if events[0].place else "an unknown place"


def _names_place(choice: str, events: list[Event]) -> bool:
    wanted = compact(choice)
    return bool(wanted) and any(
        wanted in compact(" ".join(e.visible_text) + (e.place.name or "" if e.place else "")) for e in events
    )


def _at_places(places: Sequence[str], events: list[Event]) -> set[str]:
    """Ids of the events at any of the named places: where its sign or name was read, and any event
    recorded within SAME_PLACE_M of one of those (a sign is not read in every frame)."""
    wanted = [compact(p) for p in places if compact(p)]
    anchors = [e for e in events if any(w in _place_text(e) for w in wanted)]
    points = [e.place.point for e in anchors if e.place and e.place.point]
    near = {e.id for e in events if e.place and e.place.point and any(distance_m(e.place.point, p) <= SAME_PLACE_M for p in points)}
    return {e.id for e in anchors} | near


def _place_text(event: Event) -> str:
    return compact(" ".join(event.visible_text + ([event.place.label] if event.place else [])))


def _present(people: Sequence[str], event: Event) -> bool:
    return any(_same_person(p, e) for p in people for e in event.people)


def _at_place(q: Question, event: Event) -> float:
    """1 when the event happened at a place the question names: its sign or its place name says so."""
    if not q.places:
        return 0.0
    seen = compact(" ".join(event.visible_text + ([event.place.label] if event.place else [])))
    return 1.0 if any(compact(p) and compact(p) in seen for p in q.places) else 0.0


def _weighted(matching: list[_Candidate]) -> list[tuple[float, _Candidate]]:
    """The first matches weigh most: the evidence order is the question's logic."""
    return [(1.0 / (rank + 1), c) for rank, c in enumerate(matching[:3])]


def _covered(keywords: Sequence[str], text: str) -> float:
    """Share of the question's content words found in a text."""
    if not keywords:
        return 0.0
    present = set(tokens(text))
    return sum(1 for k in keywords if k in present) / len(keywords)


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
    if window is None or not window.contains(t):
        return 0.0
    # "Tuesday midday" and "Tuesday afternoon" may both contain 12:30: the more precise one wins.
    return 1.0 - 0.01 * (window.end - window.start).total_seconds() / 86400


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
