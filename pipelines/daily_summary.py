"""The daily summary: one day of memories as Markdown, self-contained HTML and a day-level event.

`egomem summarize-day [--date D]` writes `HOME/summaries/D.md` and `D.html` (where you went, who you
saw, what you did and heard, the requests, plans and other facts heard that day) and upserts one summary event
for the day, so questions about a whole day have a point to land on.

Idempotence: the files are replaced atomically (temp file + rename) and the summary event has a
deterministic id (uuid5 of `SUMMARY_NAMESPACE` and "day-summary/D"), so re-running replaces both.
The summary event (recording_id "day-summary") is left out when a day is summarised.

Running beside `egomem serve`: the service holds the store's exclusive lock, so the job first asks
`GET /healthz`; when a service answers it POSTs `/v1/summaries/D` and the service does the work
under its own request lock (see `create_summary_router`). Only when no service answers does the job
open the store itself, and a store locked by some other process is an error to retry, never a wait.

Contract of `POST /v1/summaries/{YYYY-MM-DD}`:
  request body (optional JSON): {"home": str | null, "timezone": str | null}
    home: the memory the caller means; a service serving another home answers 409, so the caller
          can open its own store instead. timezone: IANA name or "local"; default the service's.
  200: {"date", "timezone", "home", "markdown", "html", "event_id", "events"}  (paths are absolute)
  404: {"detail": "no memories on YYYY-MM-DD"}    409: another home    422: bad date or timezone
  500: {"detail": "..."} any other egomem error
"""

from __future__ import annotations

import argparse
import base64
import html
import http.client
import json
import os
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from egomem.config import Settings
from egomem.errors import ConfigError, EgomemError, StoreLocked
from egomem.files import write_atomic
from egomem.memory.events import DAY_SUMMARY_RECORDING, Event
from egomem.memory.facts import Fact, FactKind, FactStatus, extract_facts
from egomem.store.base import EventFilter, EventStore, FactFilter

if TYPE_CHECKING:
    from fastapi import APIRouter

    from egomem.runtime import Models, Runtime

SUMMARY_RECORDING = DAY_SUMMARY_RECORDING  # recording_id and tag of the day-level events
SUMMARY_NAMESPACE = uuid.UUID("5d1c0f0e-8a3b-5e7c-9f42-6b0d2a9e7c31")
WEARER_NAMES = frozenset({"me", "wearer", "self"})  # speaker ids that mean the person wearing the device
UNNAMED = re.compile(r"^person-\d+$")  # identities nobody has named yet
MIN_HEARD_WORDS = 4  # shorter quotes ("OK.", "Right, I will.") are not worth a line
MAX_HEARD = 40  # keeps a talkative day's page readable; the rest is counted
HTML_KEYFRAME_WIDTH = 320  # pixels; wider thumbnails are re-encoded before embedding
HEALTH_TIMEOUT_S = 1.0
SERVICE_TIMEOUT_S = 300.0  # the service may be busy answering a question before it gets to us

Embed = Callable[[str], Sequence[float]]


class NoMemories(EgomemError):
    """Nothing was recorded on the day asked for."""


# -- what a day holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A stay at one place: consecutive events there merged. Times are local."""

    place: str
    start: datetime
    end: datetime
    events: int


@dataclass(frozen=True)
class PersonSeen:
    name: str
    first: datetime  # local
    last: datetime
    events: int

    @property
    def unrecognised(self) -> bool:
        return bool(UNNAMED.match(self.name))

    @property
    def label(self) -> str:
        return person_label(self.name)


@dataclass(frozen=True)
class TimelineEntry:
    event_id: str
    start: datetime  # local
    end: datetime
    place: str
    people: tuple[str, ...]
    gist: str  # the caption, else what was said
    keyframe: str | None  # relative to the thumbnails dir


@dataclass(frozen=True)
class HeardQuote:
    at: datetime  # local
    text: str
    speaker: str | None
    place: str


