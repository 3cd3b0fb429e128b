"""What a question asks: its kind, its time constraint, the people and words it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Iterable

from egomem.reasoning.timeexpr import TimeConstraint, resolve


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
    tell remember remind again usually often many much""".split()
)


@dataclass(frozen=True)
class Question:
    text: str
    at: datetime
    kind: Kind
    time: TimeConstraint
    people: tuple[str, ...]  # known people the question names
    keywords: tuple[str, ...]  # content words left once question, time and people words are removed


def analyse(text: str, at: datetime, known_people: Iterable[str] = ()) -> Question:
    lowered = text.lower()
    time = resolve(text, at)
    people = tuple(name for name in known_people if _mentions(lowered, name))
    people_words = {w for name in people for w in _name_words(name)}
    time_words = {w for phrase in time.phrases for w in phrase.split()}
    keywords = tuple(
        w for w in tokens(lowered) if w not in STOPWORDS and w not in people_words and w not in time_words and not w.isdigit()
    )
    return Question(text, at, _kind(lowered), time, people, keywords)


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


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_\-]+", name.lower()) if w]


def _mentions(question: str, name: str) -> bool:
    words = _name_words(name)
    return bool(words) and any(re.search(rf"\b{re.escape(w)}\b", question) for w in words if len(w) > 2)
