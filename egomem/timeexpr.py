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
    text = " " + re.sub(r"[^\w:\- ]+|(?<!\d):|:(?!\d)", " ", question.lower()) + " "  # "Wednesday: yes or no?"
    phrases: list[str] = []
    order = _order(text, phrases)
    day = _day(text, at, phrases)
    part = _part_of_day(text, phrases)
    relation = _before_after(text)

    if day is None and part is None:
        window = _span_words(text, at, phrases)
        return TimeConstraint(_clip(window, at), order, tuple(phrases))
    base = day if day is not None else at.date()
    if day is not None and part is None and re.search(r" since (last |this |on )?\S+", text):
        phrases.append("since")  # "since Thursday": from that day up to now
        return TimeConstraint(_clip(TimeWindow(_at(base, 0, at), at), at), order, tuple(phrases))
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


# == Forwards: when a plan or request said at some moment is for ==================================
#
# "the vet on Saturday at ten" said on Wednesday is for that Saturday 10:00; "dinner tomorrow at
# seven" is for 19:00 the next day. Everything resolves to a window at or after the saying moment's
# day, in the speaker's UTC offset.

CLOCK_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12,
}  # fmt: skip
MINUTE_WORDS = {
    "oh five": 5, "o five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25, "twenty-five": 25, "thirty": 30,
    "thirty five": 35, "thirty-five": 35, "forty": 40, "forty five": 45, "forty-five": 45, "fifty": 50, "fifty five": 55,
    "fifty-five": 55,
}  # fmt: skip
# Hours said without am/pm: 1-6 are afternoon ("at three"), 7-11 morning unless a part of day says otherwise.
AFTERNOON_UNTIL = 6
CLOCK_SLOT_MINUTES = 60  # a plan "at ten" is given the hour from ten as its window

_HOUR = r"(\d{1,2}|" + "|".join(sorted(CLOCK_NUMBERS, key=len, reverse=True)) + r")"
_MINUTE = "|".join(sorted(MINUTE_WORDS, key=len, reverse=True))
_MERIDIEM = r"\s*(am|pm)(?![a-z])"
_CLOCK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("named", re.compile(r"\b(noon|midday|midnight)\b")),
    ("digits", re.compile(r"(?<![\d:$€£.])(\d{1,2})[:.h](\d{2})(?!\d)(?:" + _MERIDIEM + r")?")),
    ("past", re.compile(r"\b(half|quarter|(?:\d{1,2}|ten|five|twenty|twenty[- ]five) (?:minutes )?)\s*past " + _HOUR + r"\b")),
    ("to", re.compile(r"\b(quarter|(?:\d{1,2}|ten|five|twenty|twenty[- ]five) (?:minutes )?)\s*to " + _HOUR + r"\b(?! (?:dollars?|euros?|pounds?|bucks))")),
    ("meridiem", re.compile(r"(?<![\d$€£.])\b" + _HOUR + r"(?:\s+(" + _MINUTE + r"))?" + _MERIDIEM)),
    ("oclock", re.compile(r"\b" + _HOUR + r"\s*o'?\s?clock\b")),
    ("at", re.compile(r"\b(?:at|around|by|from|until|till|before|after) (?:about )?" + _HOUR + r"(?:\s+(" + _MINUTE + r"))?\b(?![:.]?\d)(?!\s*(?:%|percent|dollars?|euros?|pounds?|bucks|cents?|minutes?|hours?|days?|weeks?|people|of\b|[ap]\.?m\b))")),
    ("part", re.compile(r"\b" + _HOUR + r"(?:\s+(" + _MINUTE + r"))? (?=in the (?:morning|afternoon|evening)|tonight|at night)")),
    ("words", re.compile(r"\b(" + "|".join(sorted(CLOCK_NUMBERS, key=len, reverse=True)) + r") (" + _MINUTE + r")\b(?!\s*(?:dollars?|euros?|pounds?|bucks|cents?|minutes?|hours?|days?|people))")),
)