@dataclass(frozen=True)
class OpenItem:
    """A fact heard or seen that day (a request, reminder, plan, promise, purchase...), with who it came from."""

    kind: str  # "request" | "reminder" | "promise" | "plan" | "appointment" | "purchase" | ... (see `fact_label`)
    text: str  # the evidence sentence
    at: datetime  # local
    speaker: str | None
    present: tuple[str, ...]
    by: str  # e.g. "asked by alice (present)"
    status: FactStatus = FactStatus.OPEN
    target: datetime | None = None  # local; when the plan or request is for
    said_before: bool = False  # planned for this day, said on an earlier one

    @property
    def note(self) -> str:
        """ "for Sat 7 Mar 10:00 · done": what the sentence alone does not say ("" when nothing)."""
        parts = []
        if self.target is not None:
            clock = "" if (self.target.hour, self.target.minute) == (0, 0) else f" {self.target:%H:%M}"
            parts.append(f"for {self.target:%a} {self.target.day} {self.target:%b}{clock}")
        if self.said_before:
            parts.append(f"said {self.at:%a} {self.at.day} {self.at:%b}")
        if self.status != FactStatus.OPEN:
            parts.append({FactStatus.SUPERSEDED: "changed later"}.get(self.status, self.status.value))
        return " \u00b7 ".join(parts)


@dataclass
class DaySummary:
    date: date
    timezone: str
    start: datetime  # first event's start, in its own offset (the summary event's span)
    end: datetime  # last event's end
    timeline: list[TimelineEntry]
    visits: list[Visit]
    people: list[PersonSeen]  # named people, by first seen
    unrecognised: list[PersonSeen]
    heard: list[HeardQuote]
    heard_left_out: int
    open_items: list[OpenItem]

    @property
    def paragraph(self) -> str:
        return summary_paragraph(self)


@dataclass(frozen=True)
class SummaryFiles:
    date: date
    markdown: Path
    html: Path
    event_id: str
    events: int


# -- requests and plans ---------------------------------------------------------------------------

# The facts themselves are extracted once, at ingest (egomem/memory/facts.py); here they are only worded.
_VERB = {"request": "asked by", "reminder": "reminded by", "plan": "proposed by", "appointment": "proposed by",
         "promise": "promised by", "commitment": "promised by"}  # fmt: skip
_MARK = {FactStatus.OPEN: " ", FactStatus.DONE: "x", FactStatus.CANCELLED: "-", FactStatus.SUPERSEDED: "~"}


def fact_label(fact: Fact) -> str:
    """What the summary calls a fact: its kind, or "reminder" for a request that was a reminder."""
    if fact.cue in ("done", "cancel"):
        return {"done": "done", "cancel": "cancellation"}[fact.cue]  # a report that closes an earlier fact
    return "reminder" if fact.kind == FactKind.REQUEST and fact.cue == "remind" else fact.kind.value


def attribute(kind: str, speaker: str | None, present: Sequence[str], wearer: frozenset[str] = WEARER_NAMES) -> str:
    """Who an item came from: the speaker when known, else the people in view at the time."""
    verb = _VERB.get(kind, "said by")
    if speaker:
        return f"{verb} {'you' if speaker in wearer else person_label(speaker)}"
    others = [person_label(p) for p in present if p not in wearer]
    if kind in ("promise", "commitment"):  # a first-person promise with no speaker is most often the wearer's own voice
        return f"{verb} you" + (f" or {_join(others, 'or')} (present)" if others else "")
    if others:
        return f"{verb} {_join(others, 'or')} (present)"
    return f"{verb} someone (speaker unknown)"


def person_label(name: str) -> str:
    return f"someone unrecognised ({name})" if UNNAMED.match(name) else name


# -- summarising ----------------------------------------------------------------------------------


