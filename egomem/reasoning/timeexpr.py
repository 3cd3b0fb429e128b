"""Time expressions in questions, resolved against the moment the question is asked.

"yesterday afternoon", "this morning", "on Tuesday", "last week", "two days ago", "before lunch",
"on March 3", "2026-03-03", plus ordering words ("last time", "first time"). Everything resolves to
a half-open window [start, end) in the asker's UTC offset, never later than the asking time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "a": 1, "an": 1}

# Parts of the day as [start hour, end hour); hours past 24 run into the next morning.
PARTS_OF_DAY: dict[str, tuple[float, float]] = {
    "early morning": (4, 8),
    "morning": (5, 12),
    "breakfast": (6, 10.5),
    "noon": (11.5, 13.5),
    "midday": (11.5, 13.5),
    "lunch": (11.5, 14.5),
    "afternoon": (12, 18),
    "evening": (17, 23),
    "dinner": (18, 22),
    "tonight": (17, 24),
    "night": (20, 29),
}


class Order(str, Enum):
    LATEST = "latest"
    EARLIEST = "earliest"


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class TimeConstraint:
    window: TimeWindow | None  # None: any time before the question
    order: Order | None = None  # the latest or earliest matching moment is wanted
    phrases: tuple[str, ...] = field(default_factory=tuple)  # the words that set it, for explanations


def resolve(question: str, at: datetime) -> TimeConstraint:
    text = " " + re.sub(r"[^\w:\- ]+", " ", question.lower()) + " "
    phrases: list[str] = []
    order = _order(text, phrases)
    day = _day(text, at, phrases)
    part = _part_of_day(text, phrases)
    relation = _before_after(text)

    if day is None and part is None:
        window = _span_words(text, at, phrases)
        return TimeConstraint(_clip(window, at), order, tuple(phrases))
    base = day if day is not None else at.date()
    if part is None:
        start, end = _at(base, 0, at), _at(base, 24, at)
    else:
        start, end = _at(base, part[0], at), _at(base, part[1], at)
        if relation == "before":
            start, end = _at(base, 0, at), _at(base, part[0], at)
        elif relation == "after":
            start, end = _at(base, part[1], at), _at(base, 24, at)
    return TimeConstraint(_clip(TimeWindow(start, end), at), order, tuple(phrases))


def _order(text: str, phrases: list[str]) -> Order | None:
    for pattern, order in (
        (r" (last|latest|most recent(ly)?) time ", Order.LATEST),
        (r" most recent(ly)? ", Order.LATEST),
        (r" latest ", Order.LATEST),
        (r" last (saw|went|visited|met|talked|spoke|heard|did|had|was|were|go|see) ", Order.LATEST),
        (r" (was|were|did) (i|we) last ", Order.LATEST),  # "when was I last at home?"
        (r" first time ", Order.EARLIEST),
        (r" (first|earliest) ", Order.EARLIEST),
    ):
        m = re.search(pattern, text)
        if m:
            phrases.append(m.group(0).strip())
            return order
    return None


def _day(text: str, at: datetime, phrases: list[str]) -> date | None:
    today = at.date()
    if m := re.search(r" (today|this (morning|afternoon|evening)|tonight) ", text):
        phrases.append(m.group(1))
        return today
    if m := re.search(r" (yesterday|last night) ", text):
        phrases.append(m.group(1))
        return today - timedelta(days=1)
    if m := re.search(r" the day before yesterday ", text):
        phrases.append(m.group(0).strip())
        return today - timedelta(days=2)
    if m := re.search(r" (\d+|" + "|".join(NUMBER_WORDS) + r") days? ago ", text):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
        phrases.append(m.group(0).strip())
        return today - timedelta(days=n)
    if m := re.search(r" (\d{4})-(\d{2})-(\d{2}) ", text):
        phrases.append(m.group(0).strip())
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    month_names = "|".join(MONTHS)
    if m := re.search(rf" ({month_names}) (\d{{1,2}})(st|nd|rd|th)? ", text) or re.search(rf" (\d{{1,2}})(st|nd|rd|th)? (of )?({month_names}) ", text):
        groups = [g for g in m.groups() if g]
        month = next(MONTHS.index(g) + 1 for g in groups if g in MONTHS)
        day_n = int(next(g for g in groups if g.isdigit()))
        candidate = date(today.year, month, day_n)
        phrases.append(m.group(0).strip())
        return candidate if candidate <= today else date(today.year - 1, month, day_n)
    if m := re.search(r" (last |this |on )?(" + "|".join(WEEKDAYS) + r")s? ", text):
        weekday = WEEKDAYS.index(m.group(2))
        back = (today.weekday() - weekday) % 7
        if m.group(1) == "last " and back == 0:
            back = 7
        phrases.append(m.group(0).strip())
        return today - timedelta(days=back)
    return None


def _part_of_day(text: str, phrases: list[str]) -> tuple[float, float] | None:
    if " last night " in text:
        return PARTS_OF_DAY["night"]
    for name in sorted(PARTS_OF_DAY, key=len, reverse=True):
        if f" {name} " in text:
            phrases.append(name)
            return PARTS_OF_DAY[name]
    return None


def _before_after(text: str) -> str | None:
    if m := re.search(r" (before|after) (breakfast|lunch|dinner|noon|midday) ", text):
        return m.group(1)
    return None


def _span_words(text: str, at: datetime, phrases: list[str]) -> TimeWindow | None:
    monday = at.date() - timedelta(days=at.weekday())
    if " this week " in text:
        phrases.append("this week")
        return TimeWindow(_at(monday, 0, at), at)
    if " last week " in text:
        phrases.append("last week")
        return TimeWindow(_at(monday - timedelta(days=7), 0, at), _at(monday, 0, at))
    if m := re.search(r" (in the )?(past|last) (\d+|" + "|".join(NUMBER_WORDS) + r") days ", text):
        n = int(m.group(3)) if m.group(3).isdigit() else NUMBER_WORDS[m.group(3)]
        phrases.append(m.group(0).strip())
        return TimeWindow(_at(at.date() - timedelta(days=n), 0, at), at)
    return None


def _at(day: date, hour: float, like: datetime) -> datetime:
    """Wall-clock hour on a day, in the asker's offset; hours >= 24 run into the following day."""
    whole = int(hour)
    extra_days, whole = divmod(whole, 24)
    minutes = int(round((hour - int(hour)) * 60))
    return datetime.combine(day + timedelta(days=extra_days), time(whole, minutes), tzinfo=like.tzinfo)


def _clip(window: TimeWindow | None, at: datetime) -> TimeWindow | None:
    """Nothing after the asking moment can be remembered."""
    if window is None:
        return None
    return TimeWindow(window.start, min(window.end, at))
