"""The web app: a Gradio UI over the same runtime as the JSON API, mounted beside it.

Tabs: Day (summary, place strip, timeline, one moment in detail), Ask (chat with evidence
thumbnails), Search (text and filters to a gallery), People (name, rename, merge, forget) and
Upload (drop recordings, watch them being ingested).

Layout of this module: pure data-shaping helpers first (unit tested, no Gradio), then `WebData`
(every store and model access, each under the service's lock: the embedded shard is
single-user), `UploadQueue` (the background ingest), and last the widgets, one function per tab.

Images are served by Gradio's own file route (the thumbnails folder is an allowed path), so they
sit behind the UI's login when one is configured. Times are shown in `settings.timezone`.
"""

from __future__ import annotations

import html
import itertools
import math
import queue
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import gradio as gr

from egomem.errors import EgomemError
from egomem.memory.events import DAY_SUMMARY_RECORDING, Event, Quote
from egomem.store.base import EventFilter, ScoredEvent
from egomem.types import GeoPoint
from pipelines.daily_summary import WEARER_NAMES, OpenItem, build_summary, day_bounds, day_events, day_facts, long_date, person_label, resolve_timezone

if TYPE_CHECKING:
    from fastapi import FastAPI

    from egomem.people import PersonView
    from egomem.reasoning.types import Answer, Evidence
    from egomem.runtime import Runtime
    from egomem.store.catalog import CatalogEntry

FILE_ROUTE = "gradio_api/file="  # Gradio's file route, relative to the UI's own URL
SNIPPET_CHARS = 180
SEARCH_LIMIT = 24
MIN_DENSE = 0.30  # cosine similarity below which a text match alone is not shown
DENSE_SHARE = 0.70
PLACE_RADIUS_M = 150.0  # a place typed as "lat,lon" matches events this close
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
UPLOADS_FOLDER = "uploads-web"
_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


# == data shaping (no Gradio, no store) =============================================================


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def md_escape(text: str) -> str:
    """Markdown-safe text: what was said or read renders as those words, never as markup."""
    return re.sub(r"([\\`*_\[\]{}<>#|!~])", r"\\\1", " ".join(str(text).split()))


def shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def span(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}\u2013{end:%H:%M}" if end - start >= timedelta(minutes=1) else f"{start:%H:%M}"


def people_text(people: Iterable[str]) -> str:
    names = [person_label(p) for p in people if p not in WEARER_NAMES]
    return ", ".join(names)


def speaker_text(speaker: str | None) -> str:
    if not speaker:
        return "someone"
    return "you" if speaker in WEARER_NAMES else person_label(speaker)


def keyframe_path(thumbnails_dir: Path, relative: str | None) -> Path | None:
    """The keyframe's file when it exists inside the thumbnails folder, else None."""
    if not relative:
        return None
    root = Path(thumbnails_dir).resolve()
    path = (root / relative).resolve()
    return path if root in path.parents and path.is_file() else None


def file_url(path: Path) -> str:
    """A URL for a file Gradio may serve, relative to the UI's page."""
    return FILE_ROUTE + quote(str(path), safe="/")


def parse_day(value: object) -> date | None:
    """A calendar day from a picker or a typed YYYY-MM-DD; None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):  # a gr.DateTime timestamp
        return datetime.fromtimestamp(float(value)).date()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise EgomemError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def parse_moment(value: object, tz: tzinfo) -> datetime | None:
    """An ISO 8601 time (naive ones are in `tz`); a bare date means the end of that day. None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EgomemError(f"not a time: {text!r} (use e.g. 2026-03-03T21:30 or 2026-03-03)") from None
    if len(text) <= 10:  # only a date: everything that day is visible
        moment = moment + timedelta(days=1) - timedelta(seconds=1)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def memory_days(entries: Iterable[CatalogEntry], tz: tzinfo) -> list[date]:
    """Local days with recordings in memory, newest first (from the catalog: no store scan)."""
    days: set[date] = set()
    for entry in entries:
        if getattr(entry.status, "value", entry.status) != "done" or not entry.events or not entry.start:
            continue
        try:
            first = datetime.fromisoformat(entry.start).astimezone(tz).date()
            last = datetime.fromisoformat(entry.end).astimezone(tz).date() if entry.end else first
        except ValueError:
            continue
        day = first
        while day <= last and (day - first).days < 3:
            days.add(day)
            day += timedelta(days=1)
    return sorted(days, reverse=True)


def neighbour_day(days: Sequence[date], current: date | None, step: int) -> date | None:
    """The next (+1, later) or previous (-1, earlier) day with memories from `current`."""
    ordered = sorted(days)
    if not ordered:
        return None
    if current is None:
        return ordered[-1]
    later = [d for d in ordered if d > current]
    earlier = [d for d in ordered if d < current]
    if step > 0:
        return later[0] if later else current
    return earlier[-1] if earlier else current


# -- the day --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    event_id: str
    start: datetime  # local
    end: datetime
    place: str
    people: tuple[str, ...]
    signs: tuple[str, ...]  # text read in view
    snippet: str  # what was said, else the caption
    keyframe: Path | None  # the first keyframe's file


def timeline_rows(events: Sequence[Event], tz: tzinfo, thumbnails_dir: Path) -> list[TimelineRow]:
    rows = []
    for e in sorted(events, key=lambda e: (e.start, e.end, e.id)):
        snippet = shorten(e.transcript) or "No speech."
        rows.append(TimelineRow(
            e.id, e.start.astimezone(tz), e.end.astimezone(tz), e.place.label if e.place else "unknown place",
            tuple(e.people), tuple(t for t in e.visible_text if t.strip()), snippet, keyframe_path(thumbnails_dir, _first(e.keyframes)),
        ))  # fmt: skip
    return rows