def resolve_timezone(name: str) -> tzinfo:
    """An IANA zone, or for "local" the machine's zone (a fixed offset if it has no IANA name)."""
    if name and name != "local":
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown timezone {name!r}; use an IANA name like Europe/Paris, or local") from exc
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    link = Path("/etc/localtime")
    if link.is_symlink() and "zoneinfo/" in os.path.realpath(link):
        candidates.append(os.path.realpath(link).split("zoneinfo/", 1)[1])
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    # Exact except across a daylight-saving change; only on machines with no named zone at all.
    return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def timezone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(datetime.now(tz).tzname())


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, in UTC (the store refuses offsets with seconds)."""
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def yesterday(tz: tzinfo) -> date:
    return datetime.now(tz).date() - timedelta(days=1)


def day_events(store: EventStore, day: date, tz: tzinfo) -> list[Event]:
    """Events that started on `day` in `tz`, oldest first, without day summaries.

    `EventFilter.days` matches the event's own-offset date, which is not the configured zone's,
    so this asks for the local day's instants and keeps the events whose local start is that day.
    """
    start, end = day_bounds(day, tz)
    found = store.events(EventFilter(after=start, before=end))
    return [e for e in found if e.recording_id != SUMMARY_RECORDING and e.start.astimezone(tz).date() == day]


def day_facts(store: EventStore, day: date, tz: tzinfo, events: Sequence[Event]) -> list[Fact]:
    """Facts said on `day` and plans for it said earlier, from the store when it keeps facts.

    Events stored without their facts (by hand, or before facts were kept) have theirs read here,
    with the same extractor the ingest uses.
    """
    start, end = day_bounds(day, tz)
    found: dict[str, Fact] = {}
    if hasattr(store, "facts"):
        for flt in (FactFilter(said_after=start, said_before=end, include_superseded=True), FactFilter(target_after=start, target_before=end, include_superseded=True)):
            found.update((f.id, f) for f in store.facts(flt))
    covered = {f.event_id for f in found.values()}
    for e in events:
        if e.id not in covered:
            found.update((f.id, f) for f in extract_facts(e))
    return sorted(found.values(), key=lambda f: (f.said_at, f.id))


def summarize_day(store: EventStore, day: date, tz: tzinfo) -> DaySummary:
    events = day_events(store, day, tz)
    if not events:
        raise NoMemories(f"no memories on {day.isoformat()}")
    return build_summary(events, day, tz, facts=day_facts(store, day, tz, events))


def build_summary(
    events: Sequence[Event], day: date, tz: tzinfo, wearer: frozenset[str] = WEARER_NAMES, *, facts: Sequence[Fact] | None = None
) -> DaySummary:
    """The summary of a day's events (non-empty, any order); `facts` default to those read from the events."""
    ordered = sorted(events, key=lambda e: (e.start, e.end, e.id))
    people = _people_seen(ordered, tz, wearer)
    heard = _heard(ordered, tz)
    return DaySummary(
        date=day,
        timezone=timezone_name(tz),
        start=ordered[0].start,
        end=max(e.end for e in ordered),
        timeline=[_entry(e, tz) for e in ordered],
        visits=_visits(ordered, tz),
        people=[p for p in people if not p.unrecognised],
        unrecognised=[p for p in people if p.unrecognised],
        heard=heard[:MAX_HEARD],
        heard_left_out=max(0, len(heard) - MAX_HEARD),
        open_items=_open_items(facts if facts is not None else [f for e in ordered for f in extract_facts(e)], day, tz, wearer),
    )


def _visits(events: Sequence[Event], tz: tzinfo) -> list[Visit]:
    """Consecutive events at the same place become one visit; events with no place are skipped."""
    visits: list[Visit] = []
    for e in events:
        if e.place is None:
            continue
        label, start, end = e.place.label, e.start.astimezone(tz), e.end.astimezone(tz)
        if visits and visits[-1].place == label:
            last = visits[-1]
            visits[-1] = Visit(label, last.start, max(last.end, end), last.events + 1)
        else:
            visits.append(Visit(label, start, end, 1))
    return visits


def _people_seen(events: Sequence[Event], tz: tzinfo, wearer: frozenset[str]) -> list[PersonSeen]:
    seen: dict[str, PersonSeen] = {}
    for e in events:
        start, end = e.start.astimezone(tz), e.end.astimezone(tz)
        for name in dict.fromkeys(e.people):
            if name in wearer:
                continue
            was = seen.get(name)
            if was is None:
                seen[name] = PersonSeen(name, start, end, 1)
            else:
                seen[name] = PersonSeen(name, was.first, max(was.last, end), was.events + 1)
    return sorted(seen.values(), key=lambda p: (p.first, p.name))


def _entry(e: Event, tz: tzinfo) -> TimelineEntry:
    gist = e.caption.strip() or _shorten(e.transcript, 200) or _shorten("; ".join(e.visible_text), 200)
    return TimelineEntry(
        e.id, e.start.astimezone(tz), e.end.astimezone(tz), e.place.label if e.place else "unknown place",
        tuple(e.people), gist, e.keyframes[0] if e.keyframes else None,
    )  # fmt: skip


def _heard(events: Sequence[Event], tz: tzinfo) -> list[HeardQuote]:
    quotes: list[HeardQuote] = []
    said: set[str] = set()
    for e in events:
        for q in sorted(e.quotes, key=lambda q: q.start):
            text = " ".join(q.text.split())
            key = text.lower()
            if len(text.split()) < MIN_HEARD_WORDS or key in said:
                continue
            said.add(key)
            quotes.append(HeardQuote(q.start.astimezone(tz), text, q.speaker, e.place.label if e.place else "unknown place"))
    return sorted(quotes, key=lambda q: q.at)


