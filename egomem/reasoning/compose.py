"""Answer composition: the answer's first line (the name, the place, the time, the quoted request),
and how well each multiple-choice option is supported by the moments and facts found.

Every choice gets a support in [0, 1] from the evidence for it; "none of these" wins when no other
choice is supported, and a question asked in the negative ("which did I NOT buy?") wants the least
supported choice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from egomem.memory.events import Event
from egomem.memory.facts import NUMBER_SCALES, NUMBER_WORDS, find_price, spoken_amount
from egomem.reasoning import cues
from egomem.reasoning.question import Kind, Question, compact, tokens
from egomem.reasoning.retrieval import Candidate, distinct_occasions, same_person
from egomem.timeexpr import parse_clock, resolve, resolve_ahead

JOIN_GAP_S = 2.0  # Whisper left the sentence open and the next words follow this soon: the same sentence
UNSUPPORTED = 0.34  # below this support no real choice is backed by memory: "none of these" wins if offered
COUNT_WORDS = {"once": 1, "twice": 2, "never": 0}  # how people say counts besides numbers


@dataclass(frozen=True)
class Sentence:
    event_id: str
    text: str
    speaker: str | None
    start: datetime


def sentences(event: Event) -> list[Sentence]:
    """The event's speech as sentences: quotes of one speaker that Whisper cut mid-sentence are
    joined first ("And so my fellow Americans," + "ask not what ...")."""
    merged: list[tuple[str, str | None, datetime]] = []
    last_end = event.start
    for quote in event.quotes:
        text = quote.text.strip()
        if not text:
            continue
        unfinished = merged and not re.search(r"[.!?]$", merged[-1][0])
        if unfinished and (merged[-1][1] == quote.speaker or (quote.start - last_end).total_seconds() <= JOIN_GAP_S):
            merged[-1] = (merged[-1][0] + " " + text, merged[-1][1], merged[-1][2])
        else:
            merged.append((text, quote.speaker, quote.start))
        last_end = quote.end
    return [
        Sentence(event.id, s.strip(), speaker, start)
        for text, speaker, start in merged
        for s in re.split(r"(?<=[.!?])\s+", text)
        if s.strip()
    ]


def extract(q: Question, sentence: str) -> str:
    """The part of a sentence that answers: clauses that only repeat the question ("my fellow
    Americans," for "what did he ask his fellow Americans?") and fillers are dropped."""
    clauses = [c.strip() for c in re.split(r"(?<=[,;:])\s+|\s+[-–—]\s+", sentence) if c.strip()]
    asked = set(q.keywords)
    kept = list(clauses)
    while len(kept) > 1:
        words = [w for w in tokens(kept[0]) if w not in cues.STOPWORDS]
        if words and sum(1 for w in words if w in asked or w.rstrip("s") in asked) / len(words) >= 0.5 or not words:
            kept.pop(0)
        else:
            break
    text = " ".join(kept).strip()
    return re.sub(r"^(?:(?:and|so|well|okay|oh|um|but)[\s,]+)+", "", text, flags=re.IGNORECASE).strip() or sentence


def when_text(t: datetime, at: datetime) -> str:
    """Times are told in the asker's UTC offset, whatever offset the recording carried."""
    return t.astimezone(at.tzinfo).strftime("%a %d %b %Y %H:%M")


def join_names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- choices ----------------------------------------------------------------------------------------


def is_none_choice(choice: str) -> bool:
    return cues.matches(cues.NONE_CHOICE, choice)


def pick(q: Question, support: Mapping[str, float], choices: Mapping[str, str]) -> str:
    """The choice to answer with, given each choice's support."""
    real = {k: v for k, v in support.items() if not is_none_choice(choices[k])}
    nones = [k for k in support if is_none_choice(choices[k])]
    if not real:
        return nones[0]
    if q.negated and q.kind in (Kind.WHAT, Kind.WHO, Kind.WHERE):
        return min(real, key=lambda k: real[k])
    best = max(real, key=lambda k: real[k])
    if nones and real[best] < UNSUPPORTED:
        return nones[0]
    return best


def overlap(choice: str, text: str) -> float:
    """Share of the choice's content words found in the text (plural and OCR-squeezed forms too)."""
    words = [w for w in tokens(choice) if w not in cues.STOPWORDS] or tokens(choice)
    if not words:
        return 0.0
    present = set(tokens(text))
    squeezed = compact(text)
    hits = sum(1 for w in words if w in present or (w.endswith("s") and w[:-1] in present) or (w + "s") in present or (len(w) > 4 and w in squeezed))
    return hits / len(words)


def seen(choice: str, event: Event) -> float:
    """How much of a choice was read in view (OCR drops spaces: "OATMILK" is "oat milk")."""
    text = " ".join(event.visible_text)
    return max(overlap(choice, text), 1.0 if compact(choice) and compact(choice) in compact(text) else 0.0)


def said(choice: str, keywords: Sequence[str], event: Event) -> float:
    """How well a choice was said in the sentence the question is about: "let's meet at X" beats
    "see you at home" for "where did Bob suggest we meet?"."""
    return max((overlap(choice, s.text) * (1 + covered(keywords, s.text)) / 2 for s in sentences(event)), default=0.0)


def said_by(person: str, event: Event, sentence: str | None) -> bool:
    """Whether the quote holding a sentence was attributed to this person (voices tied to faces at ingest)."""
    if not sentence:
        return False
    return any(s.speaker and sentence in s.text and same_person(person, s.speaker) for s in sentences(event)) or any(
        q.speaker and sentence in q.text and same_person(person, q.speaker) for q in event.quotes
    )


def covered(keywords: Sequence[str], text: str) -> float:
    """Share of the question's content words found in a text."""
    if not keywords:
        return 0.0
    present = set(tokens(text))
    return sum(1 for k in keywords if k in present) / len(keywords)


def weighted(matching: Sequence[Candidate]) -> list[tuple[float, Candidate]]:
    """The first matches weigh most: the evidence order is the question's logic."""
    return [(1.0 / (rank + 1), c) for rank, c in enumerate(matching[:3])]


def time_match(choice: str, t: datetime, at: datetime, ahead: bool = False) -> float:
    """How well a choice like "18:00", "6 pm", "Tuesday evening" or "yesterday morning" fits time t.
    For plans (`ahead`), day words in the choice look forwards from the asking moment."""
    lowered = choice.lower()
    clock = parse_clock(lowered) if re.search(r"\d|half past|quarter (past|to)|o'clock", lowered) else None
    day_window = (resolve_ahead(_day_words(lowered), at) if ahead else resolve(lowered, at).window)
    if clock is not None:
        local = t.astimezone(at.tzinfo)
        minutes = abs((local.hour * 60 + local.minute) - (clock[0] * 60 + clock[1]))
        score = max(0.0, 1.0 - minutes / 120.0)
        if day_window is None or day_window.start <= local < day_window.end:
            return score
        return score * 0.2
    window = resolve_ahead(lowered, at) if ahead else resolve(lowered, at).window
    if window is None or not window.contains(t):
        return 0.0
    # "Tuesday midday" and "Tuesday afternoon" may both contain 12:30: the more precise one wins.
    return 1.0 - 0.01 * (window.end - window.start).total_seconds() / 86400


def _day_words(text: str) -> str:
    """The day part of a time choice ("Saturday 10:00" -> "Saturday"), for looking forwards."""
    return re.sub(r"\b\d{1,2}([:.]\d{2})?\s*(am|pm)?\b|\b(at|around)\b", " ", text)


def number_in(choice: str) -> float | None:
    """The number a choice states: "3", "three times", "twice", "$12.50", "twelve fifty"."""
    lowered = choice.lower().replace(",", "")
    if m := re.search(r"\d+(?:\.\d+)?", lowered):
        return float(m.group(0))
    for word, value in COUNT_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            return float(value)
    said = [w for w in re.split(r"[\s-]+", lowered) if w in NUMBER_WORDS or w in NUMBER_SCALES or w == "and"]
    return spoken_amount(" ".join(said)) if said else None


def money_in(text: str, *, need_cue: bool = True) -> list[float]:
    """Every amount of money in a text, in order: "$18.50", "two hundred dollars", "that's twelve fifty"
    (a bare "18.50" too when `need_cue` is off, as on a receipt)."""
    found: list[float] = []
    text = re.sub(r"(\d) \.(\d)", r"\1.\2", text)  # Whisper writes "$5 .75"
    while (hit := find_price(text, need_cue=need_cue)) is not None:
        found.append(hit[0])
        text = text[hit[2][1] :]
    return found


def count_support(choice: str, n: int) -> float:
    number = number_in(choice)
    return 1.0 if number is not None and int(number) == n else 0.0


def dense_similarity(event: Event, choice_vector: np.ndarray) -> float:
    return float(np.asarray(event.text_vector, np.float32) @ choice_vector) if event.text_vector else 0.0


def people_ranking(events: Sequence[Event], exclude: Sequence[str] = ()) -> list[tuple[str, int]]:
    """People by the number of separate occasions they were seen on, most first."""
    seen_with: dict[str, list[Event]] = {}
    for e in events:
        for person in dict.fromkeys(e.people):
            if not any(same_person(person, x) for x in exclude):
                seen_with.setdefault(person, []).append(e)
    ranking = [(person, distinct_occasions(group)) for person, group in seen_with.items()]
    return sorted(ranking, key=lambda pn: pn[1], reverse=True)


def place_name(events: Sequence[Event]) -> str:
    """A place's name; otherwise the sign most often read there, then the coordinates."""
    named = next((e.place.name for e in events if e.place and e.place.name), None)
    if named:
        return named
    signs: dict[str, int] = {}
    for e in events:
        for text in e.visible_text[:1]:  # the first text read is the most prominent (largest, earliest)
            signs[text] = signs.get(text, 0) + 1
    if signs:
        return max(signs, key=lambda t: signs[t])
    return events[0].place.label if events and events[0].place else "a place without a recorded position"


def names_place(choice: str, events: Sequence[Event]) -> bool:
    wanted = compact(choice)
    return bool(wanted) and any(
        wanted in compact(" ".join(e.visible_text) + ((e.place.name or "") if e.place else "")) for e in events
    )


def place_support(choice: str, event: Event) -> float:
    """How well a choice names the place of an event: its name, its signs, then its scene tags."""
    name = event.place.name if event.place and event.place.name else ""
    text = " ".join([name, " ".join(event.visible_text), " ".join(event.tags)])
    if compact(choice) and name and (compact(choice) in compact(name) or compact(name) in compact(choice)):
        return 1.0
    return max(overlap(choice, text), 1.0 if compact(choice) and compact(choice) in compact(text) else 0.0)