def parse_clock(text: str) -> tuple[int, int] | None:
    """The first clock time in `text` as (hour 0-23, minute), or None.

    "at ten", "10 am", "half past three", "quarter to five", "3:30", "seven thirty", "noon". Without
    am/pm, a part of the day in the text decides ("dinner at seven", "seven in the evening" -> 19:00),
    else hours 1-6 are read as afternoon and 7-11 as morning.
    """
    low = _forwards_text(text)
    found = _clock_match(low)
    if found is None:
        return None
    hour, minute, meridiem = found
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif meridiem is None and 1 <= hour < 12:
        hour = _afternoon_if_said(low, hour)
    return hour, minute


def _forwards_text(text: str) -> str:
    """Lower case, "a.m." as "am", dots kept only inside numbers ("10.30", "12.50"), padded with spaces."""
    low = re.sub(r"\b([ap])\.m\.?", r"\1m", text.lower().replace("\u2019", "'"))
    low = re.sub(r"\.(?!\d)|(?<!\d)\.", " ", low)
    return " " + " ".join(re.sub(r"[^\w:.'$€£\- ]+", " ", low).split()) + " "


def _clock_match(low: str) -> tuple[int, int, str | None] | None:
    """(hour as said, minute, "am"/"pm"/"" for a fixed reading or None when open) of the earliest clock."""
    best: tuple[int, tuple[int, int, str | None]] | None = None
    for name, pattern in _CLOCK_PATTERNS:
        m = pattern.search(low)
        if m is None:
            continue
        value = _clock_value(name, m)
        if value is not None and (best is None or m.start() < best[0]):
            best = (m.start(), value)
    return best[1] if best else None


def _clock_value(name: str, m: re.Match[str]) -> tuple[int, int, str | None] | None:
    if name == "named":
        return (0, 0, "") if m.group(1) == "midnight" else (12, 0, "")
    if name == "digits":
        return int(m.group(1)), int(m.group(2)), _meridiem(m.group(3)) or ("" if int(m.group(1)) >= 13 or m.group(1).startswith("0") else None)
    if name in ("past", "to"):
        amount = m.group(1).strip().removesuffix(" minutes").strip()
        minutes = {"half": 30, "quarter": 15}.get(amount) or _small_number(amount)
        hour = _hour(m.group(2))
        if minutes is None or hour is None:
            return None
        return (hour, minutes, None) if name == "past" else ((hour - 1) % 24 or 12, 60 - minutes, None)
    hour = _hour(m.group(1))
    if hour is None:
        return None
    minute = MINUTE_WORDS.get(m.group(2), 0) if m.lastindex and m.lastindex >= 2 and m.group(2) else 0
    if name == "meridiem":
        return hour, minute, _meridiem(m.group(3))
    return hour, minute, ("" if hour >= 13 or hour == 0 else None)


def _hour(word: str) -> int | None:
    return int(word) if word.isdigit() else CLOCK_NUMBERS.get(word)


def _small_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return {"five": 5, "ten": 10, "twenty": 20, "twenty five": 25, "twenty-five": 25}.get(word)


def _meridiem(word: str | None) -> str | None:
    if not word:
        return None
    return "pm" if word.startswith("p") else "am"


def _afternoon_if_said(low: str, hour: int) -> int:
    """An hour said without am/pm, read in the part of the day the text names (or by habit)."""
    for name in sorted(PARTS_OF_DAY, key=len, reverse=True):
        if f" {name} " in low or (name in ("morning", "afternoon", "evening", "night") and f" in the {name} " in low):
            start, end = PARTS_OF_DAY[name]
            if not (start <= hour < end) and start <= hour + 12 < end:
                return hour + 12
            return hour
    return hour + 12 if hour <= AFTERNOON_UNTIL else hour