def _open_items(facts: Sequence[Fact], day: date, tz: tzinfo, wearer: frozenset[str]) -> list[OpenItem]:
    items: list[OpenItem] = []
    for f in sorted(facts, key=lambda f: (f.said_at, f.id)):
        label = fact_label(f)
        by = "seen" if f.source == "seen" else attribute(label, f.speaker, f.people, wearer)
        at = f.said_at.astimezone(tz)
        target = f.target_start.astimezone(tz) if f.target_start else None
        items.append(OpenItem(label, f.text, at, f.speaker, tuple(f.people), by, f.status, target, at.date() < day))
    return items


def summary_paragraph(s: DaySummary) -> str:
    """One paragraph: the day-level event's caption and the opening of the page."""
    n = len(s.timeline)
    first, last = s.timeline[0].start, max(t.end for t in s.timeline)
    parts = [f"{long_date(s.date)}: {n} moment{'s' if n != 1 else ''} recorded from {first:%H:%M} to {last:%H:%M}."]
    places = list(dict.fromkeys(v.place for v in s.visits))
    if places:
        parts.append(f"Went to {_join(places)}.")
    seen = [p.name for p in s.people]
    if s.unrecognised:
        k = len(s.unrecognised)
        seen.append(f"{k} unrecognised {'person' if k == 1 else 'people'}")
    if seen:
        parts.append(f"Saw {_join(seen)}.")
    heard = [i for i in s.open_items if not i.said_before]
    if heard:
        shown = "; ".join(f"\u201c{i.text}\u201d ({i.by})" for i in heard[:4])
        more = f"; and {len(heard) - 4} more" if len(heard) > 4 else ""
        parts.append(f"Heard {_count_kinds(heard)}: {shown}{more}.")
    return " ".join(parts)


# -- rendering ------------------------------------------------------------------------------------


def render_markdown(summary: DaySummary, thumbnails_base: str | Path) -> str:
    """The page as Markdown; keyframes link to `thumbnails_base/<keyframe>` (relative or absolute)."""
    s, base = summary, str(thumbnails_base).rstrip("/")
    out = [f"# {long_date(s.date)}", "", f"*Times in {_md(s.timezone)}.*", "", _md(s.paragraph), ""]

    out += ["## Where you went", ""]
    out += [f"{i}. {_span(v.start, v.end)} **{_md(v.place)}**" for i, v in enumerate(s.visits, 1)] or ["No places recorded."]

    out += ["", "## Who you saw", ""]
    out += [f"- **{_md(p.label)}**: {_span(p.first, p.last)}, {_moments(p.events)}" for p in s.people]
    out += [f"- {_md(p.label)}: {_span(p.first, p.last)}, {_moments(p.events)}" for p in s.unrecognised]
    if not s.people and not s.unrecognised:
        out.append("Nobody recognised.")

    out += ["", "## Requests and plans", ""]
    out += [
        f"- [{_MARK[i.status]}] {i.at:%H:%M} {i.kind}: \u201c{_md(i.text)}\u201d \u2014 {_md(i.by)}{_note(i.note)}" for i in s.open_items
    ] or ["None heard."]

    out += ["", "## What you did", ""]
    for t in s.timeline:
        with_whom = f" \u00b7 with {_md(_people_text(t.people))}" if t.people else ""
        out += [f"### {_span(t.start, t.end)} \u00b7 {_md(t.place)}{with_whom}", ""]
        if t.gist:
            out += [_md(t.gist), ""]
        if t.keyframe:
            out += [f"![{_md(t.place)} at {t.start:%H:%M}]({url_quote(f'{base}/{t.keyframe}', safe='/:')})", ""]

    out += ["## What you heard", ""]
    for q in s.heard:
        who = f", {_md(person_label(q.speaker))}" if q.speaker else ""
        out.append(f"- {q.at:%H:%M} at {_md(q.place)}{who}: \u201c{_md(q.text)}\u201d")
    if s.heard_left_out:
        out.append(f"- \u2026and {s.heard_left_out} more")
    if not s.heard:
        out.append("Nothing transcribed.")
    return "\n".join(out).rstrip() + "\n"


