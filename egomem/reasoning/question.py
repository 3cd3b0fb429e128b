"""What a question asks: its kind, its time (of the fact, not of the asking), the people, places and
words it names, whether it is about what was seen or heard, and what lies ahead.

Understanding, not matching: every cue comes from `cues.py` and describes how people ask, so that
"where'd I leave the spare key?", "where did I put the spare key" and "the spare key: where is it?"
come out the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Iterable

from egomem.reasoning import cues
from egomem.timeexpr import PARTS_OF_DAY, Order, TimeConstraint, TimeWindow, parse_clock, resolve, resolve_ahead

MAX_QUESTION_CHARS = 1000  # a question longer than this is read from its start (a pasted page is not a question)
CLOCK_SLACK = timedelta(minutes=45)  # "at half past three" looks this far either side


class Kind(str, Enum):
    WHO = "who"
    WHERE = "where"
    WHEN = "when"
    COUNT = "count"
    HOW_MUCH = "how_much"
    YES_NO = "yes_no"
    WHAT = "what"


@dataclass(frozen=True)
class Sequence:
    """"Where did I go after the bank?": the moment wanted lies after (or before) the anchor's."""

    relation: str  # "after" or "before"
    anchor: str  # what the anchor moment is about ("the bank")


@dataclass(frozen=True)
class Question:
    text: str
    at: datetime
    kind: Kind
    time: TimeConstraint
    people: tuple[str, ...]  # known people the question names
    places: tuple[str, ...]  # place names the question puts the wearer at ("at City Gym", "the pool", "home")
    modality: str | None  # "seen" (labels, signs, things looked at) or "heard" (said, asked); None: either
    habit: bool  # "usually", "often", "most often": a pattern over many days, not one moment
    daily_hours: tuple[float, float] | None  # for habits, the part of every day asked about ("in the evening")
    keywords: tuple[str, ...]  # content words left once question, time and people words are removed
    said_place: bool = False  # "where did Bob suggest we meet?": a place named in speech, not where I was
    negated: bool = False  # "which of these did I NOT buy?"
    future: bool = False  # "when is the vet visit?": about a plan ahead of the asking moment
    target: TimeWindow | None = None  # for future questions, the time the plan is for ("on Saturday")
    clock: datetime | None = None  # "where was I at half past three?": the moment asked about
    sequence: Sequence | None = None
    fact_kinds: tuple[str, ...] = ()  # kinds of fact (memory/facts.py) the question is about
    most: bool = False  # "who do I see most often?": rank by occasions
    language_ok: bool = True  # False: not a language egomem reads

    @property
    def content(self) -> str:
        """The question's content words as text, for matching sentences and choices."""
        return " ".join(self.keywords)


def analyse(text: str, at: datetime, known_people: Iterable[str] = (), known_places: Iterable[str] = ()) -> Question:
    text = " ".join(text.split())[:MAX_QUESTION_CHARS]
    lowered = text.lower().replace("\u2019", "'")
    unquoted = _without_quotes(text)
    words = tokens(lowered)
    kind = _kind(lowered)
    modality = _modality(lowered)
    future = kind is not Kind.COUNT and cues.matches(cues.FUTURE, _without_quotes(lowered)) and not cues.matches(cues.PAST, lowered)
    time = resolve(unquoted, at) if not future else TimeConstraint(None, None, ())
    target = resolve_ahead(unquoted, at) if future else None
    people = tuple(name for name in known_people if _mentions(lowered, name))
    places = _places(unquoted, known_places)
    people_words = {w for name in people for w in _name_words(name)}
    time_words = {w for phrase in time.phrases for w in phrase.split()}
    if target is not None:
        time_words |= set(tokens(" ".join(re.findall(r"\b(?:on |next |this )?(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\btomorrow\b|\btonight\b", lowered))))
    keywords = tuple(
        w for w in words if w not in cues.STOPWORDS and w not in people_words and w not in time_words and not w.isdigit()
    )
    # Speech acts are reported in other words than were said: "remind me" was "remember to ...".
    keywords += tuple(dict.fromkeys(cue for w in words for cue in cues.SPEECH_CUES.get(w, ()) if cue not in keywords))
    habit = cues.matches(cues.HABIT, lowered)
    most = cues.matches(cues.MOST, lowered)
    daily_hours = next((PARTS_OF_DAY[p] for p in sorted(PARTS_OF_DAY, key=len, reverse=True) if re.search(rf"\b{p}s?\b", lowered)), None)
    if habit:
        # "Where do I usually go in the evening?" means every evening, not this one.
        time = TimeConstraint(None, time.order, time.phrases)
    elif time.order is None and kind is Kind.WHEN and re.search(r"\b(get|got|arrived?|reach(ed)?|make it) (to|at|in)\b", lowered):
        # "What time did I get to the gym?" asks for the start of the visit.
        time = TimeConstraint(time.window, Order.EARLIEST, time.phrases)
    if time.order is None and kind is not Kind.COUNT and cues.matches(cues.UPDATE, _without_quotes(lowered)):
        time = TimeConstraint(time.window, Order.LATEST, time.phrases)
    clock = _clock(unquoted, at, time) if kind in (Kind.WHERE, Kind.WHO, Kind.WHAT, Kind.YES_NO) and not future else None
    if clock is not None:
        time = TimeConstraint(TimeWindow(clock - CLOCK_SLACK, min(clock + CLOCK_SLACK, at)), None, time.phrases)
    said_place = kind is Kind.WHERE and (
        (modality == "heard" and not re.search(r"\bwhere (was|am|were|did|do|have) (i|we)\b|\bwhere (i|we) (was|were|am|went)\b", lowered))
        or bool(re.search(r"\bwhere (is|are|was|were|does|did|do) (?!i\b)\w+(?: \w+)? (from|come from|live|grow up|grew up|born)\b", lowered))
    )
    fact_kinds = tuple(name for name, pattern in cues.FACT_CUES.items() if cues.matches(pattern, lowered))
    # "Where'd I leave the key?": where a thing was put, said aloud, not where I was.
    said_place = said_place or (kind is Kind.WHERE and "placement" in fact_kinds and not re.search(r"\bwhere (was|were) (i|we)\b", lowered))
    negated = bool(re.search(r"\b(which|what|who)\b", lowered)) and cues.matches(cues.NEGATION, _without_quotes(lowered))
    hints = sum(1 for w in words if w in cues.ENGLISH_HINTS)
    foreign_letters = bool(re.search(r"[^\x00-\x7f\u2018-\u201d]", text))
    foreign = sum(1 for w in re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)?", lowered) if w in cues.FOREIGN_HINTS)
    language_ok = foreign < 2 + hints and not (foreign_letters and hints < 2)
    return Question(
        text, at, kind, time, people, places, modality, habit or most, daily_hours if habit else None, keywords,
        said_place, negated, future, target, clock, _sequence(lowered), fact_kinds, most, language_ok,
    )  # fmt: skip