def resolve_ahead(text: str, said_at: datetime) -> TimeWindow | None:
    """When a plan, appointment or request said at `said_at` is for; None when the text names no time.

    "tomorrow", "on Saturday" (the coming one), "next Friday" (the one in the following week), "in
    two days", "this weekend", "March 3" (this year, else next), "at 3 pm" (today, or tomorrow if that
    hour has passed), "tonight", "in two hours". A clock time gives a one-hour window from it, a part
    of the day its span, a day alone the whole day.
    """
    low = _forwards_text(text)
    if m := re.search(r" in (\d+|an?|" + "|".join(NUMBER_WORDS) + r"|half an) (hours?|minutes?) ", low):
        n = 0.5 if m.group(1) == "half an" else (int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)])
        moment = said_at + (timedelta(hours=n) if m.group(2).startswith("hour") else timedelta(minutes=n))
        return TimeWindow(moment, moment + timedelta(minutes=CLOCK_SLOT_MINUTES))
    day, span_days = _day_ahead(low, said_at.date())
    clock = parse_clock(low)
    part = None if clock else _part_ahead(low)
    if day is None and clock is None and part is None:
        return None
    if day is None:
        day = said_at.date()
        if clock is not None and datetime.combine(day, time(*clock), tzinfo=said_at.tzinfo) < said_at:
            day += timedelta(days=1)  # "at 9" said at 20:00 is tomorrow's 9:00
    if clock is not None:
        start = datetime.combine(day, time(*clock), tzinfo=said_at.tzinfo)
        return TimeWindow(start, start + timedelta(minutes=CLOCK_SLOT_MINUTES))
    if part is not None:
        return TimeWindow(_at(day, part[0], said_at), _at(day, part[1], said_at))
    return TimeWindow(_at(day, 0, said_at), _at(day + timedelta(days=span_days - 1), 24, said_at))


def names_day(text: str) -> bool:
    """Whether `text` says which day ("tomorrow", "on Friday", "March 3"), not only a clock time."""
    return _day_ahead(_forwards_text(text), date(2000, 1, 3))[0] is not None


def _day_ahead(low: str, today: date) -> tuple[date | None, int]:
    """(first day, number of days) of the day phrase in `low`, looking forwards from `today`."""
    numbers = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
    if " the day after tomorrow " in low:
        return today + timedelta(days=2), 1
    if " tomorrow " in low:
        return today + timedelta(days=1), 1
    if re.search(r" (today|tonight|this (morning|afternoon|evening)|later today) ", low):
        return today, 1
    if m := re.search(rf" in {numbers} (days?|weeks?) ", low):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
        return today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1)), 1
    if m := re.search(rf" {numbers} (days?|weeks?) from (now|today) ", low):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
        return today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1)), 1
    monday = today - timedelta(days=today.weekday())
    if " next week " in low:
        return monday + timedelta(days=7), 7
    if m := re.search(r" (this |next |at the |on the )?weekend ", low):
        saturday = monday + timedelta(days=5)
        if m.group(1) == "next " or today.weekday() == 6 and m.group(1) != "this ":
            saturday += timedelta(days=7)
        return saturday, 2
    if m := re.search(r" (\d{4})-(\d{2})-(\d{2}) ", low):
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), 1
    month_names = "|".join(MONTHS)
    if m := re.search(rf" ({month_names}) (\d{{1,2}})(st|nd|rd|th)? ", low) or re.search(rf" (\d{{1,2}})(st|nd|rd|th)? (of )?({month_names}) ", low):
        groups = [g for g in m.groups() if g]
        month = next(MONTHS.index(g) + 1 for g in groups if g in MONTHS)
        day_n = int(next(g for g in groups if g.isdigit()))
        try:
            candidate = date(today.year, month, day_n)
            return (candidate if candidate >= today else date(today.year + 1, month, day_n)), 1
        except ValueError:
            return None, 1
    if m := re.search(r" (next |this |on |by |until |before )?(" + "|".join(WEEKDAYS) + r") ", low):
        ahead = (WEEKDAYS.index(m.group(2)) - today.weekday()) % 7
        if m.group(1) == "next ":
            return monday + timedelta(days=7 + WEEKDAYS.index(m.group(2))), 1
        if ahead == 0 and m.group(1) != "this ":
            ahead = 7  # "on Saturday" said on a Saturday is the next one
        return today + timedelta(days=ahead), 1
    return None, 1


def _part_ahead(low: str) -> tuple[float, float] | None:
    if " tonight " in low:
        return PARTS_OF_DAY["tonight"]
    for name in ("morning", "afternoon", "evening", "night"):
        if f" this {name} " in low or f" in the {name} " in low or f" tomorrow {name} " in low or re.search(rf" ({'|'.join(WEEKDAYS)}) {name} ", low):
            return PARTS_OF_DAY[name]
    for name in ("breakfast", "lunch", "dinner"):
        if f" {name} " in low:
            return PARTS_OF_DAY[name]
    return None
