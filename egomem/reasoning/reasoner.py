"""Answer questions from memory alone, citing the moments used.

The question is understood first (question.py): what is asked, about when, where, whom, seen or
heard, past or ahead. Moments are found by hybrid retrieval under hard filters (retrieval.py), facts
(plans, requests, prices) as they stood at the asking moment (recall.py), and the answer follows
the question's logic (compose.py): "who" reads the speaker or the people present, "where" the
place, "when" the time (of the plan, for what lies ahead), "how many" counts distinct occasions,
"how much" reads the amount, "did I ...?" weighs the evidence for it, "what" extracts the words
that answer. With choices, each choice's support is weighed, and "none of these" wins when nothing
supports the others.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from egomem.memory.events import Event
from egomem.memory.facts import Fact
from egomem.memory.naming import addressed_names, introduced_names
from egomem.memory.embedder import TextEmbedder
from egomem.reasoning import compose as c
from egomem.reasoning.question import Kind, Question, analyse, compact, tokens, unbounded
from egomem.reasoning.recall import FactRecall, FoundFact, fact_evidence
from egomem.reasoning.retrieval import (
    Candidate,
    Retriever,
    at_place,
    at_places,
    distinct_occasions,
    named_speakers,
    named_voice,
    place_key,
    present,
    same_person,
)
from egomem.reasoning.types import NO_MEMORY, Answer, Evidence, Reader
from egomem.store.base import EventStore
from egomem.timeexpr import Order, resolve_ahead

EVIDENCE = 5
SENTENCE_CACHE = 8192  # sentence vectors kept (1.5 kB each)
SENTENCE_WORDS = 40  # words of a sentence that its vector is made from
SENTENCES_READ = (3, 10)  # the answer's quote is weighed by meaning in this many leading moments, this many sentences each
MIN_RELEVANCE = 0.30  # below this the best event is not about the question: abstain rather than guess
SAME_MATCH = 0.75  # events within this share of the best relevance count as "the same thing again"
SAME_UPDATE = 0.65  # the same, for the latest version of something that changed
SAME_MEANING = 0.55  # a moment whose text vector is this close to the question's is about it, whatever its words
EMPTY = "Ask me something about what you recorded, for example \"What did Alice ask me to buy?\""
FOREIGN = "I can only read questions in English so far; please ask in English."


class Reasoner:
    def __init__(
        self,
        store: EventStore,
        embedder: TextEmbedder,
        known_people: Callable[[], Sequence[str]] = tuple,
        reader: Reader | None = None,
        known_places: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.known_people = known_people
        self.known_places = known_places
        self.reader = reader  # optional: an LLM writes the answer from the evidence planned here
        self.retriever = Retriever(store)
        self.facts = FactRecall(store)
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()

    def ask(self, text: str, at: datetime, choices: Mapping[str, str] | None = None) -> Answer:
        if at.tzinfo is None:
            raise ValueError("the asking time must carry a UTC offset")
        answer = self._answer(text, at, choices)
        return self.reader.read(answer, at, choices) if self.reader is not None else answer

    def _answer(self, text: str, at: datetime, choices: Mapping[str, str] | None) -> Answer:
        """The rule-based answer: retrieval planned from the question, then its logic applied."""
        if not text.strip():
            return Answer(text, EMPTY, [], abstained=True)
        q = analyse(text, at, self.known_people(), self.known_places())
        if not q.language_ok:
            return Answer(text, FOREIGN, [], abstained=True)
        choices = {k: v for k, v in (choices or {}).items() if str(v).strip()}
        if len(choices) >= 2 and sum(c.cues.matches(c.cues.YES, v) or c.cues.matches(c.cues.NO, v) for v in choices.values()) >= 2:
            q = replace(q, kind=Kind.YES_NO)  # "Gym yesterday: yes or no?" is asked by its choices
        # One batch: the question, the question with each choice (to retrieve each choice's
        # evidence), and each choice alone (to compare with events).
        vectors = self.embedder.embed([q.text] + [f"{q.text} {v}" for v in choices.values()] + list(choices.values()))
        query_vectors, choice_vectors = vectors[: 1 + len(choices)], dict(zip(choices, vectors[1 + len(choices) :]))
        if q.habit and q.kind in (Kind.WHERE, Kind.WHO):
            return self._habit(q, choices, query_vectors)
        matching, candidates, facts = self._plan(q, query_vectors, vectors[0])
        if not matching and not facts and q.time.window is not None and q.kind not in (Kind.YES_NO, Kind.COUNT):
            # Nothing then: the time words may name the thing asked about ("dinner plans", "the poster
            # for March 6", "what to bring on Tuesday"), not when it was heard. Look at all of memory.
            q = unbounded(q)
            matching, candidates, facts = self._plan(q, query_vectors, vectors[0])
        if not matching:
            return self._choose(q, choices, [], [], {}, facts, NO_MEMORY, abstained=True)
        evidence_events = _supporting(matching, candidates)
        quotes = self._best_sentences(q, vectors[0], [m.event for m in evidence_events])
        if facts and facts[0].fact.event_id in quotes:
            quotes[facts[0].fact.event_id] = facts[0].fact.text
        evidence = [self._evidence(m, quotes.get(m.event.id)) for m in evidence_events]
        answer_text = self._compose(q, matching, quotes, facts)
        return self._choose(q, choices, matching, evidence, quotes, facts, answer_text, choice_vectors=choice_vectors)

    # -- planning -----------------------------------------------------------------------------

    @staticmethod
    def _wants_facts(q: Question) -> bool:
        return q.future or bool(q.fact_kinds) or q.kind is Kind.HOW_MUCH

    def _plan(self, q: Question, query_vectors: np.ndarray, question_vector: np.ndarray) -> tuple[list[Candidate], list[Candidate], list[FoundFact]]:
        """(the moments that answer, in the order the question's logic wants; all candidates found; the facts they rest on)."""
        if q.kind is Kind.COUNT and (q.places or q.people):
            counted = self.retriever.occasions(q)
            return counted, counted, []
        searchable = bool(q.keywords or q.people or q.places) and q.clock is None
        candidates = self.retriever.search(q, query_vectors) if searchable else self.retriever.browse(q)
        candidates = self.retriever.constrain(q, candidates)
        facts = _about(self.facts.find(q, question_vector), candidates) if self._wants_facts(q) else []
        if q.sequence is not None:
            following = self.retriever.next_to(q, self._anchors(q, candidates))
            if following:
                return following, following + candidates, facts
        fact_moments = self._fact_moments(facts, candidates)
        if fact_moments and q.time.order is Order.LATEST and candidates and candidates[0].relevance >= MIN_RELEVANCE:
            # "What did it end up costing?": the latest moment about it, whether a fact was read there or not.
            latest = {m.event.id: m for m in fact_moments + self._matching(q, candidates)}
            return sorted(latest.values(), key=lambda m: m.event.start, reverse=True), candidates, facts
        if fact_moments:
            return fact_moments + [m for m in candidates if m.event.id not in {f.event.id for f in fact_moments}], candidates, facts
        if not candidates or candidates[0].relevance < MIN_RELEVANCE:
            return [], candidates, facts
        return self._matching(q, candidates), candidates, facts

    def _anchors(self, q: Question, candidates: list[Candidate]) -> list[Candidate]:
        """The moments "after the bank" is measured from: at a place named like the anchor, else the
        best match of the anchor's words; the latest such visit (the first, for "the first time")."""
        assert q.sequence is not None
        anchor_q = analyse(q.sequence.anchor, q.at, self.known_people(), self.known_places())
        moments = self.retriever.moments(q)
        hits: list[Event] = []
        if anchor_q.places:
            ids = at_places(anchor_q.places, moments)
            hits = [e for e in moments if e.id in ids]
        if not hits:
            words = set(anchor_q.keywords)
            hits = [e for e in moments if words and words <= set(tokens(e.document)) | _place_words(e)]
        if not hits:
            return []
        hits.sort(key=lambda e: e.start, reverse=q.time.order is not Order.EARLIEST)
        return [Candidate(hits[0], relevance=1.0)]

    def _fact_moments(self, facts: list[FoundFact], candidates: list[Candidate]) -> list[Candidate]:
        """The moments the best facts were heard or seen in, first in line."""
        if not facts:
            return []
        by_id = {m.event.id: m for m in candidates}
        wanted = list(dict.fromkeys(f.fact.event_id for f in facts[:3]))
        missing = [i for i in wanted if i not in by_id]
        for event in self.store.get(missing) if missing else []:
            by_id[event.id] = Candidate(event)
        out = []
        for f in facts[:3]:
            m = by_id.get(f.fact.event_id)
            if m is not None and m not in out:
                m.relevance = max(m.relevance, f.relevance)
                out.append(m)
        return out

    def _matching(self, q: Question, candidates: list[Candidate]) -> list[Candidate]:
        """The events that answer the question, in the order the question's logic wants them."""
        best = candidates[0].relevance
        # A later word on something is often put otherwise ("your bike is ready, it came to 170"): looser for updates.
        share = SAME_UPDATE if q.time.order is Order.LATEST else SAME_MATCH
        same = [m for m in candidates if m.relevance >= share * best]
        if q.time.order is Order.LATEST or q.future:  # what lies ahead: the latest word on it wins
            return sorted(same, key=lambda m: m.event.start, reverse=True)
        if q.time.order is Order.EARLIEST:
            return sorted(same, key=lambda m: m.event.start)
        return [candidates[0]] + [m for m in same if m is not candidates[0]]

    # -- habits -------------------------------------------------------------------------------

    def _habit(self, q: Question, choices: Mapping[str, str], query_vectors: np.ndarray) -> Answer:
        """"Where do I usually go in the evening?", "who do I see most often?": count distinct
        occasions over every day of the window."""
        events = self.retriever.moments(q)
        if q.daily_hours:
            start, end = q.daily_hours
            events = [e for e in events if start <= _hour(e.start.astimezone(q.at.tzinfo)) < end]
        if q.places:
            ids = at_places(q.places, events)
            events = [e for e in events if e.id in ids]
        if q.keywords:  # "where do I usually get coffee?": the moments about coffee
            found = self.retriever.search(q, query_vectors)
            best = found[0].relevance if found else 0.0
            about = {m.event.id for m in found if m.relevance >= SAME_MATCH * best and best >= MIN_RELEVANCE}
            events = [e for e in events if e.id in about] or events
        if q.kind is Kind.WHO:
            ranking = c.people_ranking(events, exclude=q.people)
            if not ranking:
                return Answer(q.text, NO_MEMORY, [], abstained=True)
            top = ranking[0][0]
            shown = [e for e in reversed(events) if any(same_person(top, p) for p in e.people)][:EVIDENCE]
            text = f"{top}: on {ranking[0][1]} separate occasions" + "".join(f", {p} {n}" for p, n in ranking[1:4]) + "."
            support = {k: max((n / ranking[0][1] for p, n in ranking if same_person(v, p)), default=0.0) for k, v in choices.items()}
            return self._choose(q, choices, [], [self._evidence(Candidate(e, relevance=1.0), None) for e in shown], {}, [], text, support=support)
        visits: dict[str, list[Event]] = {}
        for e in events:
            if e.place is not None:
                visits.setdefault(place_key(e), []).append(e)
        if not visits:
            return Answer(q.text, NO_MEMORY, [], abstained=True)
        tz = q.at.tzinfo
        days = {key: len({e.start.astimezone(tz).date() for e in group}) for key, group in visits.items()}
        ranked = sorted(visits, key=lambda key: (days[key], distinct_occasions(visits[key])), reverse=True)
        best = visits[ranked[0]]
        total_days = len({e.start.astimezone(tz).date() for group in visits.values() for e in group})
        text = f"{c.place_name(best)}: on {days[ranked[0]]} of the {total_days} days with memories at that time."
        shown = sorted(best, key=lambda e: e.start, reverse=True)[:EVIDENCE]
        support = {
            k: max((days[key] / max(days.values()) for key in visits if c.names_place(v, visits[key])), default=0.0) for k, v in choices.items()
        }
        return self._choose(q, choices, [], [self._evidence(Candidate(e, relevance=1.0), None) for e in shown], {}, [], text, support=support)

    # -- answering ----------------------------------------------------------------------------

    def _compose(self, q: Question, matching: list[Candidate], quotes: Mapping[str, str], facts: list[FoundFact]) -> str:
        top = matching[0].event
        quote = quotes.get(top.id)
        when = c.when_text(top.start, q.at)
        where = c.place_name([top]) if top.place else None
        context = f"({when}{', ' + where if where else ''})"
        fact = facts[0].fact if facts else None
        if q.kind is Kind.WHO:
            speaker = _speaker_of(top, quote) if q.modality == "heard" else None
            if speaker:
                return f"{speaker} {context}."
            people = [p for p in _people_in(top) if not any(same_person(n, p) for n in q.people)]
            return f"{c.join_names(people) if people else 'no one I could recognise'} {context}."
        if q.kind is Kind.WHERE and q.said_place and quote:
            return f"{c.extract(q, quote)} {context}."
        if q.kind is Kind.WHERE and fact is not None and fact.where and (q.future or q.said_place):
            return f"{fact.where} ({fact.text})."
        if q.kind is Kind.WHERE:
            signs = f" (signs in view: {', '.join(top.visible_text[:3])})" if top.visible_text and not (top.place and top.place.name) else ""
            return f"{where or 'A place without a recorded position'}{signs}, {when}."
        target = _target(q, top, quote, fact)
        if q.kind is Kind.WHEN and target is not None:
            said = fact.text if fact is not None and fact.target_start is not None else (quote or ", ".join(top.visible_text[:3]))
            return f"{c.when_text(target, q.at)} (\"{said}\", {'said' if quote or fact else 'seen'} {when})."
        if q.kind is Kind.WHEN:
            return f"{when}{' at ' + where if where else ''}."
        if q.kind is Kind.COUNT:
            n = distinct_occasions([m.event for m in matching])
            return f"{n} time{'s' if n != 1 else ''}: " + "; ".join(c.when_text(m.event.start, q.at) for m in matching[:6]) + "."
        if q.kind is Kind.HOW_MUCH:
            amounts = _amounts(top, quote, fact)
            if amounts:
                return f"{amounts[0]:g} (\"{quote or (fact.text if fact else '')}\") {context}."
        if q.kind is Kind.YES_NO:
            return f"{'Yes' if self._supported(q, matching) else 'No'}: {quote or top.caption} {context}."
        if q.modality == "seen" and top.visible_text and not quote:
            return f"{', '.join(top.visible_text[:3])} {context}."
        if fact is not None and fact.item:
            return f"{fact.item} (\"{fact.text}\") {context}."
        return f"{c.extract(q, quote)} (\"{quote}\") {context}." if quote else f"{top.caption} {context}."

    def _supported(self, q: Question, matching: list[Candidate]) -> bool:
        """"Did I go to the gym on Friday?": a moment in the window satisfies what the question names."""
        top = matching[0]
        if q.places and not at_place(q, top.event) and top.event.id not in at_places(q.places, [m.event for m in matching]):
            return False
        if q.people and not present(q.people, top.event):
            return False
        rest = [k for k in q.keywords if not any(k in compact(p) for p in q.places)]
        return not rest or c.covered(rest, top.event.document) >= 0.5 or top.relevance >= 0.6

    def _choose(
        self, q: Question, choices: Mapping[str, str], matching: list[Candidate], evidence: list[Evidence],
        quotes: Mapping[str, str], facts: list[FoundFact], text: str, *, abstained: bool = False,
        choice_vectors: Mapping[str, np.ndarray] | None = None, support: Mapping[str, float] | None = None,
    ) -> Answer:  # fmt: skip
        fact_lines = [fact_evidence(f.fact) for f in facts[:3]]
        if not choices:
            return Answer(q.text, text, evidence, abstained=abstained, facts=fact_lines)
        if support is None:
            support = {
                key: (self._support(q, value, (choice_vectors or {}).get(key), matching, quotes, facts) if matching else 0.0)
                for key, value in choices.items()
            }
        best = c.pick(q, support, choices)
        no = next((k for k, v in choices.items() if c.cues.matches(c.cues.NO, v)), None)
        if abstained and q.kind is Kind.YES_NO and no is not None:
            return Answer(q.text, f"{no}. {choices[no]} — {text}", evidence, no, dict(support), facts=fact_lines)
        if abstained and not c.is_none_choice(choices[best]):
            return Answer(q.text, text, evidence, None, dict(support), abstained=True, facts=fact_lines)
        return Answer(q.text, f"{best}. {choices[best]} — {text}", evidence, best, dict(support), facts=fact_lines)

    def _support(
        self, q: Question, choice: str, vector: np.ndarray | None, matching: list[Candidate], quotes: Mapping[str, str],
        facts: list[FoundFact],
    ) -> float:  # fmt: skip
        """How well the evidence supports one choice, in [0, 1]."""
        if c.is_none_choice(choice):
            return 0.0
        top = matching[0].event
        fact = facts[0].fact if facts else None
        ranked = c.weighted(matching)
        if q.kind is Kind.WHO:
            if q.modality == "heard":
                # "Who asked me to ...?": the one heard saying it, else the people in view while it was said.
                def by(m: Candidate) -> float:
                    sentence = quotes.get(m.event.id)
                    if c.said_by(choice, m.event, sentence):
                        return 1.0
                    named = _speaker_of(m.event, sentence)
                    if named and not same_person(choice, named):
                        return 0.1
                    return 0.7 if any(same_person(choice, p) for p in _people_in(m.event)) else 0.0

                # The moment must be about the question (its words, or its meaning), or "none of these" may be the truth.
                worded = min(1.0, c.covered(q.keywords, quotes.get(top.id) or top.transcript) / 0.5) if q.keywords else 1.0
                meant = 1.0 if matching[0].dense >= SAME_MEANING else 0.0
                return max(w * by(m) for w, m in ranked) * max(worded, meant, 0.5 if fact is not None else 0.0)
            return max(w * (1.0 if any(same_person(choice, p) for p in _people_in(m.event)) else 0.0) for w, m in ranked)
        if q.kind is Kind.WHERE and q.said_place:  # the place was named aloud, wherever I was then
            return max(w * c.said(choice, q.keywords, m.event) for w, m in ranked)
        if q.kind is Kind.WHERE:
            if fact is not None and (q.future or q.said_place):
                # What was said of where it will be: the first fact and what else was said with it weigh most.
                first = facts[0].fact.event_id
                return max(
                    (1.0 if f.fact.event_id == first else 0.5) * max(c.overlap(choice, f.fact.where or ""), 0.9 * c.overlap(choice, f.fact.text))
                    for f in facts[:4]
                )
            return max(w * c.place_support(choice, m.event) for w, m in ranked)
        if q.kind is Kind.WHEN:
            target = _target(q, top, quotes.get(top.id), fact)
            if target is not None:
                return c.time_match(choice, target, q.at, ahead=True) or c.time_match(choice, target, q.at)
            return c.time_match(choice, top.start.astimezone(q.at.tzinfo), q.at)
        if q.kind is Kind.COUNT:
            return c.count_support(choice, distinct_occasions([m.event for m in matching]))
        if q.kind is Kind.HOW_MUCH:
            value = c.number_in(choice)
            amounts = _amounts(top, quotes.get(top.id), fact)
            return 1.0 if value is not None and amounts and abs(amounts[0] - value) <= 0.01 * max(1.0, value) else 0.0
        if q.kind is Kind.YES_NO and (c.cues.matches(c.cues.YES, choice) or c.cues.matches(c.cues.NO, choice)):
            yes = self._supported(q, matching)
            return 1.0 if yes == c.cues.matches(c.cues.YES, choice) else 0.0
        similarity = c.dense_similarity(top, vector) if vector is not None else 0.0
        from_fact = 0.0
        if fact is not None:
            from_fact = max(c.overlap(choice, fact.item or ""), c.overlap(choice, fact.text) * 0.9)
        if q.modality == "seen":  # "which label did I see": what was in view, not what was said
            return max(from_fact, max(w * c.seen(choice, m.event) for w, m in ranked)) * 0.95 + 0.05 * similarity
        if q.modality == "heard":
            return max(from_fact, max(w * c.overlap(choice, m.event.transcript) for w, m in ranked)) * 0.9 + 0.1 * similarity
        return max(from_fact, max(w * c.overlap(choice, m.event.document) for w, m in ranked)) * 0.9 + 0.1 * similarity

    @staticmethod
    def _evidence(cand: Candidate, quote: str | None) -> Evidence:
        e = cand.event
        return Evidence(
            event_id=e.id, start=e.start, end=e.end, place=c.place_name([e]) if e.place else None, people=list(e.people),
            quote=quote or e.caption, keyframe=e.keyframes[0] if e.keyframes else None, relevance=round(cand.relevance, 4),
        )  # fmt: skip

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, each sentence embedded once: the moments a life's questions land on recur,
        and embedding their sentences was most of an answer's time."""
        cache = self._sentences
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        # A sentence Whisper never closed can run on for a minute: its start says what it is about.
        heads = [" ".join(t.split()[:SENTENCE_WORDS]) for t in missing]
        for text, vector in zip(missing, self.embedder.embed(heads) if missing else []):
            cache[text] = vector
        for text in texts:
            cache.move_to_end(text)
        while len(cache) > SENTENCE_CACHE:
            cache.popitem(last=False)
        return np.stack([cache[t] for t in texts])

    def _best_sentences(self, q: Question, question_vector: np.ndarray, events: list[Event]) -> dict[str, str]:
        """For each event, the spoken sentence closest to the question (one embedding batch); a sentence
        with the question's content words beats a greeting that only shares its time words ("morning")."""
        best: dict[str, tuple[float, str]] = {}
        found: list[c.Sentence] = []
        for rank, event in enumerate(events):
            said = sorted(c.sentences(event), key=lambda s: c.covered(q.keywords, s.text), reverse=True)
            if rank < SENTENCES_READ[0]:  # the leading moments: read closely, by meaning and words
                found += said[: SENTENCES_READ[1]]
            elif said:  # the rest of the evidence: by its words alone
                best[event.id] = (0.0, said[0].text)
        if not found:
            return {event_id: sentence for event_id, (_, sentence) in best.items()}
        similarity = self._sentence_vectors([s.text for s in found]) @ question_vector
        for sim, s in zip(similarity, found):
            score = float(sim) + 0.3 * c.covered(q.keywords, s.text) + 0.3 * (q.kind is Kind.HOW_MUCH and bool(c.money_in(s.text)))
            if s.event_id not in best or score > best[s.event_id][0]:
                best[s.event_id] = (score, s.text)
        return {event_id: sentence for event_id, (_, sentence) in best.items()}


def _about(facts: list[FoundFact], candidates: list[Candidate]) -> list[FoundFact]:
    """The facts whose moment is about the question about as well as the best moment found ("bring
    the guitar" is not "bring the headphones", however alike the two facts look)."""
    by_id = {m.event.id: m for m in candidates}
    best = candidates[0].relevance if candidates else 0.0
    return [f for f in facts if f.fact.event_id not in by_id or by_id[f.fact.event_id].relevance >= SAME_MATCH * best]


def _supporting(matching: list[Candidate], candidates: list[Candidate]) -> list[Candidate]:
    """The evidence: the moments that answer, then other candidates that say something (no filler
    such as silent moments), up to EVIDENCE."""
    out: list[Candidate] = []
    for m in matching:
        if all(m.event.id != o.event.id for o in out):
            out.append(m)
    floor = MIN_RELEVANCE if not matching else SAME_MATCH * 0.8 * matching[0].relevance
    for m in candidates:
        if len(out) >= EVIDENCE:
            break
        if all(m.event.id != o.event.id for o in out) and m.relevance >= floor and (m.event.quotes or m.event.visible_text or m.event.people):
            out.append(m)
    return out[:EVIDENCE]


def _amounts(event: Event, quote: str | None, fact: Fact | None) -> list[float]:
    """Amounts of money for a "how much" question, the most likely first: the fact's price (when it
    was said in this moment), then the best sentence, the rest of what was said, and what was read
    (a price board, a receipt)."""
    found = [fact.price] if fact is not None and fact.price is not None and fact.event_id == event.id else []
    return found + c.money_in(quote or "") + c.money_in(event.transcript) + c.money_in(" ".join(event.visible_text), need_cue=False)


def _target(q: Question, event: Event, quote: str | None, fact: Fact | None) -> datetime | None:
    """When the thing asked about is for: the fact's target, else the time the best sentence (or the
    text in view: "PLUMBER FRI 4PM") names, read forwards from when it was heard or seen."""
    if not _asks_target(q):
        return None
    if fact is not None and fact.target_start is not None:
        return fact.target_start
    if not q.future:
        return None
    for text in (quote or "", " ".join(event.visible_text)):
        window = resolve_ahead(text, event.start) if text else None
        if window is not None:
            return window.start
    return None


def _asks_target(q: Question) -> bool:
    """"When is the vet visit?" asks when it will be; "when did Ana mention the vet?" when it was said."""
    return q.future or (q.modality != "heard" and not q.time.order)


def _speaker_of(event: Event, sentence: str | None) -> str | None:
    """The named person (not the wearer, not an anonymous voice) who said the sentence."""
    for s in c.sentences(event):
        if sentence and sentence in s.text and named_voice(s.speaker):
            return s.speaker
    return None


def _people_in(event: Event) -> list[str]:
    """Who the moment shows: the people in view with their names, else the names voices gave
    themselves ("I'm Carlos", "it's Leo" on a call) and the named voices."""
    named = [p for p in event.people if not p.startswith("person-")]
    heard = [n for s in c.sentences(event) for n in introduced_names(s.text)]
    if any(p.startswith("person-") for p in event.people):  # someone unnamed in view: the wearer calls them by name
        heard += [n for s in c.sentences(event) if s.speaker == "me" for n in addressed_names(s.text)]
    return list(dict.fromkeys(named + heard + named_speakers(event) + [p for p in event.people if p.startswith("person-")]))


def _hour(t: datetime) -> float:
    return t.hour + t.minute / 60


def _place_words(event: Event) -> set[str]:
    return set(tokens(event.place.name)) if event.place and event.place.name else set()
