"""Places after each ingest: cluster every stored visit into places, name them, relabel what changed.

One scroll of the place fields of all events (EdgeEventStore.place_events), the pure clustering and
naming of egomem/memory/stays.py, then set_places for the events whose place changed only (a changed
caption is re-embedded, nothing else is). Recordings without GPS from this batch are placed by how
they look (CLIP vectors when present, else keyframe thumbnails) when the match is confident.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from egomem.memory.events import DAY_SUMMARY_RECORDING, Event, Place
from egomem.memory.places import DiscoveredPlaceBook, NamedPlace
from egomem.memory.stays import (
    VISUAL,
    DiscoveredPlace,
    StayOptions,
    VisualMatch,
    cluster_places,
    image_descriptor,
    match_visually,
    spread_sample,
)
from egomem.runtime import Runtime
from egomem.store.edge import EdgeEventStore

KEYFRAMES_PER_PLACE = 12  # thumbnails read per known place to compare a GPS-less recording with
KEYFRAMES_PER_RECORDING = 6

Embed = Callable[[list[str]], np.ndarray]


@dataclass
class PlaceUpdate:
    places: list[DiscoveredPlace]
    relabelled: int  # events whose stored place changed
    placed: dict[str, tuple[str, VisualMatch]] = field(default_factory=dict)  # recording id -> (its source, match)
    unplaced: dict[str, tuple[str, VisualMatch]] = field(default_factory=dict)  # recording ids still without a place
    notices: list[str] = field(default_factory=list)


def update_memory_places(rt: Runtime, recordings: Collection[str] | None = None) -> PlaceUpdate:
    """`update_places` on a memory: its store, the wearer's places, `discovered_places.json` beside them."""
    return update_places(
        rt.store,
        rt.places.places,
        rt.discovered_places(),
        thumbnails_dir=rt.settings.thumbnails_dir,
        embed=lambda texts: rt.text_embedder.embed(texts),  # the model loads only if some caption changed
        recordings=recordings,
    )


def update_places(
    store: EdgeEventStore,
    user_places: Sequence[NamedPlace],
    book: DiscoveredPlaceBook,
    *,
    thumbnails_dir: Path | None = None,
    embed: Embed | None = None,
    recordings: Collection[str] | None = None,
    options: StayOptions = StayOptions(),
) -> PlaceUpdate:
    """Recompute places over all stored events, store each event's place where it changed, keep the places.

    recordings: the recordings just ingested; only those are placed by how they look when they have
    no GPS (None: every recording without one), and only those are reported in `notices`.
    """
    events = [e for e in store.place_events() if e.recording_id != DAY_SUMMARY_RECORDING]
    places = cluster_places(events, user_places, book.places, options)
    by_id = {e.id: e for e in events}
    wanted: dict[str, Place | None] = {}
    for place in places:
        for event_id in place.event_ids:
            event = by_id[event_id]
            point = event.place.point if event.place else None
            visual = event.place is not None and event.place.source == VISUAL
            wanted[event_id] = Place(place.name, point, VISUAL if visual else (place.source if place.name else None))

    update = PlaceUpdate(places, 0)
    unplaced = _unplaced(events, wanted, recordings)
    for rec_id, rec_events in unplaced.items():
        update.unplaced[rec_id] = (rec_events[0].source, VisualMatch(None, -1.0, -1.0))
    if unplaced and places:
        _place_by_look(store, unplaced, by_id, wanted, update, thumbnails_dir, options)

    changes = {eid: place for eid, place in wanted.items() if by_id[eid].place != place}
    update.relabelled = store.set_places(changes, embed=embed) if changes else 0
    book.save([p.known() for p in update.places])
    update.notices = _notices(update)
    return update


def _unplaced(events: list[Event], wanted: dict[str, Place | None], recordings: Collection[str] | None) -> dict[str, list[Event]]:
    """Recordings (of this batch) none of whose events has a position."""
    found: dict[str, list[Event]] = {}
    for event in events:
        if recordings is None or event.recording_id in recordings:
            found.setdefault(event.recording_id, []).append(event)
    return {r: evs for r, evs in found.items() if not any(e.id in wanted or (e.place and e.place.point) for e in evs)}