def render_html(summary: DaySummary, thumbnails_dir: Path) -> str:
    """A self-contained page: keyframes are embedded as data URIs, every text is escaped."""
    s, e = summary, _html
    body = [f"<h1>{e(long_date(s.date))}</h1>", f"<p class=meta>Times in {e(s.timezone)}.</p>", f"<p>{e(s.paragraph)}</p>"]

    body.append("<h2>Where you went</h2>")
    rows = [f"{_span(v.start, v.end)} <b>{e(v.place)}</b>" for v in s.visits]
    body.append(_html_list(rows, "ol") or "<p>No places recorded.</p>")

    body.append("<h2>Who you saw</h2>")
    rows = [f"<b>{e(p.label)}</b>: {_span(p.first, p.last)}, {_moments(p.events)}" for p in s.people]
    rows += [f"{e(p.label)}: {_span(p.first, p.last)}, {_moments(p.events)}" for p in s.unrecognised]
    body.append(_html_list(rows) or "<p>Nobody recognised.</p>")

    body.append("<h2>Requests and plans</h2>")
    rows = [
        f"<input type=checkbox disabled{' checked' if i.status == FactStatus.DONE else ''}> {i.at:%H:%M} {e(i.kind)}: "
        f"\u201c{e(i.text)}\u201d \u2014 {e(i.by)}{_note(e(i.note))}"
        for i in s.open_items
    ]
    body.append(_html_list(rows, css="tasks") or "<p>None heard.</p>")

    body.append("<h2>What you did</h2>")
    for t in s.timeline:
        with_whom = f" \u00b7 with {e(_people_text(t.people))}" if t.people else ""
        image = _data_uri(thumbnails_dir, t.keyframe) if t.keyframe else None
        figure = f'<img src="{image}" alt="{e(t.place)} at {t.start:%H:%M}">' if image else ""
        title = f"{_span(t.start, t.end)} \u00b7 {e(t.place)}{with_whom}"
        body.append(f"<section><h3>{title}</h3>{figure}<p>{e(t.gist)}</p></section>")

    body.append("<h2>What you heard</h2>")
    rows = [
        f"{q.at:%H:%M} at {e(q.place)}" + (f", {e(person_label(q.speaker))}" if q.speaker else "") + f": \u201c{e(q.text)}\u201d"
        for q in s.heard
    ]
    if s.heard_left_out:
        rows.append(f"\u2026and {s.heard_left_out} more")
    body.append(_html_list(rows) or "<p>Nothing transcribed.</p>")

    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{e(long_date(s.date))}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem;margin-bottom:.3rem}"
    "section{overflow:hidden;margin-bottom:1rem}img{float:right;max-width:160px;margin:0 0 .5rem 1rem;border-radius:4px}"
    ".meta{color:#666}.tasks{list-style:none;padding-left:0}"
)


def _data_uri(thumbnails_dir: Path, keyframe: str) -> str | None:
    """The keyframe as a data URI, downscaled when wide; None when missing or outside the folder."""
    import cv2
    import numpy as np

    root = Path(thumbnails_dir).resolve()
    path = (root / keyframe).resolve()
    if root not in path.parents or not path.is_file():
        return None
    raw = path.read_bytes()
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    h, w = image.shape[:2]
    if w > HTML_KEYFRAME_WIDTH:
        small = cv2.resize(image, (HTML_KEYFRAME_WIDTH, max(1, round(h * HTML_KEYFRAME_WIDTH / w))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])
        if not ok:
            return None
        raw, mime = buf.tobytes(), "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _html_list(rows: Sequence[str], tag: str = "ul", css: str | None = None) -> str:
    if not rows:
        return ""
    cls = f" class={css}" if css else ""
    return f"<{tag}{cls}>" + "".join(f"<li>{r}</li>" for r in rows) + f"</{tag}>"


# Markdown syntax and raw HTML; "_" only at a word's edge, so names like alex_lacamoire stay readable
# (CommonMark never reads an intraword underscore as emphasis); "#" only where it would open a heading.
_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|^#")


def _note(text: str) -> str:
    return f" \u00b7 {text}" if text else ""


