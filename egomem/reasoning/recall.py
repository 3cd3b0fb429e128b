"""Fact lookup: the plans, requests, purchases and prices a question is about, as they stood when it
was asked.

A fact replaced later (a dinner moved from Friday to Saturday) is still the truth for a question
asked before the change; asked after, the later version wins. Questions about what lies ahead are
matched by the plan's target time, not by when it was said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from egomem.memory.facts import Fact, FactStatus
from egomem.reasoning.question import Kind, Question, tokens
from egomem.reasoning.retrieval import same_person
from egomem.reasoning.types import FactEvidence
from egomem.store.base import EventStore
from egomem.timeexpr import Order

FACT_CANDIDATES = 20
MIN_FACT_RELEVANCE = 0.45  # below this a fact is not about the question
SAME_FACT = 0.7  # facts within this share of the best relevance are about the same thing


@dataclass(frozen=True)
class FoundFact:
    fact: Fact
    relevance: float


class FactRecall:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def find(self, q: Question, vector: np.ndarray) -> list[FoundFact]:
        """Facts about the question, valid at its asking moment, best first."""
        try:  # TEMP until the fact store lands
            from egomem.store.base import FactFilter  # type: ignore[attr-defined]
        except ImportError:
            return []
        if not hasattr(self.store, 'search_facts'):
            return []
        window = q.time.window  # "what did I plan with Bob on Tuesday?": said then
        flt = FactFilter(said_before=min(window.end, q.at) if window else q.at, said_after=window.start if window else None)
        hits = self.store.search_facts(vector.tolist(), flt, FACT_CANDIDATES)  # type: ignore[attr-defined]
        found: list[FoundFact] = []
        for fact, score in hits:
            if not _valid_at(fact, q):
                continue
            covered = _covered(q.keywords, f"{fact.subject} {fact.text} {fact.item or ''} {fact.where or ''}")
            score += 0.2 * covered
            if q.people and _involves(fact, q.people):
                score += 0.15
            if q.future and fact.target_start is not None:
                if fact.target_start >= q.at:
                    score += 0.1
                if covered > 0 and q.target is not None and q.target.start <= fact.target_start < q.target.end:
                    score += 0.25
            if q.fact_kinds and fact.kind.value in q.fact_kinds:
                score += 0.15
            if fact.speaker == "me" and _asked_of_me(q):
                score -= 0.2  # "what did Bob ask me to do?" is not what I said I would do
            found.append(FoundFact(fact, score))
        if q.people and q.modality == "heard" and q.kind is not Kind.WHO:
            # "What did Bob remind me of?": Bob's words, unless no fact names him (a voice never named).
            found = [f for f in found if _involves(f.fact, q.people)] or found
        found = sorted((f for f in found if f.relevance >= MIN_FACT_RELEVANCE), key=lambda f: f.relevance, reverse=True)
        if found and (q.future or q.time.order is Order.LATEST):
            # What lies ahead, or what it is now: of the facts about it, the latest word wins.
            near = [f for f in found if f.relevance >= SAME_FACT * found[0].relevance]
            near.sort(key=lambda f: f.fact.said_at, reverse=True)
            found = near + [f for f in found if f not in near]
        return found


def _asked_of_me(q: Question) -> bool:
    return bool(re.search(r"\b(ask|asked|tell|told|remind|reminded|want|wanted|wants|need|needs|needed)s? me\b", q.text, re.I))


def _involves(fact: Fact, people: tuple[str, ...]) -> bool:
    return any(same_person(p, x) for p in people for x in [fact.speaker or "", fact.addressee or "", *fact.people])


def _valid_at(fact: Fact, q: Question) -> bool:
    """Whether the fact held when the question was asked: a version replaced before then is history."""
    if fact.valid_to is not None and fact.valid_to <= q.at:
        return False
    return not (fact.status is FactStatus.SUPERSEDED and fact.valid_to is None)


def _covered(keywords: tuple[str, ...], text: str) -> float:
    if not keywords:
        return 0.0
    present = set(tokens(text))
    return sum(1 for k in keywords if k in present) / len(keywords)


def fact_evidence(fact: Fact) -> FactEvidence:
    price = f"{fact.price:g} {fact.currency or ''}".strip() if fact.price is not None else None
    return FactEvidence(
        kind=fact.kind.value, text=fact.text, said_at=fact.said_at, event_id=fact.event_id, status=fact.status.value,
        speaker=fact.speaker, target=fact.target_start, item=fact.item, where=fact.where, price=price,
    )  # fmt: skip
