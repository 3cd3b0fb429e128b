"""Facts at ingest: extract them from a recording's stored events, embed, reconcile with memory, store.

Called once per recording after its events are stored. Reconciliation looks at the stored facts
whose subjects are near the new ones (a vector search per new fact, plus shared subject words), so
an update said today closes or supersedes a plan heard last week, and a recording ingested late
still lands in the right place in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from egomem.memory.events import Event
from egomem.memory.facts import Fact, extract_facts, reconcile
from egomem.store.base import FactFilter
from egomem.store.edge import EdgeEventStore

NEIGHBOURS = 8  # stored facts looked at per new fact
NEIGHBOUR_MIN_SCORE = 0.35  # cosine of the fact vectors; below it subjects are unrelated

Embed = Callable[[list[str]], np.ndarray]


def remember_facts(store: EdgeEventStore, embed: Embed, events: Sequence[Event]) -> list[Fact]:
    """Extract, embed (one batch), reconcile and upsert the facts of `events`; returns the new facts."""
    new = [fact for event in events for fact in extract_facts(event)]
    if not new:
        return []
    vectors = embed([f.document for f in new])
    for fact, vector in zip(new, vectors):
        fact.text_vector = [float(x) for x in vector]
    ids = {f.id for f in new}
    stored: dict[str, Fact] = {}
    for fact in new:
        for hit, score in store.search_facts(fact.text_vector, FactFilter(include_superseded=True), NEIGHBOURS):
            if hit.id not in ids and score >= NEIGHBOUR_MIN_SCORE:
                stored[hit.id] = hit
    words = sorted({w for f in new for w in f.words})
    if words:
        for hit in store.facts(FactFilter(include_superseded=True, subject_words=words)):
            if hit.id not in ids:
                stored.setdefault(hit.id, hit)
    before = {f.id: _derived(f) for f in stored.values()}
    everything = reconcile([*new, *stored.values()], subject_similarity(embed))
    changed = [f for f in everything if f.id in ids or before.get(f.id) != _derived(f)]
    store.upsert_facts(changed)
    return new


def subject_similarity(embed: Embed) -> Callable[[str, str], float]:
    """MiniLM cosine between two subjects, each embedded once."""
    cache: dict[str, np.ndarray] = {}

    def vector(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = np.asarray(embed([text])[0], np.float32)
        return cache[text]

    def similar(a: str, b: str) -> float:
        if not a or not b:
            return 0.0
        return 1.0 if a == b else float(vector(a) @ vector(b))

    return similar


def _derived(f: Fact) -> tuple:
    return f.status, f.valid_to, f.supersedes, f.target_start