def _md(text: str) -> str:
    """Backslash-escape Markdown syntax and raw HTML, so a quote renders as the words said."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(text.split()))


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}\u2013{end:%H:%M}"


def _moments(n: int) -> str:
    return f"{n} moment{'s' if n != 1 else ''}"


def _people_text(people: Sequence[str]) -> str:
    return _join([person_label(p) for p in people])


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _join(items: Sequence[str], last: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _count_kinds(items: Sequence[OpenItem]) -> str:
    counts: dict[str, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return _join([f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()])


# -- writing --------------------------------------------------------------------------------------


def summary_event_id(day: date) -> str:
    return str(uuid.uuid5(SUMMARY_NAMESPACE, f"day-summary/{day.isoformat()}"))


def summary_event(summary: DaySummary, embed: Embed) -> Event:
    """The day-level point: same id for the same day, so re-running replaces it."""
    caption = summary.paragraph
    return Event(
        id=summary_event_id(summary.date),
        recording_id=SUMMARY_RECORDING,
        source=f"summaries/{summary.date.isoformat()}.md",
        start=summary.start,
        end=summary.end,
        place=None,
        caption=caption,
        tags=[SUMMARY_RECORDING],
        keyframes=[t.keyframe for t in summary.timeline if t.keyframe][:3],
        text_vector=[float(x) for x in embed(caption)],
    )


def write_day_summary(store: EventStore, embed: Embed, settings: Settings, day: date, tz: tzinfo) -> SummaryFiles:
    """Summarise `day` from an open store: write both pages, then upsert the day-level event."""
    summary = summarize_day(store, day, tz)
    folder = settings.home / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    markdown, page = folder / f"{day.isoformat()}.md", folder / f"{day.isoformat()}.html"
    write_atomic(markdown, render_markdown(summary, Path(os.path.relpath(settings.thumbnails_dir, folder)).as_posix()))
    write_atomic(page, render_html(summary, settings.thumbnails_dir))
    event = summary_event(summary, embed)
    store.upsert([event])
    return SummaryFiles(day, markdown, page, event.id, len(summary.timeline))


# -- the job --------------------------------------------------------------------------------------


def run_summarize_day(settings: Settings, day: date | None = None, *, models: Models | None = None) -> Path:
    """Summarise `day` (default: yesterday in the configured timezone); returns the Markdown path.

    Goes through a running service when one answers, else opens the store directly.
    """
    tz = resolve_timezone(settings.timezone)
    day = day or yesterday(tz)
    url = service_url(settings)
    if service_is_up(url, HEALTH_TIMEOUT_S):
        via_service = _summarize_via_service(url, settings, day)
        if via_service is not None:
            return via_service
    try:
        return _summarize_directly(settings, day, tz, models)
    except StoreLocked as exc:
        # A service that was starting (or too busy to answer in a second) may hold it now.
        if service_is_up(url, 5 * HEALTH_TIMEOUT_S):
            via_service = _summarize_via_service(url, settings, day)
            if via_service is not None:
                return via_service
        raise EgomemError(
            f"cannot summarise {day.isoformat()}: the event store is locked. {exc}. "
            f"No egomem service answered at {url} to do it instead; retry once that process has finished."
        ) from exc


def _summarize_directly(settings: Settings, day: date, tz: tzinfo, models: Models | None) -> Path:
    from egomem.store.edge import EdgeEventStore

    dims = _stored_dims(settings.store_dir)
    if dims is None:
        raise NoMemories(f"no memories on {day.isoformat()} (nothing has been ingested into {settings.home} yet)")
    if models is None:
        from egomem.runtime import Models as _Models

        models = _Models(settings)
    loaded = models

    def embed(text: str) -> Sequence[float]:  # loads the model only once there is something to embed
        return loaded.text_embedder.embed([text])[0].tolist()

    with EdgeEventStore(settings.store_dir, text_dim=dims[0], image_dim=dims[1]) as store:
        return write_day_summary(store, embed, settings, day, tz).markdown


def _stored_dims(store_dir: Path) -> tuple[int, int] | None:
    """The store's vector sizes, read from its config so opening it needs no CLIP model; None: no store."""
    try:
        vectors = json.loads((store_dir / "edge_config.json").read_text())["vectors"]
        return int(vectors["text"]["size"]), int(vectors["image"]["size"])
    except FileNotFoundError:
        return None if not any((store_dir / "segments").glob("*")) else (384, 512)
    except (OSError, ValueError, KeyError, TypeError):
        return 384, 512  # unreadable: let the store's own checks report it


def service_url(settings: Settings) -> str:
    host = settings.host or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # a wildcard bind is reached on loopback
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def service_is_up(url: str, timeout: float) -> bool:
    """True when an egomem service answers its health check."""
    try:
        status, payload = _http_json("GET", f"{url}/healthz", None, timeout)
    except (OSError, http.client.HTTPException):  # nothing listening, or something that is not HTTP
        return False
    return status == 200 and isinstance(payload, dict) and payload.get("ok") is True