def unbounded(q: Question) -> Question:
    """The question with its time words read as content: no window; a day it names may be a plan's target."""
    time_words = tuple(w for phrase in q.time.phrases for w in tokens(phrase) if w not in cues.STOPWORDS and w not in q.keywords)
    target = q.target or resolve_ahead(_without_quotes(q.text), q.at)
    return replace(q, time=TimeConstraint(None, q.time.order, ()), clock=None, keywords=q.keywords + time_words, target=target)


def _kind(q: str) -> Kind:
    for name, pattern in cues.KIND_PATTERNS:
        if re.search(pattern, q):
            return Kind(name)
    return Kind.WHAT


def _modality(q: str) -> str | None:
    if cues.matches(cues.SEEN, q):
        return "seen"
    if cues.matches(cues.HEARD, q):
        return "heard"
    return None


def _clock(text: str, at: datetime, time: TimeConstraint) -> datetime | None:
    """The moment "at half past three (yesterday)" names: on the question's day, else the latest such
    clock time before the asking moment."""
    if not re.search(cues.CLOCK_PREFIX + r"(\d|half|quarter|noon|midday|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)", text, re.I):
        return None
    found = parse_clock(re.sub(r"\b[\w-]+ (hundred|thousand)\b|[$€£]\s*\d+|\d+(\.\d+)? ?(dollars?|euros?|pounds?|bucks|percent)", " ", text, flags=re.I))
    if found is None:
        return None
    day = time.window.start.date() if time.window else at.date()
    moment = datetime.combine(day, datetime.min.time(), tzinfo=at.tzinfo).replace(hour=found[0], minute=found[1])
    if time.window is None and moment > at:
        moment -= timedelta(days=1)
    return moment


def _sequence(q: str) -> Sequence | None:
    m = re.search(cues.SEQUENCE, q)
    if m is None:
        return None
    anchor = m.group("anchor").strip()
    if not anchor or parse_clock(f"at {anchor}") is not None and len(anchor.split()) <= 3:
        return None  # "after 3 pm" is a time
    return Sequence(m.group("rel"), anchor)


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))


def _without_quotes(text: str) -> str:
    """Words someone said ("let's meet on Saturday") name the content, not when to look."""
    text = re.sub(r'"[^"]*"|“[^”]*”', " ", text)
    return re.split(r"\b(?:said|say|says|saying)\s*:", text, maxsplit=1, flags=re.IGNORECASE)[0]


def _places(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """Places the question puts the wearer at: known place names it mentions (by their distinctive
    words: "the pool" is "Swimming Pool"), capitalised names after "at"/"in"/"to", and home."""
    lowered = " ".join(tokens(text))
    found: list[str] = []
    named = [p for p in dict.fromkeys(known) if p]
    scored = []
    for place in named:
        words = [w for w in _name_words(place) if w not in cues.PLACE_GENERIC and len(w) > 2]
        hits = sum(1 for w in words if re.search(rf"\b{re.escape(w)}s?\b", lowered))
        if words and hits:
            scored.append((hits / len(words), place))
    if scored:
        top = max(s for s, _ in scored)
        found += [p for s, p in scored if s == top]
    else:  # only a generic word ("the cafe"): it names a place when exactly one known place has it
        generic = [p for p in named if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in _name_words(p) if w in cues.PLACE_GENERIC and len(w) > 3)]
        found += generic if len(generic) == 1 else []
    capitalised = re.findall(r"\b(?:at|in|to)\s+(?:the\s+)?((?:[A-Z][\w'&-]*)(?:\s+[A-Z][\w'&-]*)*)", text)
    weekdays = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "I"}
    found += [n for n in capitalised if n.split()[0] not in weekdays and not any(compact(n) == compact(f) for f in found)]
    if re.search(r"\b(at|from|got|get|went|go|left|leave|back) home\b", text, re.IGNORECASE) and not any(compact(f) == "home" for f in found):
        found.append("home")
    return tuple(found)


def compact(text: str) -> str:
    """Lowercase letters and digits only: "FRESHMARKET" read by OCR equals "Fresh Market"."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_\-']+", name.lower()) if w]


def _mentions(question: str, name: str) -> bool:
    words = _name_words(name)
    return bool(words) and any(re.search(rf"\b{re.escape(w)}\b", question) for w in words if len(w) > 2)
