"""What a question asks: its kind, its time constraint, the people and words it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Iterable

from egomem.reasoning.timeexpr import PARTS_OF_DAY, Order, TimeConstraint, resolve


class Kind(str, Enum):
    WHO = "who"
    WHERE = "where"
    WHEN = "when"
    COUNT = "count"
    WHAT = "what"


STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be been before being below between both but by can could
    did do does doing down during each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom whose why will with would you your yours yourself
    time times last first ago today yesterday tonight morning afternoon evening night week day days recently ever
    tell remember remind again usually often normally typically many much
    see saw seen meet met go went gone going come came happen happened happening get got i'm i've
    place places
    say said says ask asked asks told hear heard mention mentioned suggest suggested plan planned""".split()
)  # "which place" frames a question, and nobody says "I ask you": speech acts search through SPEECH_CUES


# Words a question uses for a speech act -> words the speaker most likely said.
SPEECH_CUES: dict[str, tuple[str, ...]] = {
    "remind": ("remember", "forget"),
    "reminded": ("remember", "forget"),
    "suggest": ("let's",),
    "suggested": ("let's",),
    "plan": ("let's",),
    "planned": ("let's",),
}


@dataclass(frozen=True)
class Question:
    text: str
    at: datetime
    kind: Kind
    time: TimeConstraint
    people: tuple[str, ...]  # known people the question names
    places: tuple[str, ...]  # place names the question puts the wearer at ("at City Gym", "at home")
    modality: str | None  # "seen" (labels, signs, things looked at) or "heard" (said, asked); None: either
    habit: bool  # "usually", "often": a pattern over many days, not one moment
    daily_hours: tuple[float, float] | None  # for habits, the part of every day asked about ("in the evening")
    keywords: tuple[str, ...]  # content words left once question, time and people words are removed
    said_place: bool = False  # "where did Bob suggest we meet?": a place named in speech, not where I was


def analyse(text: str, at: datetime, known_people: Iterable[str] = ()) -> Question:
    lowered = text.lower()
    time = resolve(_without_quotes(text), at)
    people = tuple(name for name in known_people if _mentions(lowered, name))
    people_words = {w for name in people for w in _name_words(name)}
    time_words = {w for phrase in time.phrases for w in phrase.split()}
    words = tokens(lowered)
    keywords = tuple(
        w for w in words if w not in STOPWORDS and w not in people_words and w not in time_words and not w.isdigit()
    )
    # Speech acts are reported in other words than were said: "remind me" was "remember to ...".
    keywords += tuple(dict.fromkeys(cue for w in words for cue in SPEECH_CUES.get(w, ()) if cue not in keywords))
    habit = bool(re.search(r"\b(usually|normally|typically|often|tend to|most days|every (day|morning|evening|week))\b", lowered))
    daily_hours = next((PARTS_OF_DAY[p] for p in sorted(PARTS_OF_DAY, key=len, reverse=True) if re.search(rf"\b{p}s?\b", lowered)), None)
    kind, modality = _kind(lowered), _modality(lowered)
    if habit:
        # "Where do I usually go in the evening?" means every evening, not this one.
        time = TimeConstraint(None, time.order, time.phrases)
    elif time.order is None and kind is Kind.WHEN and re.search(r"\b(get|got|arrived?|reach(ed)?) (to|at|in)\b", lowered):
        # "What time did I get to the gym?" asks for the start of the visit.
        time = TimeConstraint(time.window, Order.EARLIEST, time.phrases)
    said_place = kind is Kind.WHERE and modality == "heard" and not re.search(r"\bwhere (was|am|were|did|do) i\b", lowered)
    return Question(
        text, at, kind, time, people, _places(_without_quotes(text)), modality, habit, daily_hours if habit else None, keywords,
        said_place,
    )


def _modality(q: str) -> str | None:
    if re.search(r"\b(see|saw|seen|label|sign|read|written|look(ed)? at|notice(d)?|displayed|in view)\b", q):
        return "seen"
    if re.search(r"\b(say|said|ask(ed)?|tell|told|mention(ed)?|hear|heard|remind(ed)?|promise(d)?|plan(ned)?|suggest(ed)?|talk(ed)?)\b", q):
        return "heard"
    return None


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def _kind(q: str) -> Kind:
    if re.search(r"\bhow (many|often)\b|\bhow many times\b|\bnumber of times\b", q):
        return Kind.COUNT
    if re.search(r"\b(who|whom|whose)\b|\bwhich (person|people|friend)\b", q):
        return Kind.WHO
    if re.search(r"\bwhere\b|\bwhich (place|shop|store|room|city)\b|\bwhat place\b", q):
        return Kind.WHERE
    if re.search(r"\bwhen\b|\bwhat time\b|\bwhat day\b|\bwhich day\b", q):
        return Kind.WHEN
    return Kind.WHAT


def _without_quotes(text: str) -> str:
    """Words someone said ("let's meet on Saturday") name the content, not when to look."""
    text = re.sub(r'"[^"]*"|“[^”]*”', " ", text)
    return re.split(r"\b(?:said|say|says|saying)\s*:", text, maxsplit=1, flags=re.IGNORECASE)[0]


def _places(text: str) -> tuple[str, ...]:
    """Capitalised names after "at"/"in"/"to" ("at Fresh Market"), and home."""
    found = re.findall(r"\b(?:at|in|to)\s+(?:the\s+)?((?:[A-Z][\w'&-]*)(?:\s+[A-Z][\w'&-]*)*)", text)
    weekdays = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
    names = [n for n in found if n.split()[0] not in weekdays]
    if re.search(r"\b(at|from) home\b", text, re.IGNORECASE):
        names.append("home")
    return tuple(names)


def compact(text: str) -> str:
    """Lowercase letters and digits only: "FRESHMARKET" read by OCR equals "Fresh Market"."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_\-]+", name.lower()) if w]


def _mentions(question: str, name: str) -> bool:
    words = _name_words(name)
    return bool(words) and any(re.search(rf"\b{re.escape(w)}\b", question) for w in words if len(w) > 2)