def render_timeline(rows: Sequence[TimelineRow], selected: str | None = None) -> str:
    """The day's moments as clickable rows (`data-event` carries the id for the click handler)."""
    if not rows:
        return '<p class="eg-empty">No moments recorded on this day.</p>'
    out = ['<ol class="eg-timeline">']
    for r in rows:
        image = (
            f'<img src="{esc(file_url(r.keyframe))}" alt="{esc(r.place)} at {r.start:%H:%M}" loading="lazy">'
            if r.keyframe else '<div class="eg-noimg">no picture</div>'
        )  # fmt: skip
        who = f'<span class="eg-people">with {esc(people_text(r.people))}</span>' if people_text(r.people) else ""
        signs = f'<div class="eg-signs">Seen: {esc(" · ".join(r.signs))}</div>' if r.signs else ""
        out.append(
            f'<li class="eg-row{" eg-selected" if r.event_id == selected else ""}" data-event="{esc(r.event_id)}" tabindex="0" '
            f'role="button" title="Show this moment">{image}'
            f'<div class="eg-body"><div class="eg-head"><span class="eg-time">{span(r.start, r.end)}</span>'
            f'<span class="eg-place">{esc(r.place)}</span>{who}</div>{signs}'
            f'<div class="eg-snippet">{esc(r.snippet)}</div></div></li>'
        )
    out.append("</ol>")
    return "".join(out)


TIMELINE_CSS = """
.eg-timeline { list-style: none; margin: 0; padding: 0; }
.eg-row { display: flex; gap: 12px; align-items: flex-start; padding: 8px; margin: 0 0 6px 0; border-radius: 8px;
  border: 1px solid var(--border-color-primary); cursor: pointer; background: var(--background-fill-primary); }
.eg-row:hover, .eg-row:focus { border-color: var(--color-accent); outline: none; }
.eg-row.eg-selected { border-color: var(--color-accent); box-shadow: 0 0 0 1px var(--color-accent); }
.eg-row img, .eg-noimg { width: 160px; height: 90px; object-fit: cover; border-radius: 6px; flex: none; background: #ddd; }
.eg-noimg { display: flex; align-items: center; justify-content: center; color: #666; font-size: 12px; }
.eg-body { min-width: 0; }
.eg-head { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; }
.eg-time { font-weight: 700; font-variant-numeric: tabular-nums; }
.eg-place { font-weight: 600; }
.eg-people { color: var(--body-text-color-subdued); }
.eg-signs { font-size: 0.9em; margin-top: 2px; letter-spacing: 0.02em; }
.eg-snippet { color: var(--body-text-color-subdued); margin-top: 2px; }
.eg-empty { color: var(--body-text-color-subdued); }
"""

# A click (or Enter) on a row reports its event id; the listener sits on the component's root,
# so it survives every re-render of the rows.
TIMELINE_JS = """
const pick = (ev) => {
  const row = ev.target.closest('[data-event]');
  if (!row) return;
  element.querySelectorAll('.eg-selected').forEach(r => r.classList.remove('eg-selected'));
  row.classList.add('eg-selected');
  trigger('click', {event_id: row.dataset.event});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(ev); });
"""


@dataclass(frozen=True)
class Stop:
    """A stay at one position: consecutive events at the same place merged. Times are local."""

    label: str
    lat: float
    lon: float
    start: datetime
    end: datetime


def place_stops(events: Sequence[Event], tz: tzinfo) -> list[Stop]:
    stops: list[Stop] = []
    for e in sorted(events, key=lambda e: (e.start, e.end, e.id)):
        if e.place is None or e.place.point is None:
            continue
        label, start, end = e.place.label, e.start.astimezone(tz), e.end.astimezone(tz)
        if stops and stops[-1].label == label:
            stops[-1] = replace(stops[-1], end=max(stops[-1].end, end))
        else:
            stops.append(Stop(label, e.place.point.lat, e.place.point.lon, start, end))
    return stops