def _place_by_look(
    store: EdgeEventStore,
    unplaced: dict[str, list[Event]],
    by_id: dict[str, Event],
    wanted: dict[str, Place | None],
    update: PlaceUpdate,
    thumbnails_dir: Path | None,
    options: StayOptions,
) -> None:
    """CLIP vectors when the recording and some places have them, else a cheap look of the thumbnails.

    Each place is represented by a sample of its GPS visits' events, spread over its visits.
    """
    samples: dict[str, list[Event]] = {}
    for place in update.places:
        visits: dict[str, list[str]] = {}
        for eid in place.event_ids:
            if not (by_id[eid].place and by_id[eid].place.source == VISUAL):  # type: ignore[union-attr]
                visits.setdefault(by_id[eid].recording_id, []).append(eid)
        samples[place.id] = [by_id[eid] for eid in spread_sample(list(visits.values()), KEYFRAMES_PER_PLACE)]
    wanted_vectors = [e.id for evs in (*samples.values(), *unplaced.values()) for e in evs]
    image = {e.id: np.asarray(e.image_vector, np.float32) for e in store.get(wanted_vectors) if e.image_vector}
    looks: dict[str, list[np.ndarray]] | None = None
    by_place = {p.id: p for p in update.places}
    for rec_id, rec_events in unplaced.items():
        clip_query = [image[e.id] for e in rec_events if e.id in image]
        clip_places = {pid: [image[e.id] for e in evs if e.id in image] for pid, evs in samples.items()}
        if clip_query and any(clip_places.values()):
            match = match_visually(clip_query, clip_places, min_similarity=options.clip_min_similarity,
                                   margin=options.clip_margin)
        elif thumbnails_dir is not None:
            if looks is None:  # read once per batch, only when some recording needs it
                looks = {pid: _looks(thumbnails_dir, evs, KEYFRAMES_PER_PLACE) for pid, evs in samples.items()}
            query = _looks(thumbnails_dir, rec_events, KEYFRAMES_PER_RECORDING)
            match = match_visually(query, looks, min_similarity=options.look_min_similarity, margin=options.look_margin)
        else:
            continue
        if match.place_id is None:
            update.unplaced[rec_id] = (rec_events[0].source, match)
            continue
        place = by_place[match.place_id]
        for event in rec_events:
            wanted[event.id] = Place(place.name, place.point, VISUAL)
        by_place[place.id] = _with_visit(place, rec_events)
        update.placed[rec_id] = update.unplaced.pop(rec_id)[0], match
    update.places = [by_place[p.id] for p in update.places]


def _looks(thumbnails_dir: Path, events: list[Event], limit: int) -> list[np.ndarray]:
    by_visit: dict[str, list[str]] = {}
    for event in events:
        by_visit.setdefault(event.recording_id, []).extend(event.keyframes)
    out = []
    for rel in spread_sample(list(by_visit.values()), limit):
        image = cv2.imread(str(thumbnails_dir / rel))
        if image is not None:
            out.append(image_descriptor(image))
    return out


def _with_visit(place: DiscoveredPlace, events: list[Event]) -> DiscoveredPlace:
    starts = [e.start for e in events] + ([place.first] if place.first else [])
    ends = [e.end for e in events] + ([place.last] if place.last else [])
    return replace(
        place,
        event_ids=place.event_ids + tuple(e.id for e in events),
        recording_ids=tuple(dict.fromkeys(place.recording_ids + tuple(e.recording_id for e in events))),
        first=min(starts),
        last=max(ends),
    )


def _notices(update: PlaceUpdate) -> list[str]:
    names = {p.id: p.name or f"{p.point.lat:.5f},{p.point.lon:.5f}" for p in update.places}
    out = []
    for source, match in update.placed.values():
        out.append(
            f"{Path(source).name} has no GPS position; placed at {names[match.place_id or '']} by how it looks "
            f"(similarity {match.similarity:.2f}, next best {match.runner_up:.2f})"
        )
    for source, match in update.unplaced.values():
        if match.best_id is None:
            why = "nothing to compare it with (no pictures of it, or no places yet)"
        else:
            why = (f"it looks most like {names[match.best_id]} (similarity {match.similarity:.2f}, next best "
                   f"{match.runner_up:.2f}), not closely or distinctly enough")
        out.append(f"{Path(source).name} has no GPS position and was left unplaced: {why}")
    return out