def _summarize_via_service(url: str, settings: Settings, day: date) -> Path | None:
    """Ask the running service; None when it serves another memory (ours is then not held by it)."""
    from egomem.credentials import resolve_auth

    body = {"home": str(settings.home), "timezone": settings.timezone}
    login = resolve_auth(settings)  # the service and this job read the same configuration
    headers = {"Authorization": login.basic_header()} if login else {}
    try:
        status, payload = _http_json("POST", f"{url}/v1/summaries/{day.isoformat()}", body, SERVICE_TIMEOUT_S, headers)
    except (OSError, http.client.HTTPException) as exc:
        raise EgomemError(f"the egomem service at {url} stopped answering while summarising {day.isoformat()}: {exc}") from exc
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if status == 200 and isinstance(payload, dict) and "markdown" in payload:
        return Path(payload["markdown"])
    if status == 409:
        return None
    if status == 404 and isinstance(detail, str) and detail.startswith("no memories"):
        raise NoMemories(detail)
    if status in (404, 405):
        raise EgomemError(
            f"the egomem service at {url} holds the store but has no summaries endpoint; "
            "restart it with this version of egomem, or stop it and retry"
        )
    raise EgomemError(f"the egomem service at {url} could not summarise {day.isoformat()}: {detail or f'HTTP {status}'}")


def _http_json(
    method: str, url: str, body: dict[str, Any] | None, timeout: float, extra_headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, parsed JSON or None). Proxies are bypassed: the service is on this machine."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json", **(extra_headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, _parse_json(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _parse_json(exc.read())


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# -- the service side -----------------------------------------------------------------------------


class SummaryRequest(BaseModel):
    home: str | None = None
    timezone: str | None = None


class SummaryResponse(BaseModel):
    date: str
    timezone: str
    home: str
    markdown: str
    html: str
    event_id: str
    events: int


def create_summary_router(rt: Runtime, lock: threading.Lock | None = None) -> APIRouter:
    """`POST /v1/summaries/{date}` for the service. Pass the app's request lock: the shard and the
    models must be used by one request at a time."""
    from fastapi import APIRouter, HTTPException

    router = APIRouter()
    guard = lock or threading.Lock()

    def embed(text: str) -> Sequence[float]:
        return rt.text_embedder.embed([text])[0].tolist()

    @router.post("/v1/summaries/{day}", response_model=SummaryResponse)
    def summarize(day: str, body: SummaryRequest | None = None) -> SummaryResponse:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise HTTPException(422, f"not a date (YYYY-MM-DD): {day!r}") from None
        req = body or SummaryRequest()
        home = rt.settings.home
        if req.home and Path(req.home).expanduser().resolve() != Path(home).expanduser().resolve():
            raise HTTPException(409, f"this service serves the memory at {home}, not {req.home}")
        try:
            tz = resolve_timezone(req.timezone or rt.settings.timezone)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from None
        with guard:
            try:
                files = write_day_summary(rt.store, embed, rt.settings, when, tz)
            except NoMemories as exc:
                raise HTTPException(404, str(exc)) from None
            except EgomemError as exc:
                raise HTTPException(500, str(exc)) from None
        return SummaryResponse(
            date=when.isoformat(), timezone=timezone_name(tz), home=str(home), markdown=str(files.markdown),
            html=str(files.html), event_id=files.event_id, events=files.events,
        )  # fmt: skip

    return router


# -- the command line -----------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `summarize-day [--date YYYY-MM-DD]` to the `egomem` command line."""
    cmd = subparsers.add_parser(
        "summarize-day", help="write a day's summary (Markdown + HTML) into HOME/summaries and into memory"
    )
    cmd.add_argument("--date", type=_cli_date, metavar="YYYY-MM-DD", help="the day (default: yesterday in the configured timezone)")
    cmd.set_defaults(handler=_summarize_day_command)


def _cli_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def _summarize_day_command(rt: Runtime, args: argparse.Namespace) -> int:
    # rt.store is never touched here: the job decides whether the service or this process opens it.
    markdown = run_summarize_day(rt.settings, args.date, models=rt.models)
    print(f"wrote {markdown}")
    print(f"wrote {markdown.with_suffix('.html')}")
    return 0
