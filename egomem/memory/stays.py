"""Stay points: the places the wearer spends time, found by clustering where visits were recorded, and named.

Pure logic, events in and places out: no store, no models. A place's name comes, in this order, from
the wearer (a PlaceBook place whose radius holds it), from a sign read in view on any of its visits,
or from what was said there ("welcome to Harbor Books"); once found, the name is every visit's name,
signs in view or not. Places are stable: a place kept from an earlier run (KnownPlace) keeps its id
and name when new visits join it, and is renamed only by a stronger source or much stronger evidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from egomem.memory.events import DAY_SUMMARY_RECORDING, Event
from egomem.memory.naming import addressed_names, introduced_names
from egomem.memory.places import KnownPlace, NamedPlace, distance_m, named_place_at
from egomem.types import GeoPoint

USER, SIGN, SPEECH, VISUAL = "user", "sign", "speech", "visual"
_RANK = {USER: 0, SPEECH: 1, SIGN: 2}  # lower wins: "welcome to X" names the place; a text in view may be a poster

# Phrases that name the place the speaker is in. Deliberately narrow: "let's meet at X" names another place.
# The phrase in any case, the name in capitals (as Whisper writes names).
_SPOKEN = re.compile(
    r"\b(?i:welcome (?:back )?to|here at|thanks? (?:you )?for (?:coming|shopping|visiting)(?: to| at)?|"
    r"thanks? (?:you )?for choosing|you'?re at|we'?re at)\s+(?i:the\s+)?"
    r"([A-Z][\w'’&-]*(?:\s+(?:of|and|&|on|de)\s+[A-Z][\w'’&-]*|\s+[A-Z][\w'’&-]*){0,4})"
)
_NOT_NAMES = {
    "me", "i", "it", "you", "us", "we", "he", "she", "they", "here", "there", "this", "that", "a", "an", "my", "your", "our",
}


@dataclass(frozen=True)
class StayOptions:
    radius_m: float = 120.0  # visits closer than this to a place's centre are that place
    min_sign_weight: float = 0.5  # a text first in view on one visit weighs 1, the second 0.5; summed over visits
    min_sign_share: float = 0.25  # ... and is read on at least this share of the place's visits
    # Placing a recording without GPS by how it looks: accepted above `min` and `margin` over the runner-up.
    clip_min_similarity: float = 0.85
    clip_margin: float = 0.05
    look_min_similarity: float = 0.80  # image_descriptor: 0.5 colour (Bhattacharyya) + 0.5 grey layout (cosine)
    look_margin: float = 0.08


@dataclass(frozen=True)
class DiscoveredPlace:
    """A place and its visits; `point` is the centre of its GPS visits."""

    id: str
    point: GeoPoint
    name: str | None = None
    source: str | None = None  # USER, SIGN or SPEECH
    event_ids: tuple[str, ...] = ()
    recording_ids: tuple[str, ...] = ()  # one per visit, first visit first
    first: datetime | None = None
    last: datetime | None = None

    @property
    def visits(self) -> int:
        return len(self.recording_ids)

    def known(self) -> KnownPlace:
        return KnownPlace(
            self.id, round(self.point.lat, 7), round(self.point.lon, 7), self.name, self.source, self.visits,
            self.first.isoformat() if self.first else None, self.last.isoformat() if self.last else None,
        )


@dataclass
class _Cluster:
    id: str
    anchor: GeoPoint  # what new visits are compared with: the kept centre, or the running mean of a new place
    prev: KnownPlace | None = None
    points: list[GeoPoint] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def add(self, event: Event, point: GeoPoint | None) -> None:
        self.events.append(event)
        if point is not None:
            self.points.append(point)
            if self.prev is None:
                self.anchor = _mean(self.points)


def cluster_places(
    events: Sequence[Event],
    user_places: Sequence[NamedPlace] = (),
    known: Sequence[KnownPlace] = (),
    options: StayOptions = StayOptions(),
) -> list[DiscoveredPlace]:
    """Every place with its visits and name, known places first (in their order), then new ones.

    Events with a GPS position are clustered greedily in time order: each joins the nearest place
    within `radius_m`, else starts one. Events placed visually earlier (source "visual") carry their
    place's centre and rejoin it without moving it. Events without a position are left out.
    """
    clusters = [_Cluster(k.id, k.point, k) for k in known]
    next_id = 1 + max((_number(k.id) for k in known), default=0)
    events = [e for e in events if e.recording_id != DAY_SUMMARY_RECORDING]
    located = sorted((e for e in events if e.place and e.place.point), key=lambda e: (e.start, e.id))
    for event in located:
        point = event.place.point  # type: ignore[union-attr]
        visual = event.place.source == VISUAL  # type: ignore[union-attr]
        near = _nearest(clusters, point, options.radius_m)
        if near is None:
            if visual:
                continue  # its place is gone: it stays where it was
            near = _Cluster(f"place-{next_id}", point)
            next_id += 1
            clusters.append(near)
        near.add(event, None if visual else point)

    people = {p.lower() for e in events for p in e.people}
    # Names people (and pets) are called by or give themselves ("okay Max, breakfast time", "I'm
    # Karen") name no place, however often they are read on a note or a bowl there.
    called = people | {n.lower() for e in events for q in e.quotes for n in addressed_names(q.text) + introduced_names(q.text)}
    signs = _candidates(clusters, lambda e: list(enumerate(e.visible_text)), people=called)
    spoken = _candidates(clusters, lambda e: [(0, m) for q in e.quotes for m in _spoken_names(q.text)], people)
    places = []
    for c in clusters:
        centre = _mean(c.points) if c.points else c.anchor
        name, source = _name(c, centre, user_places, signs.get(c.id, {}), spoken.get(c.id, {}), options)
        recordings = list(dict.fromkeys(e.recording_id for e in sorted(c.events, key=lambda e: (e.start, e.id))))
        places.append(
            DiscoveredPlace(
                c.id, centre, name, source, tuple(e.id for e in c.events), tuple(recordings),
                min((e.start for e in c.events), default=None), max((e.end for e in c.events), default=None),
            )
        )
    return places


# -- names ----------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    visits: set[str] = field(default_factory=set)  # recording ids
    weight: float = 0.0  # per visit, the prominence of its best showing (1 for first in view)
    variants: Counter[str] = field(default_factory=Counter)
    score: float = 0.0


def _candidates(clusters: list[_Cluster], texts, people: set[str]) -> dict[str, dict[str, _Candidate]]:
    """Per place, per name key: the visits it was seen or heard on, scored against other places."""
    found: dict[str, dict[str, _Candidate]] = {}
    for c in clusters:
        best: dict[tuple[str, str], float] = {}  # (key, recording) -> prominence
        here: dict[str, _Candidate] = {}
        for event in c.events:
            for index, text in texts(event):
                text = " ".join(text.split())
                key = name_key(text)
                if not _plausible_name(text) or text.lower() in people:
                    continue
                cand = here.setdefault(key, _Candidate())
                cand.visits.add(event.recording_id)
                cand.variants[text] += 1
                prominence = 1.0 / (1 + index)
                best[key, event.recording_id] = max(best.get((key, event.recording_id), 0.0), prominence)
        for (key, _), prominence in best.items():
            here[key].weight += prominence
        found[c.id] = here
    # tf-idf over places: text read at many places ("EXIT", "OPEN") is probably none of their names.
    spread = Counter(key for here in found.values() for key in here)
    for here in found.values():
        for key, cand in here.items():
            cand.score = cand.weight * math.log((len(clusters) + 1) / spread[key])
    return found


def _name(
    c: _Cluster,
    centre: GeoPoint,
    user_places: Sequence[NamedPlace],
    signs: dict[str, _Candidate],
    spoken: dict[str, _Candidate],
    options: StayOptions,
) -> tuple[str | None, str | None]:
    user = named_place_at(user_places, centre)
    if user is not None:
        return user.name, USER
    fresh: tuple[str, str, float, int] | None = None  # name, source, score, visits
    visits = len({e.recording_id for e in c.events})
    # A sign is read on a fair share of visits; a note or a label read once at a place visited often is not its name.
    seen_enough = max(1, math.ceil(options.min_sign_share * visits))
    for source, cands, floor in ((SPEECH, spoken, 0.0), (SIGN, signs, options.min_sign_weight)):
        strong = [(k, c) for k, c in cands.items() if c.weight >= floor and (source != SIGN or len(c.visits) >= seen_enough)]
        ranked = sorted(strong, key=lambda kc: (-kc[1].score, -len(kc[1].visits), kc[0]))
        if ranked:
            key, cand = ranked[0]
            fresh = (_display(cand, spoken.get(key)), source, cand.score, len(cand.visits))
            break
    prev = c.prev
    if prev is not None and prev.name and prev.source in (SIGN, SPEECH):
        if fresh is None or _RANK[fresh[1]] > _RANK[prev.source]:
            return prev.name, prev.source
        if fresh[1] == prev.source:
            kept = (signs if prev.source == SIGN else spoken).get(name_key(prev.name))
            kept_score = kept.score if kept else 0.0
            if not (fresh[3] >= 2 and fresh[2] >= 2 * kept_score):  # only much stronger evidence renames a place
                return prev.name, prev.source
    return (fresh[0], fresh[1]) if fresh else (None, None)


def name_key(text: str) -> str:
    """What two readings of one sign share: letters and digits, case and spacing aside ("CAFECENTRAL")."""
    return re.sub(r"[\W_]+", "", text).lower()


def _display(cand: _Candidate, heard: _Candidate | None) -> str:
    """The reading with the most spaces (OCR drops some), else the one heard; capitals title-cased."""
    variants = list(cand.variants.items()) + ([(v, 0) for v in heard.variants] if heard else [])
    text = max(variants, key=lambda vc: (vc[0].count(" "), vc[1], vc[0]))[0]
    return title_case(text)


def title_case(text: str) -> str:
    """ "FRESH MARKET" -> "Fresh Market"; text already in mixed case is kept as written."""
    if not text.isupper():
        return text
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))


def _plausible_name(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return (
        3 <= len(text) <= 40
        and letters >= 3
        and letters >= 0.6 * sum(ch.isalnum() for ch in text)
        and len(text.split()) <= 5
        and text.lower() not in _NOT_NAMES
    )


def _spoken_names(text: str) -> list[str]:
    """Names the speaker gives to where they are: "Welcome to Harbor Books!" -> ["Harbor Books"]."""
    names = []
    for match in _SPOKEN.finditer(text):
        words = match.group(1).split()
        while words and words[-1].lower() in ("of", "and", "&", "on", "de"):
            words.pop()
        if words and words[0][:1].isupper() and words[0].lower() not in _NOT_NAMES:
            names.append(" ".join(words).strip(".,!?;:'’"))
    return names


# -- recordings without GPS -------------------------------------------------------------------------


@dataclass(frozen=True)
class VisualMatch:
    place_id: str | None  # None: no place looks enough like it
    similarity: float  # to the best place
    runner_up: float  # to the second best (-1 when there was none)
    best_id: str | None = None  # the best place even when not confident


def image_descriptor(image_bgr: np.ndarray) -> np.ndarray:
    """A cheap global look of a keyframe: an 8x4x4 HSV colour histogram and a 16x9 grey layout.

    Unit length: the dot product of two is 0.5 * Bhattacharyya coefficient of the colours + 0.5 *
    cosine of the zero-mean layouts, in [-0.5, 1].
    """
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel().astype(np.float64)
    colour = np.sqrt(hist / max(hist.sum(), 1.0))
    grey = cv2.resize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY), (16, 9), interpolation=cv2.INTER_AREA)
    grey = grey.astype(np.float64).ravel()
    grey -= grey.mean()
    norm = np.linalg.norm(grey)
    layout = grey / norm if norm > 1e-6 else np.zeros_like(grey)
    out = np.concatenate([colour, layout]) * np.sqrt(0.5)
    if norm <= 1e-6:  # a flat frame: colour only, still unit length
        out = np.concatenate([colour, layout])
    return out.astype(np.float32)


def match_visually(
    query: Sequence[np.ndarray], places: Mapping[str, Sequence[np.ndarray]], *, min_similarity: float, margin: float
) -> VisualMatch:
    """The place whose visits look most like `query` (unit vectors: one per keyframe or event), if confident.

    A place's similarity is the mean over the query's vectors of the best match among its own.
    """
    if not query:
        return VisualMatch(None, -1.0, -1.0)
    q = np.stack([np.asarray(v, np.float32) for v in query])
    scores = []
    for place_id, vectors in places.items():
        if len(vectors):
            sims = q @ np.stack([np.asarray(v, np.float32) for v in vectors]).T
            scores.append((float(sims.max(axis=1).mean()), place_id))
    if not scores:
        return VisualMatch(None, -1.0, -1.0)
    scores.sort(reverse=True)
    best, best_id = scores[0]
    second = scores[1][0] if len(scores) > 1 else -1.0
    confident = best >= min_similarity and best - second >= margin
    return VisualMatch(best_id if confident else None, best, second, best_id)


def spread_sample(groups: Sequence[Sequence[str]], limit: int) -> list[str]:
    """Up to `limit` items taken round-robin across groups (visits), so one long visit does not crowd the rest."""
    out: list[str] = []
    depth = 0
    while len(out) < limit and any(depth < len(g) for g in groups):
        out.extend(g[depth] for g in groups if depth < len(g))
        depth += 1
    return out[:limit]


# -- helpers --------------------------------------------------------------------------------------


def _nearest(clusters: list[_Cluster], point: GeoPoint, radius_m: float) -> _Cluster | None:
    near = [(d, c) for c in clusters if (d := distance_m(point, c.anchor)) <= radius_m]
    return min(near, key=lambda dc: dc[0])[1] if near else None


def _mean(points: list[GeoPoint]) -> GeoPoint:
    return GeoPoint(sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points))


def _number(place_id: str) -> int:
    tail = place_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0