def render_place_strip(stops: Sequence[Stop], width: int = 760) -> str:
    """An inline SVG: a small map of the day's positions joined in time order, and a time strip."""
    if not stops:
        return '<p class="eg-empty">No positions recorded on this day.</p>'
    colours: dict[str, str] = {}
    for s in stops:
        colours.setdefault(s.label, PALETTE[len(colours) % len(PALETTE)])

    # Map: equirectangular, shrunk by cos(latitude) so distances look right at city scale.
    map_h, pad = 150, 22
    mean_lat = math.radians(sum(s.lat for s in stops) / len(stops))
    xs = [s.lon * math.cos(mean_lat) for s in stops]
    ys = [-s.lat for s in stops]
    spread = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-9
    scale = min((width * 0.62 - 2 * pad), (map_h - 2 * pad)) / spread
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def project(i: int) -> tuple[float, float]:
        return width * 0.31 + (xs[i] - cx) * scale, map_h / 2 + (ys[i] - cy) * scale

    points = [project(i) for i in range(len(stops))]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {map_h + 70}" class="eg-strip" role="img" '
             f'style="width:100%;max-width:{width}px;display:block;margin:0 auto" '
             f'aria-label="Where you were, in time order">',
             f'<rect x="0" y="0" width="{width}" height="{map_h}" rx="8" fill="#f4f6f8"/>']  # fmt: skip
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#8a94a6" stroke-width="2" stroke-dasharray="5 4"/>')
    # One marker per place, labelled with every visit's time.
    visits: dict[str, list[int]] = {}
    for i, s in enumerate(stops):
        visits.setdefault(s.label, []).append(i)
    legend_y = 24
    for label, indexes in visits.items():
        x, y = points[indexes[0]]
        numbers = ",".join(str(i + 1) for i in indexes)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colours[label]}" stroke="#fff" stroke-width="2"/>')
        parts.append(f'<text x="{x + 10:.1f}" y="{y + 4:.1f}" font-size="12" fill="#333">{numbers}</text>')
        times = ", ".join(f"{stops[i].start:%H:%M}" for i in indexes)
        parts.append(f'<circle cx="{width * 0.64:.1f}" cy="{legend_y - 4}" r="5" fill="{colours[label]}"/>'
                     f'<text x="{width * 0.64 + 10:.1f}" y="{legend_y}" font-size="12" fill="#333">{numbers}. {esc(label)} '
                     f'<tspan fill="#777">{times}</tspan></text>')  # fmt: skip
        legend_y += 18
    # Time strip: one block per stop from its start to its end (at least a few pixels wide).
    first, last = stops[0].start, max(s.end for s in stops)
    total = max((last - first).total_seconds(), 60.0)
    left, right, top = 12.0, width - 12.0, map_h + 14

    def at(moment: datetime) -> float:
        return left + (right - left) * (moment - first).total_seconds() / total

    parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="18" rx="4" fill="#e9ecef"/>')
    for s in stops:
        x0 = at(s.start)
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(at(s.end) - x0, 6):.1f}" height="18" rx="3" fill="{colours[s.label]}">'
                     f'<title>{esc(s.label)} {span(s.start, s.end)}</title></rect>')  # fmt: skip
    hour = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    step = max(1, math.ceil(total / 3600 / 8))
    while hour < last:
        x = at(hour)
        parts.append(f'<line x1="{x:.1f}" y1="{top + 20}" x2="{x:.1f}" y2="{top + 26}" stroke="#999"/>'
                     f'<text x="{x:.1f}" y="{top + 40}" font-size="11" fill="#666" text-anchor="middle">{hour:%H:%M}</text>')  # fmt: skip
        hour += timedelta(hours=step)
    parts.append(f'<text x="{left}" y="{top + 52}" font-size="11" fill="#666">{first:%H:%M}</text>')
    parts.append(f'<text x="{right}" y="{top + 52}" font-size="11" fill="#666" text-anchor="end">{last:%H:%M}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class EventDetail:
    title: str  # Markdown
    frames: list[tuple[str, str]]  # (file, caption) for a gallery
    transcript: str  # Markdown
    seen: str  # Markdown: text read in view, caption and tags


def event_detail(event: Event, tz: tzinfo, thumbnails_dir: Path, recording_start: datetime | None = None) -> EventDetail:
    start, end = event.start.astimezone(tz), event.end.astimezone(tz)
    who = people_text(event.people)
    place = event.place.label if event.place else "unknown place"
    title = f"### {start:%a %d %b %Y} · {span(start, end)} · {md_escape(place)}" + (f" · with {md_escape(who)}" if who else "")
    frames = []
    for n, relative in enumerate(event.keyframes, 1):
        path = keyframe_path(thumbnails_dir, relative)
        if path is not None:
            frames.append((str(path), _frame_caption(relative, recording_start, tz, n, len(event.keyframes))))
    seen = []
    if event.visible_text:
        seen.append("**Text in view:** " + " · ".join(md_escape(t) for t in event.visible_text))
    if event.tags:
        seen.append("**Scene:** " + ", ".join(md_escape(t) for t in event.tags))
    if event.caption:
        seen.append(f"*{md_escape(event.caption)}*")
    return EventDetail(title, frames, transcript_markdown(event.quotes, tz), "\n\n".join(seen) or "No text in view.")


def transcript_markdown(quotes: Sequence[Quote], tz: tzinfo) -> str:
    """One line per utterance: time, speaker and words."""
    lines = [
        f"- **{q.start.astimezone(tz):%H:%M:%S}** {md_escape(speaker_text(q.speaker))}: \u201c{md_escape(q.text.strip())}\u201d"
        for q in sorted(quotes, key=lambda q: q.start) if q.text.strip()
    ]  # fmt: skip
    return "\n".join(lines) if lines else "Nothing was said."


def _frame_caption(relative: str, recording_start: datetime | None, tz: tzinfo, n: int, total: int) -> str:
    """The frame's wall-clock time when the file name carries its offset (ms), else its number."""
    stem = Path(relative).stem
    if recording_start is not None and stem.isdigit():
        return f"{(recording_start + timedelta(milliseconds=int(stem))).astimezone(tz):%H:%M:%S}"
    return f"frame {n} of {total}"


# -- answers and search results ---------------------------------------------------------------------


def moment_caption(start: datetime, place: str | None, people: Sequence[str], tz: tzinfo) -> str:
    who = people_text(people)
    return f"{start.astimezone(tz):%a %d %b %H:%M} · {place or 'unknown place'}" + (f" · {who}" if who else "")


def evidence_items(evidence: Sequence[Evidence], tz: tzinfo, thumbnails_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Gallery items for the evidence that has a picture, and their event ids in the same order."""
    items, ids = [], []
    for ev in evidence:
        path = keyframe_path(thumbnails_dir, ev.keyframe)
        if path is not None:
            items.append((str(path), moment_caption(ev.start, ev.place, ev.people, tz)))
            ids.append(ev.event_id)
    return items, ids


def answer_markdown(answer: Answer, tz: tzinfo) -> str:
    """The reply in the chat: the answer, then the moments it rests on."""
    lines = [md_escape(answer.text)]
    if answer.note:  # e.g. the LLM reader failed and this is the rule-based answer
        lines += ["", f"*({md_escape(answer.note)})*"]
    if answer.evidence:
        lines.append("")
        lines.append("*From these moments (click a picture below to open it):*")
        for ev in answer.evidence:
            quote_text = f" \u2014 \u201c{md_escape(shorten(ev.quote, 120))}\u201d" if ev.quote else ""
            lines.append(f"- {md_escape(moment_caption(ev.start, ev.place, ev.people, tz))}{quote_text}")
    return "\n".join(lines)


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    first: date | None = None  # inclusive, local days
    last: date | None = None
    place: str | None = None  # a named place, a place label, or "lat,lon"
    person: str | None = None  # a display name (or person-N)


def search_filter(q: SearchQuery, tz: tzinfo, named_places: dict[str, tuple[float, float, float]] | None = None) -> EventFilter:
    """The store filter for a search: local-day range, place (named place or position: by distance), person."""
    if q.first and q.last and q.first > q.last:
        raise EgomemError(f"the date range is backwards: {q.first} is after {q.last}")
    after = day_bounds(q.first, tz)[0] if q.first else None
    before = day_bounds(q.last, tz)[1] if q.last else None
    near, radius, place_name = None, PLACE_RADIUS_M, None
    place = (q.place or "").strip()
    if place:
        match = _LATLON.match(place)
        if place in (named_places or {}):
            lat, lon, radius = named_places[place]  # type: ignore[index]
            near = GeoPoint(lat, lon)
        elif match:
            near = GeoPoint(float(match.group(1)), float(match.group(2)))
        else:
            place_name = place
    person = (q.person or "").strip()
    return EventFilter(before=before, after=after, people=[person] if person else None, place_name=place_name, near=near, radius_m=radius)


def rank_hits(dense: Sequence[ScoredEvent], keyword: Sequence[ScoredEvent], limit: int) -> list[Event]:
    """Dense and keyword hits fused, best first; day summaries left out.

    A dense hit alone counts only when it is close to the query (`MIN_DENSE`, and `DENSE_SHARE` of
    the best one): nearest neighbours always exist, but most of them are not about the words asked.
    """
    best_dense = max((h.score for h in dense), default=0.0)
    floor = max(MIN_DENSE, DENSE_SHARE * best_dense)
    top = max((h.score for h in keyword), default=0.0) or 1.0
    scores: dict[str, float] = {}
    events: dict[str, Event] = {}
    for hit in keyword:
        events[hit.event.id] = hit.event
        scores[hit.event.id] = 0.5 * hit.score / top
    for hit in dense:
        if hit.event.id in events or hit.score >= floor:
            events[hit.event.id] = hit.event
            scores[hit.event.id] = scores.get(hit.event.id, 0.0) + max(hit.score, 0.0)
    ranked = sorted(events, key=lambda i: scores[i], reverse=True)
    return [events[i] for i in ranked if events[i].recording_id != DAY_SUMMARY_RECORDING][:limit]


def result_items(events: Sequence[Event], tz: tzinfo, thumbnails_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Gallery items for results with a picture, and their event ids; captions carry time, place, people, words."""
    items, ids = [], []
    for e in events:
        path = keyframe_path(thumbnails_dir, _first(e.keyframes))
        if path is None:
            continue
        words = shorten(e.transcript or " ".join(e.visible_text), 80)
        caption = moment_caption(e.start, e.place.label if e.place else None, e.people, tz) + (f" \u2014 {words}" if words else "")
        items.append((str(path), caption))
        ids.append(e.id)
    return items, ids


# -- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonCard:
    id: str
    name: str | None
    samples: int  # face samples stored
    moments: int  # events they appear in
    last_seen: datetime | None
    picture: Path | None  # a face crop, else a moment they were seen in

    @property
    def label(self) -> str:
        return self.name or f"unnamed ({self.id})"

    @property
    def caption(self) -> str:
        seen = f"{self.moments} moment{'s' * (self.moments != 1)}"
        last = f", last {self.last_seen:%d %b}" if self.last_seen else ""
        return f"{self.label} \u00b7 {seen}{last}"


def person_card(view: PersonView, tz: tzinfo, moment_picture: Path | None = None) -> PersonCard:
    """A card for `egomem.people.describe_people`'s view of one identity; its newest crop is its picture."""
    crops = [Path(c) for c in view.crops if Path(c).is_file()]
    last = view.last_seen.astimezone(tz) if view.last_seen else None
    name = view.marked_label if view.name or view.heard_name else None  # "Ines (heard, not confirmed)"
    return PersonCard(view.id, name, view.exemplars, view.events, last, crops[-1] if crops else moment_picture)


def person_choices(cards: Sequence[PersonCard]) -> list[tuple[str, str]]:
    return [(f"{c.label} ({c.id})" if c.name else c.label, c.id) for c in cards]


# -- uploads --------------------------------------------------------------------------------------


@dataclass
class UploadJob:
    id: str
    name: str  # the file name as dropped
    path: Path  # where it was saved
    status: str = "queued"  # queued | ingesting | ingested | skipped | failed
    done_s: float = 0.0
    total_s: float = 0.0
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("ingested", "skipped", "failed")

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return int(100 * min(self.done_s / self.total_s, 1.0)) if self.total_s > 0 else 0


def render_jobs(jobs: Sequence[UploadJob]) -> str:
    if not jobs:
        return '<p class="eg-empty">Nothing uploaded yet. Drop recordings above: video, audio or photos.</p>'
    rows = []
    for j in jobs:
        bar = f'<progress max="100" value="{j.percent}"></progress> {j.percent}%' if j.status != "failed" else ""
        rows.append(
            f'<tr class="eg-job eg-{esc(j.status)}"><td>{esc(j.name)}</td><td><b>{esc(j.status)}</b></td>'
            f"<td>{bar}</td><td>{esc(j.message)}</td></tr>"
        )
    return ('<table class="eg-jobs"><thead><tr><th>File</th><th>Status</th><th>Progress</th><th>Details</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


JOBS_CSS = """
.eg-jobs { width: 100%; border-collapse: collapse; }
.eg-jobs th, .eg-jobs td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--border-color-primary); }
.eg-failed td { color: #b00020; }
.eg-ingested b { color: #2e7d32; }
.eg-empty { color: var(--body-text-color-subdued); }
"""


def unique_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem-N.suffix` when taken; the name is reduced to its last part."""
    safe = Path(name).name.strip() or "upload"
    candidate = folder / safe
    stem, suffix = Path(safe).stem, Path(safe).suffix
    for n in itertools.count(1):
        if not candidate.exists():
            return candidate
        candidate = folder / f"{stem}-{n}{suffix}"
    raise AssertionError("unreachable")


def facts_markdown(items: Sequence[OpenItem]) -> str:
    """The day's facts under the summary: said that day, and plans for it said before; "" when none."""
    if not items:
        return ""
    marks = {"done": "\u2713 ", "cancelled": "\u2717 ", "superseded": "\u21bb "}
    rows = [
        f"- {marks.get(i.status.value, '')}{i.at:%H:%M} {md_escape(i.kind)}: \u201c{md_escape(i.text)}\u201d \u2014 {md_escape(i.by)}"
        + (f" \u00b7 {md_escape(i.note)}" if i.note else "")
        for i in items
    ]
    return "\n\n**Requests and plans**\n\n" + "\n".join(rows)


def _first(items: Sequence[str]) -> str | None:
    return items[0] if items else None


# == data access (under the lock) ====================================================================


@dataclass(frozen=True)
class DayPage:
    day: date | None
    days: list[date]  # every day with memories, newest first
    summary: str  # Markdown
    strip: str  # HTML (SVG)
    timeline: str  # HTML


class WebData:
    """Everything the UI reads or changes, each call under the service lock."""

    def __init__(self, rt: Runtime, lock: threading.Lock) -> None:

        self.rt = rt
        self.lock = lock
        self.tz = resolve_timezone(rt.settings.timezone)
        self.thumbnails = Path(rt.settings.thumbnails_dir).resolve()
        self.reasoner = rt.reasoner
        self._labels: tuple[int, list[str]] = (-1, [])  # (event count, place labels) cache

    # -- days -----------------------------------------------------------------------------------

    def days(self) -> list[date]:
        with self.lock:
            return self._days()

    def _days(self) -> list[date]:
        days = memory_days(self.rt.catalog.entries(), self.tz)
        if not days:
            last = self.rt.store.stats().get("last_start") if hasattr(self.rt.store, "stats") else None
            if last:
                days = [datetime.fromisoformat(str(last)).astimezone(self.tz).date()]
        return days

    def day_page(self, day: date | None, selected: str | None = None) -> DayPage:
        with self.lock:
            days = self._days()
            day = day or (days[0] if days else None)
            if day is None:
                return DayPage(None, [], "Nothing in memory yet. Upload recordings in the **Upload** tab.", "", render_timeline([]))
            events = day_events(self.rt.store, day, self.tz)
            facts = day_facts(self.rt.store, day, self.tz, events) if events else []
        if not events:
            return DayPage(day, days, f"### {long_date(day)}\nNo memories on this day.", "", render_timeline([]))
        built = build_summary(events, day, self.tz, facts=facts)
        head, _, rest = built.paragraph.partition(": ")
        return DayPage(
            day, days, f"### {md_escape(head)}\n{md_escape(rest)} *Times in {md_escape(_tz_name(self.tz))}.*" + facts_markdown(built.open_items),
            render_place_strip(place_stops(events, self.tz)), render_timeline(timeline_rows(events, self.tz, self.thumbnails), selected),
        )  # fmt: skip

    def event(self, event_id: str) -> Event | None:
        with self.lock:
            found = self.rt.store.get([event_id]) if event_id else []
        return found[0] if found else None

    def detail(self, event: Event) -> EventDetail:
        with self.lock:
            entry = self.rt.catalog.get(event.recording_id)
        start = None
        if entry is not None and entry.start:
            try:
                start = datetime.fromisoformat(entry.start)
            except ValueError:
                start = None
        return event_detail(event, self.tz, self.thumbnails, start)

    # -- ask and search -------------------------------------------------------------------------

    def ask(self, question: str, at: datetime | None) -> Answer:
        at = (at or datetime.now(self.tz)).astimezone(self.tz)
        with self.lock:
            return self.reasoner.ask(question, at)

    def search(self, q: SearchQuery, limit: int = SEARCH_LIMIT) -> list[Event]:
        with self.lock:
            flt = search_filter(q, self.tz, self._named_places())
            text = q.text.strip()
            if not text:
                found = [e for e in self.rt.store.events(flt) if e.recording_id != DAY_SUMMARY_RECORDING]
                return list(reversed(found))[:limit]  # newest first
            vector = self.rt.text_embedder.embed([text])[0].tolist()
            dense = self.rt.store.search_text(vector, flt, limit)
            keyword = self.rt.store.search_keywords(text, flt, limit)
        return rank_hits(dense, keyword, limit)

    def _named_places(self) -> dict[str, tuple[float, float, float]]:
        return {p.name: (p.lat, p.lon, p.radius_m) for p in self.rt.places.places}

    def place_choices(self) -> list[str]:
        """Named places, then every place label in memory (cached until the event count changes)."""
        with self.lock:
            named = list(self._named_places())
            count = self.rt.store.count()
            if self._labels[0] != count:
                labels = {e.place.label for e in self.rt.store.events() if e.place is not None}
                self._labels = (count, sorted(labels))
            labels = self._labels[1]
        return named + [label for label in labels if label not in named]

    # -- people ---------------------------------------------------------------------------------

    def person_names(self) -> list[str]:
        """What events call each person (a name, or person-N for the unnamed), for the search filter."""
        with self.lock:
            return [i.display_name or i.id for i in self.rt.identities.identities() if not i.voice_only]

    def people(self) -> list[PersonCard]:
        with self.lock:
            return self._people()

    def _people(self) -> list[PersonCard]:
        from egomem.people import describe_people

        cards = []
        for view in describe_people(self.rt):
            picture = None
            if not any(Path(c).is_file() for c in view.crops) and view.events:
                seen = self.rt.store.events(EventFilter(people=[view.label]), limit=1)
                picture = keyframe_path(self.thumbnails, _first(seen[0].keyframes)) if seen else None
            cards.append(person_card(view, self.tz, picture))
        return cards

    def name_person(self, identity_id: str, name: str) -> str:
        from egomem.people import name_identity

        with self.lock:
            changed = name_identity(self.rt, identity_id, name)
        return f"{identity_id} is now called {name.strip()} ({_moments(changed)} relabelled)."

    def merge_people(self, source_id: str, into_id: str) -> str:
        from egomem.people import merge_identities

        with self.lock:
            changed = merge_identities(self.rt, source_id, into_id)
        return f"{source_id} and {into_id} are now one person, {into_id} ({_moments(changed)} relabelled)."

    def forget_person(self, identity_id: str) -> str:
        from egomem.people import forget_identity

        with self.lock:
            changed = forget_identity(self.rt, identity_id)
        return f"{identity_id} is forgotten: face samples deleted, taken out of {_moments(changed)}."


def _moments(n: int) -> str:
    return f"{n} moment{'s' * (n != 1)}"


def _tz_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(datetime.now(tz).tzname())


# == background ingest ================================================================================


class _JobProgress:
    def __init__(self, job: UploadJob, total: float) -> None:
        self.job = job
        job.total_s, job.done_s = max(total, 0.0), 0.0

    def update(self, seconds: float) -> None:
        self.job.done_s += max(seconds, 0.0)

    def close(self) -> None:
        self.job.done_s = self.job.total_s


class UploadQueue:
    """Saves dropped files under HOME/uploads-web and ingests them one at a time in a thread.

    Each recording is ingested under the service lock, so questions wait for it (the store is
    single-user) but are never answered from a half-written recording.
    """

    def __init__(self, rt: Runtime, lock: threading.Lock, ingest: Callable[[Path, Callable], Any] | None = None) -> None:
        self.rt = rt
        self.lock = lock
        self.folder = Path(rt.settings.home) / UPLOADS_FOLDER
        self._ingest = ingest or self._ingest_with_pipeline
        self._jobs: list[UploadJob] = []
        self._jobs_lock = threading.Lock()
        self._queue: queue.Queue[UploadJob] = queue.Queue()
        self._worker: threading.Thread | None = None

    def submit(self, files: Sequence[str | Path]) -> list[UploadJob]:
        self.folder.mkdir(parents=True, exist_ok=True)
        added = []
        for raw in files:
            source = Path(raw)
            job = UploadJob(uuid.uuid4().hex[:12], _original_name(source), source)
            try:
                target = unique_path(self.folder, job.name)
                shutil.copyfile(source, target)
                job.path = target
            except OSError as exc:
                job.status, job.message = "failed", f"could not save the upload: {exc.strerror or exc}"
            with self._jobs_lock:
                self._jobs.append(job)
            if not job.finished:
                self._queue.put(job)
            added.append(job)
        self._ensure_worker()
        return added

    def jobs(self) -> list[UploadJob]:
        with self._jobs_lock:
            return [replace(j) for j in self._jobs]

    def busy(self) -> bool:
        with self._jobs_lock:
            return any(not j.finished for j in self._jobs)

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="egomem-web-ingest", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=5.0)
            except queue.Empty:
                return  # idle: the next submit starts a new worker
            job.status, job.message = "ingesting", "perceiving\u2026"
            try:
                outcome, message = self._ingest(job.path, lambda name, total: _JobProgress(job, total))
                job.status, job.message = outcome, message
            except EgomemError as exc:
                job.status, job.message = "failed", str(exc)
            except Exception as exc:  # noqa: BLE001 - report any crash on this file and keep the queue going
                job.status, job.message = "failed", f"unexpected error: {exc.__class__.__name__}: {exc}"

    def _ingest_with_pipeline(self, path: Path, progress: Callable) -> tuple[str, str]:
        from pipelines.ingest import Ingestor

        with self.lock:
            results = Ingestor(self.rt, progress=progress).ingest([path])
        if not results:
            return "failed", "not a recording egomem can read (no video, audio or photo found)"
        result = results[0]
        return result.outcome.value, result.message


def _original_name(path: Path) -> str:
    return path.name


# == widgets: one function per tab ======================================================================


@dataclass
class DayView:
    """The Day tab's components; other tabs open a moment in it."""

    picker: gr.Dropdown
    summary: gr.Markdown
    strip: gr.HTML
    timeline: gr.HTML
    title: gr.Markdown
    frames: gr.Gallery
    transcript: gr.Markdown
    seen: gr.Markdown
    page_outputs: list[Any] = field(default_factory=list)
    detail_outputs: list[Any] = field(default_factory=list)


NO_DETAIL = "*Click a moment in the timeline to see its frames, what was said and the text in view.*"


def _day_values(web: WebData, day: date | None, selected: str | None = None) -> list[Any]:
    page = web.day_page(day, selected)
    choices = [(f"{d:%a} {long_date(d).split(' ', 1)[1]}", d.isoformat()) for d in page.days]
    return [gr.Dropdown(choices=choices, value=page.day.isoformat() if page.day else None), page.summary, page.strip, page.timeline]


def _detail_values(web: WebData, event_id: str | None) -> list[Any]:
    event = web.event(event_id) if event_id else None
    if event is None:
        return [NO_DETAIL if not event_id else "*That moment is no longer in memory.*", gr.Gallery(value=[], visible=False), "", ""]
    d = web.detail(event)
    return [d.title, gr.Gallery(value=d.frames, visible=bool(d.frames)),
            "#### What was said\n" + d.transcript, "#### What was in view\n" + d.seen]  # fmt: skip


def _open_event_values(web: WebData, event_id: str | None) -> list[Any]:
    """Everything the Day tab shows for the day of `event_id`, with that moment in detail."""
    event = web.event(event_id) if event_id else None
    day = event.start.astimezone(web.tz).date() if event else None
    return _day_values(web, day, event_id) + _detail_values(web, event_id)


def _day_tab(web: WebData) -> DayView:
    with gr.Row(equal_height=True):
        earlier = gr.Button("\u25c0 Earlier", scale=0, min_width=110)
        picker = gr.Dropdown(label="Day (days with memories, or type YYYY-MM-DD)", choices=[], allow_custom_value=True,
                             scale=3, elem_id="day-picker")  # fmt: skip
        later = gr.Button("Later \u25b6", scale=0, min_width=110)
        refresh = gr.Button("Refresh", scale=0, min_width=100)
    summary = gr.Markdown(elem_id="day-summary")
    strip = gr.HTML(elem_id="day-strip", js_on_load=None)
    with gr.Row():
        with gr.Column(scale=5):
            timeline = gr.HTML(elem_id="day-timeline", css_template=TIMELINE_CSS, js_on_load=TIMELINE_JS)
        with gr.Column(scale=4, elem_id="day-detail"):
            title = gr.Markdown(NO_DETAIL, elem_id="detail-title")
            frames = gr.Gallery(label="Frames", columns=2, height=240, preview=False, object_fit="contain",
                                fit_columns=False, visible=False, elem_id="detail-frames")  # fmt: skip
            transcript = gr.Markdown(elem_id="detail-transcript")
            seen = gr.Markdown(elem_id="detail-seen")
    view = DayView(picker, summary, strip, timeline, title, frames, transcript, seen)
    view.page_outputs = [picker, summary, strip, timeline]
    view.detail_outputs = [title, frames, transcript, seen]

    def show(value: str | None) -> list[Any]:
        try:
            day = parse_day(value)
        except EgomemError as exc:
            gr.Warning(str(exc))
            return [gr.skip()] * 4
        return _day_values(web, day)

    def step(value: str | None, direction: int) -> list[Any]:
        try:
            current = parse_day(value)
        except EgomemError:
            current = None
        return _day_values(web, neighbour_day(web.days(), current, direction))

    def pick(evt: gr.EventData) -> list[Any]:
        return _detail_values(web, getattr(evt, "_data", {}).get("event_id") if evt else None)

    picker.input(show, picker, view.page_outputs)
    refresh.click(show, picker, view.page_outputs)
    earlier.click(lambda v: step(v, -1), picker, view.page_outputs)
    later.click(lambda v: step(v, +1), picker, view.page_outputs)
    timeline.click(pick, None, view.detail_outputs)
    return view


def _ask_tab(web: WebData, day: DayView, tabs: gr.Tabs) -> None:
    chat = gr.Chatbot(label="Ask about your life", height=380, elem_id="ask-chat", buttons=["copy"])
    with gr.Row(equal_height=True):
        question = gr.Textbox(placeholder="e.g. Who asked me to buy ice cream?", show_label=False, scale=5, elem_id="ask-question")
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-send")
    with gr.Accordion("Options", open=False):
        as_of = gr.Textbox(label="Ask as of", placeholder="blank: now; or e.g. 2026-03-03T21:30 (only what was recorded before counts)",
                           elem_id="ask-as-of")  # fmt: skip
    evidence = gr.Gallery(label="Evidence: click a moment to open it in the Day tab", columns=5, height=230,
                          allow_preview=False, object_fit="cover", fit_columns=False, elem_id="ask-evidence")  # fmt: skip
    evidence_ids = gr.State([])

    def ask(text: str, when: str, history: list) -> tuple[Any, ...]:
        history = list(history or [])
        text = (text or "").strip()
        if not text:
            return history, gr.skip(), gr.skip(), gr.skip()
        try:
            answer = web.ask(text, parse_moment(when, web.tz))
        except EgomemError as exc:
            return history + [_msg("user", text), _msg("assistant", f"Sorry, I could not answer: {exc}")], "", [], []
        items, ids = evidence_items(answer.evidence, web.tz, web.thumbnails)
        return history + [_msg("user", text), _msg("assistant", answer_markdown(answer, web.tz))], "", items, ids

    def open_evidence(ids: list[str], evt: gr.SelectData) -> list[Any]:
        event_id = ids[evt.index] if ids and evt.index is not None and evt.index < len(ids) else None
        return [gr.Tabs(selected="day")] + _open_event_values(web, event_id)

    question.submit(ask, [question, as_of, chat], [chat, question, evidence, evidence_ids])
    send.click(ask, [question, as_of, chat], [chat, question, evidence, evidence_ids])
    evidence.select(open_evidence, evidence_ids, [tabs] + day.page_outputs + day.detail_outputs)


def _search_tab(web: WebData, day: DayView, tabs: gr.Tabs) -> tuple[gr.Dropdown, gr.Dropdown]:
    with gr.Row(equal_height=True):
        text = gr.Textbox(label="Search", placeholder="words said or seen, e.g. cereal, main office", scale=4, elem_id="search-text")
        go = gr.Button("Search", variant="primary", scale=1, elem_id="search-go")
    with gr.Row():
        first = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="any time", elem_id="search-from")
        last = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="any time", elem_id="search-to")
        place = gr.Dropdown(label="Place", choices=[], allow_custom_value=True, value=None, elem_id="search-place",
                            info="A named place, a place from memory, or lat,lon")  # fmt: skip
        person = gr.Dropdown(label="Person", choices=[], allow_custom_value=True, value=None, elem_id="search-person")
    status = gr.Markdown(elem_id="search-status")
    results = gr.Gallery(label="Results: click one to open it in the Day tab", columns=4, height=460,
                         allow_preview=False, object_fit="cover", fit_columns=False, elem_id="search-results")  # fmt: skip
    result_ids = gr.State([])

    def search(q: str, a: str, b: str, where: str | None, who: str | None) -> tuple[Any, ...]:
        try:
            query = SearchQuery(q or "", parse_day(a), parse_day(b), where or None, who or None)
            found = web.search(query)
        except EgomemError as exc:
            return f"**Cannot search:** {md_escape(str(exc))}", [], []
        items, ids = result_items(found, web.tz, web.thumbnails)
        missing = len(found) - len(items)
        note = f" ({missing} without a picture not shown)" if missing else ""
        head = f"{len(items)} moment{'s' * (len(items) != 1)} found{note}." if found else "Nothing found. Try fewer words or wider filters."
        return head, items, ids

    def open_result(ids: list[str], evt: gr.SelectData) -> list[Any]:
        event_id = ids[evt.index] if ids and evt.index is not None and evt.index < len(ids) else None
        return [gr.Tabs(selected="day")] + _open_event_values(web, event_id)

    inputs = [text, first, last, place, person]
    go.click(search, inputs, [status, results, result_ids])
    text.submit(search, inputs, [status, results, result_ids])
    results.select(open_result, result_ids, [tabs] + day.page_outputs + day.detail_outputs)
    return place, person


def _people_tab(web: WebData, day: DayView, search_person: gr.Dropdown) -> tuple[Callable[[], list[Any]], list[Any]]:
    """The people grid and its actions; returns (listing function, its outputs) for loading the tab."""
    gallery = gr.Gallery(label="People: click a face to pick them", columns=6, height=300, allow_preview=False,
                         object_fit="cover", fit_columns=False, elem_id="people-gallery")  # fmt: skip
    ids = gr.State([])
    with gr.Row(equal_height=True):
        who = gr.Dropdown(label="Person", choices=[], elem_id="people-who", scale=2)
        name = gr.Textbox(label="Name", placeholder="e.g. Sam Lee", elem_id="people-name", scale=2)
        rename = gr.Button("Name / rename", variant="primary", elem_id="people-rename", scale=1)
    with gr.Row(equal_height=True):
        into = gr.Dropdown(label="Merge the person above into", choices=[], elem_id="people-into", scale=4)
        merge = gr.Button("Merge", elem_id="people-merge", scale=1)
    forget = gr.Button("Forget this person\u2026", variant="stop", elem_id="people-forget")
    with gr.Row(visible=False, elem_id="people-confirm") as confirm:
        confirm_text = gr.Markdown()
        yes = gr.Button("Yes, forget them", variant="stop", elem_id="people-forget-yes")
        no = gr.Button("Cancel", elem_id="people-forget-no")
    status = gr.Markdown(elem_id="people-status")

    listing_outputs = [gallery, ids, who, into, search_person, status]
    act_outputs = listing_outputs + [confirm] + day.page_outputs

    def listing(selected: str | None = None, message: str | None = None) -> list[Any]:
        cards = web.people()
        pictured = [c for c in cards if c.picture is not None]
        unpictured = [c.label for c in cards if c.picture is None]
        choices = person_choices(cards)
        keep = selected if selected in {c.id for c in cards} else None
        note = f"Also known, with no picture: {', '.join(unpictured)}." if unpictured else ""
        return [
            [(str(c.picture), c.caption) for c in pictured], [c.id for c in pictured],
            gr.Dropdown(choices=choices, value=keep), gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=web.person_names()), "\n\n".join(m for m in (message, note) if m),
        ]  # fmt: skip

    def outcome(message: str, listing_values: list[Any] | None = None, day_values: list[Any] | None = None) -> list[Any]:
        values = listing_values or [gr.skip()] * (len(listing_outputs) - 1) + [message]
        return values + [gr.Row(visible=False)] + (day_values or [gr.skip()] * len(day.page_outputs))

    def act(action: Callable[[], str], selected: str | None, current_day: str | None) -> list[Any]:
        try:
            message = action()
        except (EgomemError, ValueError, KeyError) as exc:
            return outcome(f"**Not done:** {md_escape(str(exc))}")
        try:
            day_values = _day_values(web, parse_day(current_day))  # the Day tab shows the new names at once
        except EgomemError:
            day_values = None
        return outcome(message, listing(selected, md_escape(message)), day_values)

    def do_rename(selected: str | None, new_name: str, current_day: str | None) -> list[Any]:
        if not selected or not (new_name or "").strip():
            return outcome("Pick a person and type a name.")
        return act(lambda: web.name_person(selected, new_name.strip()), selected, current_day)

    def do_merge(selected: str | None, target: str | None, current_day: str | None) -> list[Any]:
        if not selected or not target or selected == target:
            return outcome("Pick two different people to merge.")
        return act(lambda: web.merge_people(selected, target), target, current_day)

    def do_forget(selected: str | None, current_day: str | None) -> list[Any]:
        if not selected:
            return outcome("Pick a person first.")
        return act(lambda: web.forget_person(selected), None, current_day)

    def ask_forget(selected: str | None) -> tuple[Any, Any]:
        if not selected:
            return gr.Row(visible=False), "Pick a person first."
        return gr.Row(visible=True), (f"**Forget {md_escape(selected)}?** Their face samples are deleted "
                                      "and they are taken out of every memory.")  # fmt: skip

    def choose(shown: list[str], evt: gr.SelectData) -> Any:
        return shown[evt.index] if shown and evt.index is not None and evt.index < len(shown) else gr.skip()

    gallery.select(choose, ids, who)
    rename.click(do_rename, [who, name, day.picker], act_outputs)
    name.submit(do_rename, [who, name, day.picker], act_outputs)
    merge.click(do_merge, [who, into, day.picker], act_outputs)
    forget.click(ask_forget, who, [confirm, confirm_text])
    no.click(lambda: gr.Row(visible=False), None, confirm)
    yes.click(do_forget, [who, day.picker], act_outputs)
    return lambda: listing(None), listing_outputs


def _upload_tab(uploads: UploadQueue) -> None:
    gr.Markdown("Drop video, audio or photo files. Each is saved in your egomem folder and ingested in turn; "
                "questions wait while a recording is being written to memory.")  # fmt: skip
    files = gr.File(label="Recordings", file_count="multiple", elem_id="upload-files")
    jobs = gr.HTML(render_jobs([]), css_template=JOBS_CSS, elem_id="upload-jobs")
    timer = gr.Timer(1.0, active=False)

    def submit(paths: list[str] | None) -> tuple[Any, ...]:
        if not paths:
            return gr.skip(), gr.skip(), gr.skip()
        uploads.submit(paths)
        return None, render_jobs(uploads.jobs()), gr.Timer(active=True)

    def poll() -> tuple[Any, ...]:
        busy = uploads.busy()
        return render_jobs(uploads.jobs()), gr.Timer(active=busy)

    files.upload(submit, files, [files, jobs, timer])
    timer.tick(poll, None, [jobs, timer])


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def build_ui(rt: Runtime, lock: threading.Lock) -> gr.Blocks:
    """The whole UI. Nothing is read from the store until a page loads."""
    web = WebData(rt, lock)
    uploads = UploadQueue(rt, lock)
    with gr.Blocks(title="egomem", fill_width=False) as ui:
        gr.Markdown("## egomem \u2014 your memory", elem_id="eg-title")
        with gr.Tabs(selected="day", elem_id="eg-tabs") as tabs:
            with gr.Tab("Day", id="day", elem_id="tab-day"):
                day = _day_tab(web)
            with gr.Tab("Ask", id="ask", elem_id="tab-ask"):
                _ask_tab(web, day, tabs)
            with gr.Tab("Search", id="search", elem_id="tab-search") as search_tab:
                place, person = _search_tab(web, day, tabs)
            with gr.Tab("People", id="people", elem_id="tab-people") as people_tab:
                people_listing, people_outputs = _people_tab(web, day, person)
            with gr.Tab("Upload", id="upload", elem_id="tab-upload"):
                _upload_tab(uploads)

        ui.load(lambda: _day_values(web, None), None, day.page_outputs)
        search_tab.select(lambda: (gr.Dropdown(choices=web.place_choices()), gr.Dropdown(choices=web.person_names())), None, [place, person])
        people_tab.select(people_listing, None, people_outputs)
    return ui


def served_folders(settings: Any) -> list[Path]:
    """The folders whose pictures the UI shows: keyframes, and the face crops of people."""
    from egomem.store.identities import CROPS_DIR

    home = Path(settings.home).resolve()
    return [Path(settings.thumbnails_dir).resolve(), home / "identities" / CROPS_DIR]


def mount_ui(app: FastAPI, rt: Runtime, lock: threading.Lock, path: str = "/") -> FastAPI:
    """Mount the UI on `app` at `path`, behind Gradio's login when `EGOMEM_AUTH` (settings.auth) is set.

    Mount it after the JSON API's routes: a UI at "/" would otherwise shadow them.
    """
    from app.auth import gradio_auth, resolve_auth

    credentials = resolve_auth(rt.settings)
    folders = served_folders(rt.settings)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return gr.mount_gradio_app(
        app,
        build_ui(rt, lock),
        path=path,
        auth=gradio_auth(credentials) if credentials else None,
        auth_message="egomem: sign in with the user and password of EGOMEM_AUTH." if credentials else None,
        allowed_paths=[str(f) for f in folders],
        max_file_size=getattr(rt.settings, "upload_max_bytes", None),
        footer_links=[],
        run_history=False,
        show_error=True,
        ssr_mode=False,
        theme=gr.themes.Soft(),
    )
