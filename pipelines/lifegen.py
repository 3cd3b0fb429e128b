"""Synthetic "lives" for the life benchmark (specs/life-benchmark.md), with real media.

Two layers, kept apart so the ground truth never depends on how media came out:

* the world (pure data, seeded): places, people, items; which companion meets the wearer where and
  when, what they say, which requests and plans are heard, and the questions whose answers are read
  off that world. ``plan_life`` builds it without touching media.
* rendering: OpenCV draws each scene (background, props, a big sign, real face photos pasted in),
  espeak-ng speaks each line in its speaker's voice inside the slot the world gave it, and ffmpeg
  muxes a 640x360 10 fps H.264 + AAC mp4 carrying ``creation_time`` and an ISO 6709 ``location``.

Determinism: the same seed gives identical manifest.jsonl, questions.jsonl and spoken text, because
every timing in them comes from the world (speech is fitted into its slot, never the other way
round). Media bytes are only reproducible with the same ffmpeg/x264/espeak-ng builds.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as clock
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

# -- the world: pools -----------------------------------------------------------------------------

WIDTH, HEIGHT, FPS = 640, 360, 10
MIN_CLIP_S, MAX_CLIP_S = 8.0, 15.0
DEFAULT_START = date(2026, 3, 2)  # a Monday; fixed so that a seed alone fixes the life
DEVICE = "glasses-01"
PHOTO_DEVICE = "phone-01"
WEARER = "me"  # speaker id of the person wearing the glasses
STRANGER = "stranger"  # speaker id of the cashier nobody enrolled
STRANGER_PHOTO = "lin-manuel-miranda.png"
MIN_PEOPLE = 4  # one companion per scene, four scenes a day
MAX_DAYS = 7  # weekday names stay unambiguous and the item pools are dealt without repeats
QUERY_CLOCK = clock(21, 30)  # questions are mostly asked on the evening of the last day
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Place:
    key: str
    name: str  # how questions name it
    sign: str  # what the sign in view says (capitals, for OCR)
    lat: float
    lon: float
    kind: str  # which props the renderer draws
    colour: tuple[int, int, int]  # BGR background


PLACES: dict[str, Place] = {
    p.key: p
    for p in (
        Place("home", "Home", "HOME SWEET HOME", 48.8530, 2.3499, "kitchen", (178, 212, 232)),
        Place("cafe", "Cafe Central", "CAFE CENTRAL", 48.8606, 2.3376, "cafe", (84, 128, 186)),
        Place("sushi", "Sushi Bar", "SUSHI BAR", 48.8647, 2.3490, "bar", (120, 196, 236)),
        Place("office", "Main Office", "MAIN OFFICE", 48.8738, 2.2950, "office", (196, 188, 170)),
        Place("market", "Fresh Market", "FRESH MARKET", 48.8462, 2.3460, "market", (140, 196, 140)),
        Place("shop", "Corner Shop", "CORNER SHOP", 48.8583, 2.3700, "market", (150, 170, 216)),
        Place("gym", "City Gym", "CITY GYM", 48.8420, 2.3210, "gym", (105, 105, 110)),
        Place("park", "Riverside Park", "RIVERSIDE PARK", 48.8610, 2.3000, "park", (226, 196, 150)),
        Place("library", "Central Library", "CENTRAL LIBRARY", 48.8330, 2.3760, "library", (70, 96, 140)),
        Place("pool", "Swimming Pool", "SWIMMING POOL", 48.8500, 2.2900, "pool", (206, 170, 90)),
    )
}


@dataclass(frozen=True)
class Slot:
    """A part of the day: when a scene may start, and which places fit it."""

    name: str  # "morning", ... : also how questions name the time ("Tuesday evening")
    earliest: clock
    latest: clock
    places: tuple[str, ...]


SLOTS = (
    Slot("morning", clock(7, 0), clock(8, 30), ("home",)),
    Slot("midday", clock(12, 0), clock(13, 30), ("cafe", "sushi", "office")),
    Slot("afternoon", clock(15, 30), clock(17, 0), ("market", "shop")),
    Slot("evening", clock(18, 0), clock(19, 30), ("gym", "park", "library", "pool")),
)

# Dealt without repeats over the whole life, so "who asked me to buy X" has one answer. Every
# spoken word below was kept only if Whisper base transcribes it right from most of our espeak-ng
# voices (dropped: "oat milk" -> "oatmeal", "butter" -> "burger", "grandma", "the garage", ...).
GROCERIES = (
    "coffee beans", "bread", "rice", "olive oil", "apples", "honey", "pasta", "orange juice",
    "green tea", "bananas", "chocolate", "cereal", "carrots", "strawberries", "mushrooms",
    "peanut butter", "ice cream", "cookies", "chicken", "crackers", "batteries", "tomatoes",
)  # fmt: skip
# Products only ever seen on a label (the kitchen counter), never said: memory of text in view.
LABELS = ("oat milk", "yogurt", "cheese", "dish soap", "flour", "eggs", "lemons", "muesli", "ketchup")
BRINGABLES = (
    "the charger", "the umbrella", "the camera", "the headphones", "the laptop", "the cake",
    "the guitar", "the passport",
)  # fmt: skip
CALLEES = ("the doctor", "the pharmacy", "the hotel", "the mechanic", "the landlord", "the dentist", "the plumber", "the bank")
GREETINGS = ("Hi, it's nice to see you.", "Good to see you.", "Hey there.", "Hello again.")
# espeak-ng voice+variant per speaker; the wearer and the stranger keep theirs, companions draw.
# Place names and voices were screened the same way as the words above (dropped: "Cafe Lumiere",
# "Sunny Bakery", "Aqua Pool"; the en-029 and en-us+f4 voices, which garble weekdays).
COMPANION_VOICES = ("en-us+m3", "en+f2", "en-gb+m1", "en+m7", "en-us+m1", "en-gb+f2", "en+f5")
WEARER_VOICE = "en-us-nyc+m2"
STRANGER_VOICE = "en-gb-x-rp+m5"
SPEECH_RATE = 140  # words per minute (espeak-ng -s)
WORD_GAP = 2  # espeak-ng -g, in 10 ms units: a little air between words helps speech recognisers


@dataclass(frozen=True)
class Person:
    name: str  # the face folder's name, also people/NAME in the life
    display: str  # how questions name them
    video_photo: Path | None  # the photo pasted into scenes (None: heard, never seen: the wearer)
    enrol_photos: tuple[Path, ...]  # copied to people/NAME (empty for the stranger)
    voice: str
    known: bool  # enrolled by the wearer


# -- the world: what happened ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    speaker: str  # a Person.name, WEARER or STRANGER
    text: str
    start: datetime  # the slot the line is spoken in; the voice fits inside it
    end: datetime


@dataclass(frozen=True)
class Task:
    """A request or plan heard: the ground truth TaskMaster/RelationMap questions are built from."""

    kind: str  # "buy" | "bring" | "call" | "plan"
    person: str
    what: str  # item, callee, or "meet at PLACE on DAY"
    recording: str  # file of the recording it was heard in

    @property
    def phrase(self) -> str:
        return self.what if self.kind == "plan" else f"{self.kind} {self.what}"


@dataclass(frozen=True)
class RecordingSpec:
    file: str  # relative to the life folder
    kind: str  # "video" | "photo"
    day: int  # 1-based
    slot: str
    start: datetime
    end: datetime  # == start for a photo
    place: Place
    people: tuple[str, ...]  # names of everyone in view (companions and the stranger)
    lines: tuple[Line, ...]
    sign_text: str
    labels: tuple[str, ...]  # product labels in view
    device: str
    in_manifest: bool  # False: start and place only in the container's metadata

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def time_label(self) -> str:
        return f"{self.start:%A} {self.slot}"


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # EntityLog | EventRecall | HabitInsight | RelationMap | TaskMaster
    question: str
    query_time: datetime
    answer_text: str  # the true answer in words
    evidence: tuple[tuple[datetime, datetime], ...]
    choices: dict[str, str] | None = None
    choice_kind: str | None = None  # "person" | "place" | "item" | "time" | "clock" | "count" | "task"

    @property
    def answer(self) -> str:
        """What questions.jsonl holds: the letter for a multiple-choice question, else the text."""
        if self.choices is None:
            return self.answer_text
        return next(letter for letter, text in self.choices.items() if text == self.answer_text)

    def to_json(self) -> dict:
        row: dict = {"id": self.id, "type": self.type, "question": self.question, "query_time": _iso(self.query_time)}
        if self.choices is not None:
            row["choices"] = self.choices
        row["answer"] = self.answer
        row["evidence"] = [{"start": _iso(s), "end": _iso(e)} for s, e in self.evidence]
        return row


@dataclass
class LifeSpec:
    out_dir: Path | None
    seed: int
    days: int
    start_date: date
    tz: timezone
    people: dict[str, Person]  # everyone who appears, by name (companions and the stranger)
    recordings: list[RecordingSpec]
    tasks: list[Task]
    questions: list[Question] = field(default_factory=list)

    @property
    def videos(self) -> list[RecordingSpec]:
        return [r for r in self.recordings if r.kind == "video"]

    @property
    def companions(self) -> list[Person]:
        return [p for p in self.people.values() if p.known]

    def manifest_rows(self) -> list[dict]:
        rows = []
        for rec in self.recordings:
            row: dict = {"file": rec.file}
            if rec.in_manifest:
                row.update(start=_iso(rec.start), device=rec.device, lat=rec.place.lat, lon=rec.place.lon)
            rows.append(row)
        return rows

    def manifest_text(self) -> str:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.manifest_rows())

    def questions_text(self) -> str:
        return "".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in self.questions)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- the world: planning --------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceSource:
    """A face folder as found on disk: what the world needs to know about a person before seeding."""

    name: str
    photos: tuple[Path, ...]  # sorted


def discover_faces(faces_dir: Path) -> tuple[list[FaceSource], Path | None]:
    """The enrolable people (``faces_dir/train/NAME/*``) and the stranger's photo, if present."""
    train = Path(faces_dir) / "train"
    if not train.is_dir():
        raise FileNotFoundError(f"no face folders: expected {train}/NAME/*.jpg")
    people = []
    for folder in sorted(p for p in train.iterdir() if p.is_dir()):
        photos = tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        if photos:
            people.append(FaceSource(folder.name, photos))
    if not people:
        raise FileNotFoundError(f"no face photos under {train}")
    stranger = Path(faces_dir) / STRANGER_PHOTO
    return people, stranger if stranger.is_file() else None


def display_name(folder: str) -> str:
    return folder.replace("_", " ").replace("-", " ").title()


def _person_from(source: FaceSource, voice: str) -> Person:
    # Paste one photo and enrol the others, so recognising the video face is not a pixel match;
    # a person with a single photo has to be enrolled with the same one.
    video = source.photos[-1]
    enrol = source.photos[:-1] or source.photos
    return Person(source.name, display_name(source.name), video, enrol, voice, known=True)


def _estimate_speech_s(text: str) -> float:
    # Fitted on espeak-ng at 140 wpm with -g 2 and its own silences trimmed: ~0.078 s a character
    # plus ~0.18 s a punctuation pause; the margin keeps every voice variant we use inside its slot.
    pauses = sum(text.count(mark) for mark in ",.?!")
    return round(0.08 * len(text) + 0.2 * pauses + 0.4, 1)


def _lay_out_lines(start: datetime, said: Sequence[tuple[str, str]]) -> tuple[tuple[Line, ...], datetime]:
    """Give each line a slot (lead-in, line, pause, line, ..., tail) and return the clip's end."""
    lead, gap, tail = 0.6, 0.3, 0.6
    slots = [_estimate_speech_s(text) for _, text in said]
    total = lead + sum(slots) + gap * (len(slots) - 1) + tail
    squeeze = min(1.0, (MAX_CLIP_S - lead - tail - gap * (len(slots) - 1)) / sum(slots))  # renderer speeds up
    lines, t = [], lead
    for (speaker, text), slot in zip(said, slots):
        slot = round(slot * squeeze, 1)
        lines.append(Line(speaker, text, start + timedelta(seconds=t), start + timedelta(seconds=t + slot)))
        t = round(t + slot + gap, 2)
    duration = min(MAX_CLIP_S, max(MIN_CLIP_S, float(np.ceil(total))))
    return tuple(lines), start + timedelta(seconds=duration)


class _Deck:
    """Deals a shuffled pool without repeats."""

    def __init__(self, rng: random.Random, pool: Iterable[str]) -> None:
        self._cards = list(pool)
        rng.shuffle(self._cards)

    def deal(self) -> str:
        return self._cards.pop()


@dataclass(frozen=True)
class _Scene:
    """One scene as the script has it, before it gets a clock time and a file."""

    slot: Slot
    place: str  # key into PLACES
    companion: Person
    said: list[tuple[str, str]]  # (speaker, text)
    labels: tuple[str, ...]
    task: tuple[str, str]  # (kind, what) the companion asks of the wearer


@dataclass
class _Decks:
    groceries: _Deck
    labels: _Deck
    bringables: _Deck
    callees: _Deck


def _script_day(
    rng: random.Random, day: date, crew: Sequence[Person], stranger: Person | None, decks: _Decks, evening: str
) -> list[_Scene]:
    """Morning request at home, midday errand to bring, afternoon shopping with a reminder, evening plan."""
    a, b, c, e = crew
    buy, extra1, extra2 = (decks.groceries.deal() for _ in range(3))
    shelf, bring, callee = decks.labels.deal(), decks.bringables.deal(), decks.callees.deal()
    plan_place = PLACES[rng.choice([k for k in PLACES if k not in ("home", evening)])]
    plan_day = f"{day + timedelta(days=rng.randint(2, 5)):%A}"
    # Companions never say their own name: the wearer's memory has to know them by face.
    morning = [(a.name, f"Good morning. Can you buy some {buy} on your way home?"), (WEARER, f"Sure, I will buy some {buy}.")]
    midday = [(b.name, f"{rng.choice(GREETINGS)} Please bring {bring} tomorrow."), (WEARER, f"OK, I'll bring {bring}.")]
    shopping = [(STRANGER, "What can I get you?"), (WEARER, f"Some {buy}, {extra1} and {extra2}, please.")]
    if stranger is None:
        shopping = [(WEARER, f"I need {buy}, {extra1} and {extra2}.")]
    reminder = [(c.name, f"Remember to call {callee} today."), (WEARER, "Right, I will.")]
    plan = [
        (e.name, f"{rng.choice(GREETINGS)} Let's meet at {plan_place.name} on {plan_day}."),
        (WEARER, f"Great, see you there on {plan_day}."),
    ]
    return [
        _Scene(SLOTS[0], "home", a, morning, (shelf,), ("buy", buy)),
        _Scene(SLOTS[1], rng.choice(SLOTS[1].places), b, midday, (), ("bring", bring)),
        _Scene(SLOTS[2], rng.choice(SLOTS[2].places), c, shopping + reminder, (buy,), ("call", callee)),
        _Scene(SLOTS[3], evening, e, plan, (), ("plan", f"meet at {plan_place.name} on {plan_day}")),
    ]


def _pick_crew(rng: random.Random, cast: Sequence[Person], seen: dict[str, Person]) -> list[Person]:
    """Four companions for a day, one per scene; whoever has not appeared yet comes first."""
    fresh = [p for p in cast if p.name not in seen]
    known = [p for p in cast if p.name in seen]
    crew = (rng.sample(fresh, len(fresh)) + rng.sample(known, len(known)))[:4]  # plan_life checked there are 4
    rng.shuffle(crew)
    return crew


def plan_life(
    faces: Sequence[FaceSource],
    stranger_photo: Path | None,
    *,
    seed: int = 0,
    days: int = 2,
    start_date: date | None = None,
    tz_offset_hours: int = 1,
) -> LifeSpec:
    """The whole life as data: recordings, lines, tasks and questions. Pure given its arguments."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    if len(faces) < MIN_PEOPLE:  # "who ..." questions need four different people to choose from
        raise ValueError(f"need face folders for at least {MIN_PEOPLE} people, found {len(faces)}")
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=tz_offset_hours))
    first_day = start_date or DEFAULT_START

    voices = list(COMPANION_VOICES)
    rng.shuffle(voices)
    cast = [_person_from(src, voices[i % len(voices)]) for i, src in enumerate(faces)]
    stranger = Person(STRANGER, "a stranger", stranger_photo, (), STRANGER_VOICE, known=False) if stranger_photo else None
    decks = _Decks(*(_Deck(rng, pool) for pool in (GROCERIES, LABELS, BRINGABLES, CALLEES)))
    habit = rng.choice(SLOTS[3].places)  # the wearer's evening routine...
    off_day = rng.randrange(2, days) if days >= 3 else None  # ...broken once in a longer life, never tied
    container_only = (rng.randrange(days), rng.choice((1, 2)))  # (day, scene) whose time/place is only in the mp4

    recordings: list[RecordingSpec] = []
    tasks: list[Task] = []
    seen: dict[str, Person] = {}
    for d in range(days):
        day = first_day + timedelta(days=d)
        crew = _pick_crew(rng, cast, seen)
        evening = habit if d != off_day else rng.choice([k for k in SLOTS[3].places if k != habit])
        for index, scene in enumerate(_script_day(rng, day, crew, stranger, decks, evening)):
            place = PLACES[scene.place]
            start = _random_start(rng, day, scene.slot, tz)
            file = f"media/day{d + 1}/{start:%H%M}_{place.key}.mp4"
            lines, end = _lay_out_lines(start, scene.said)
            present = [scene.companion] + ([stranger] if stranger and any(s == STRANGER for s, _ in scene.said) else [])
            seen.update((p.name, p) for p in present)
            recordings.append(
                RecordingSpec(
                    file, "video", d + 1, scene.slot.name, start, end, place, tuple(p.name for p in present), lines,
                    place.sign, tuple(label.upper() for label in scene.labels), DEVICE, (d, index) != container_only,
                )
            )  # fmt: skip
            tasks.append(Task(scene.task[0], scene.companion.name, scene.task[1], file))
        if d == 0:
            recordings.append(_snapshot(rng, recordings[-1]))

    life = LifeSpec(None, seed, days, first_day, tz, seen, recordings, tasks)
    life.questions = _ask(life, rng)
    return life


def _snapshot(rng: random.Random, after: RecordingSpec) -> RecordingSpec:
    """The life's one still photo: the wearer snaps the sign of the place just visited."""
    shot = after.end + timedelta(seconds=rng.randint(30, 240))
    return RecordingSpec(
        f"media/day{after.day}/{shot:%H%M}_{after.place.key}.jpg", "photo", after.day, after.slot, shot, shot,
        after.place, (), (), after.place.sign, (), PHOTO_DEVICE, True,
    )  # fmt: skip


def _random_start(rng: random.Random, day: date, slot: Slot, tz: timezone) -> datetime:
    lo = datetime.combine(day, slot.earliest, tz)
    window = (datetime.combine(day, slot.latest, tz) - lo).total_seconds()
    return lo + timedelta(seconds=rng.randrange(int(window)))


# -- the world: questions -------------------------------------------------------------------------

QUESTIONS_PER_TYPE = 10  # x5 types: 40+ questions from a life of two days or more
OPEN_SHARE = 0.2  # share of the questions that could be open which are asked without choices
# What the parts of a day mean in questions, as hours [start, end). A question naming a part of a day
# is only asked when exactly one scene of that day falls inside it: the words overlap ("afternoon"
# also covers a 12:30 lunch), and a question must never have two right answers.
DAY_PARTS: dict[str, tuple[float, float]] = {
    "morning": (5.0, 12.0), "midday": (11.5, 13.5), "lunch": (11.5, 14.5), "afternoon": (12.0, 18.0), "evening": (17.0, 23.0),
}  # fmt: skip


def _choices(rng: random.Random, answer: str, candidates: Iterable[str], fallback: Iterable[str] = ()) -> dict[str, str]:
    """Four options: the answer and three distractors that occur in the life (the world pool if short)."""
    pool = sorted(set(candidates) - {answer})
    rng.shuffle(pool)
    if len(pool) < 3:
        extra = sorted(set(fallback) - {answer} - set(pool))
        rng.shuffle(extra)
        pool += extra
    if len(pool) < 3:
        raise ValueError(f"not enough distinct options for {answer!r}")
    options = [answer] + pool[:3]
    rng.shuffle(options)
    return dict(zip("ABCD", options))


def _span(rec: RecordingSpec) -> tuple[datetime, datetime]:
    return (rec.start, rec.end)


def _hours(moment: datetime) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def _in_part(moment: datetime, part: str) -> bool:
    start, end = DAY_PARTS[part]
    return start <= _hours(moment) < end


def _describes(label: str, moment: datetime) -> bool:
    """Whether a time label ("Tuesday midday") is true of a moment: such a label is never a distractor."""
    weekday, part = label.split(" ", 1)
    return f"{moment:%A}" == weekday and _in_part(moment, part)


def _items_in(text: str, pool: Iterable[str]) -> set[str]:
    return {item for item in pool if re.search(rf"\b{re.escape(item)}\b", text.lower())}


@dataclass(frozen=True)
class _Draft:
    """A question before it is numbered and given its options."""

    type: str
    text: str
    answer: str
    evidence: tuple[RecordingSpec, ...]
    choice_kind: str
    options: tuple[str, ...] = ()  # candidates for distractors: things that occur in the life
    fallback: tuple[str, ...] = ()  # the world's pool, when the life alone has too few
    asked: datetime | None = None  # None: the evening of the last day
    open_ok: bool = False  # the answer is a name, place or item, which a free-text answer can be checked for

    @property
    def choosable(self) -> bool:
        """Enough distinct wrong options for four choices (a one-day life has few times to offer)."""
        return len(set(self.options) | set(self.fallback) - {self.answer}) >= 3


class _Asker:
    """Every question the world can answer uniquely, one method per template, each drawn over all its instances."""

    def __init__(self, life: LifeSpec) -> None:
        self.life = life
        self.videos = life.videos
        self.by_file = {r.file: r for r in self.videos}
        last_day = life.start_date + timedelta(days=life.days - 1)
        self.asked = datetime.combine(last_day, QUERY_CLOCK, life.tz)
        self.people = tuple(sorted({life.people[p].display for r in self.videos for p in r.people if life.people[p].known}))
        self.all_people = tuple(p.display for p in life.companions)
        self.places = tuple(sorted({r.place.name for r in self.videos}))
        self.all_places = tuple(p.name for p in PLACES.values())
        spoken = " ".join(line.text for r in self.videos for line in r.lines)
        # Groceries requested, bought or seen on a label.
        self.groceries = tuple(sorted(_items_in(spoken, GROCERIES) | {label.lower() for r in self.videos for label in r.labels}))
        self.all_groceries = GROCERIES + LABELS
        self.phrases = tuple(sorted({t.phrase for t in life.tasks}))
        self.days = sorted({r.start.date() for r in self.videos})

    # -- helpers ------------------------------------------------------------------------------

    def name(self, person: str) -> str:
        return self.life.people[person].display

    def companion(self, rec: RecordingSpec) -> str | None:
        """The known person in a scene (the stranger is nobody's answer)."""
        return next((self.name(p) for p in rec.people if self.life.people[p].known), None)

    def rec(self, task: Task) -> RecordingSpec:
        return self.by_file[task.recording]

    def heard(self, kind: str) -> list[Task]:
        return [t for t in self.life.tasks if t.kind == kind]

    def on_day(self, task: Task) -> str:
        """' on Monday' when the person asked this kind of thing more than once, so there is one answer."""
        twins = [t for t in self.life.tasks if t.kind == task.kind and t.person == task.person]
        return f" on {self.rec(task).start:%A}" if len(twins) > 1 else ""

    def scenes(self, day: date, part: str) -> list[RecordingSpec]:
        """Every recording (the photo too) of a day inside a part of it."""
        return [r for r in self.life.recordings if r.start.date() == day and _in_part(r.start, part)]

    def time_options(self, answer: RecordingSpec, asked: datetime) -> tuple[str, ...]:
        return tuple(r.time_label for r in self.videos if r.start < asked and not _describes(r.time_label, answer.start))

    @staticmethod
    def at(place: Place) -> str:
        return "at home" if place.key == "home" else f"at {place.name}"

    @staticmethod
    def request(task: Task, past: bool = True) -> str:
        """How a question names a request: "reminded me to call the bank" (or "remind me ..." after "did")."""
        verb = ("reminded" if past else "remind") if task.kind == "call" else ("asked" if past else "ask")
        return f"{verb} me to {task.kind} {task.what}"

    def place_draft(self, kind: str, text: str, rec: RecordingSpec) -> _Draft:
        """A "where" question answered by the place of one recording."""
        return _Draft(kind, text, rec.place.name, (rec,), "place", self.places, self.all_places, open_ok=True)

    # -- RelationMap --------------------------------------------------------------------------

    def who_asked(self) -> list[_Draft]:
        return [
            _Draft("RelationMap", f"Who {self.request(t)}?", self.name(t.person), (self.rec(t),), "person", self.people,
                   self.all_people, open_ok=True)
            for t in self.life.tasks if t.kind != "plan"
        ]  # fmt: skip

    def who_was_there(self) -> list[_Draft]:
        drafts = []
        for rec in self.videos:
            who = self.companion(rec)
            if who:
                text = f"Who was with me {self.at(rec.place)} on {rec.start:%A}?"
                drafts.append(_Draft("RelationMap", text, who, (rec,), "person", self.people, self.all_people, open_ok=True))
        return drafts

    def who_in_part(self) -> list[_Draft]:
        wording = {"morning": "Who did I see on {day} morning?", "lunch": "Who was with me at lunch on {day}?",
                   "evening": "Who did I see on {day} evening?"}  # fmt: skip
        drafts = []
        for day in self.days:
            for part, template in wording.items():
                seen = [r for r in self.scenes(day, part) if r.kind == "video"]
                if len(seen) == 1 and (who := self.companion(seen[0])):
                    text = template.format(day=f"{day:%A}")
                    drafts.append(_Draft("RelationMap", text, who, (seen[0],), "person", self.people, self.all_people, open_ok=True))
        return drafts

    def who_said_plan(self) -> list[_Draft]:
        plans = self.heard("plan")
        drafts = []
        for t in plans:
            place = t.what.split(" at ", 1)[1].split(" on ", 1)[0]
            if sum(place in other.what for other in plans) == 1:  # the quote names one plan only
                drafts.append(_Draft("RelationMap", f'Who said "let\'s meet at {place}"?', self.name(t.person), (self.rec(t),),
                                     "person", self.people, self.all_people))  # fmt: skip
        return drafts

    def who_last_time(self) -> list[_Draft]:
        drafts = []
        for name in self.places:
            latest = [r for r in self.videos if r.place.name == name][-1]
            who = self.companion(latest)
            place = latest.place
            went = "was at home" if place.key == "home" else f"went to {place.name}"
            if who:
                drafts.append(_Draft("RelationMap", f"Who was with me the last time I {went}?", who, (latest,), "person",
                                     self.people, self.all_people))  # fmt: skip
        return drafts

    # -- TaskMaster ---------------------------------------------------------------------------

    def buy_this_morning(self) -> list[_Draft]:
        drafts = []
        for t in self.heard("buy"):
            rec = self.rec(t)
            asked = datetime.combine(rec.start.date(), clock(10, 30), self.life.tz)
            drafts.append(_Draft("TaskMaster", f"What did {self.name(t.person)} ask me to buy this morning?", t.what, (rec,),
                                 "item", self.groceries, self.all_groceries, asked, open_ok=True))  # fmt: skip
        return drafts

    def what_asked(self) -> list[_Draft]:
        bring = tuple(t.what for t in self.heard("bring"))
        drafts = []
        for t in self.heard("buy") + self.heard("bring"):
            options = self.groceries if t.kind == "buy" else bring
            text = f"What did {self.name(t.person)} ask me to {t.kind}{self.on_day(t)}?"
            drafts.append(_Draft("TaskMaster", text, t.what, (self.rec(t),), "item", options, self.groceries, open_ok=True))
        return drafts

    def what_to_do(self) -> list[_Draft]:
        drafts = []
        for t in self.heard("call") + self.heard("plan"):
            person = self.name(t.person)
            text = f"What did {person} remind me to do{self.on_day(t)}?" if t.kind == "call" else f"What did I plan with {person}{self.on_day(t)}?"
            drafts.append(_Draft("TaskMaster", text, t.phrase, (self.rec(t),), "task", self.phrases))
        return drafts

    def where_to_meet(self) -> list[_Draft]:
        plans = self.heard("plan")
        options = tuple(sorted(set(self.places) | {t.what.split(" at ", 1)[1].split(" on ", 1)[0] for t in plans}))
        drafts = []
        for t in plans:
            place = t.what.split(" at ", 1)[1].split(" on ", 1)[0]
            drafts.append(_Draft("TaskMaster", f"Where did {self.name(t.person)} suggest we meet{self.on_day(t)}?", place,
                                 (self.rec(t),), "place", options, self.all_places, open_ok=True))  # fmt: skip
        return drafts

    def asked_that_day(self) -> list[_Draft]:
        """"What was I asked to bring on Tuesday?": one request of each kind a day, so the day is enough."""
        wording = {"buy": "What was I asked to buy on {day}?", "bring": "What was I asked to bring on {day}?",
                   "call": "What was I reminded to do on {day}?"}  # fmt: skip
        drafts = []
        for t in self.life.tasks:
            if t.kind not in wording:
                continue
            text = wording[t.kind].format(day=f"{self.rec(t).start:%A}")
            if t.kind == "call":
                drafts.append(_Draft("TaskMaster", text, t.phrase, (self.rec(t),), "task", self.phrases))
            else:
                drafts.append(_Draft("TaskMaster", text, t.what, (self.rec(t),), "item", self.groceries, open_ok=True))
        return drafts

    # -- EventRecall --------------------------------------------------------------------------

    def where_when_asked(self) -> list[_Draft]:
        return [
            self.place_draft("EventRecall", f"Where was I when {self.name(t.person)} {self.request(t)}?", self.rec(t))
            for t in self.life.tasks if t.kind != "plan"
        ]  # fmt: skip

    def where_in_part(self) -> list[_Draft]:
        wording = {"morning": "Where was I on {day} morning?", "lunch": "Where was I at lunch on {day}?",
                   "evening": "Where was I on {day} evening?"}  # fmt: skip
        drafts = []
        for day in self.days:
            for part, template in wording.items():
                found = self.scenes(day, part)
                if found and len({r.place.key for r in found}) == 1:
                    drafts.append(self.place_draft("EventRecall", template.format(day=f"{day:%A}"), found[0]))
            after_lunch = [r for r in self.videos if r.start.date() == day and _hours(r.start) >= DAY_PARTS["lunch"][1]]
            if after_lunch:
                text = f"Which place did I go to first after lunch on {day:%A}?"
                drafts.append(self.place_draft("EventRecall", text, min(after_lunch, key=lambda r: r.start)))
        return drafts

    def when_last(self, rng: random.Random) -> list[_Draft]:
        """The latest visit before the question; asked early on the last visit's day, that is the visit before."""
        drafts = []
        for name in self.places:
            visits = [r for r in self.videos if r.place.name == name]
            asked = self.asked
            if len(visits) > 1 and rng.random() < 0.5:
                asked = datetime.combine(visits[-1].start.date(), clock(6, 30), self.life.tz)
                visits = [r for r in visits if r.start < asked]
            latest = visits[-1]
            text = "When was I last at home?" if latest.place.key == "home" else f"When did I last go to {name}?"
            drafts.append(_Draft("EventRecall", text, latest.time_label, (latest,), "time", self.time_options(latest, asked),
                                 asked=asked))  # fmt: skip
        return drafts

    def what_time(self) -> list[_Draft]:
        drafts = []
        for rec in self.videos:
            if rec.place.key == "home":
                continue  # "getting home" is not what the morning scene is
            answer = f"{rec.start:%H:%M}"
            near = 5 * 60  # a distractor minutes away would make the answer depend on rounding
            options = tuple(f"{r.start:%H:%M}" for r in self.videos if abs(_hours(r.start) - _hours(rec.start)) * 3600 > near)
            drafts.append(_Draft("EventRecall", f"What time did I get to {rec.place.name} on {rec.start:%A}?", answer, (rec,),
                                 "clock", options))  # fmt: skip
        return drafts

    def when_asked(self) -> list[_Draft]:
        return [
            _Draft("EventRecall", f"When did {self.name(t.person)} {self.request(t, past=False)}?",
                   self.rec(t).time_label, (self.rec(t),), "time", self.time_options(self.rec(t), self.asked))
            for t in self.life.tasks if t.kind != "plan"
        ]  # fmt: skip

    # -- EntityLog ----------------------------------------------------------------------------

    def label_where(self) -> list[_Draft]:
        return [self.place_draft("EntityLog", f'Where did I see the "{label}" label?', r) for r in self.videos for label in r.labels]

    def label_which(self) -> list[_Draft]:
        drafts = []
        for rec in self.videos:
            for label in rec.labels[:1]:
                where = f"in the kitchen at home on {rec.start:%A} morning" if rec.place.key == "home" else f"at {rec.place.name} on {rec.start:%A}"
                drafts.append(_Draft("EntityLog", f"Which product label did I see {where}?", label.lower(), (rec,), "item",
                                     self.groceries, self.all_groceries))  # fmt: skip
        return drafts

    def asked_for(self, rng: random.Random) -> list[_Draft]:
        """What the wearer asked for at the counter; the other options are things of other days (a one-day
        life has none, so it is not asked there)."""
        drafts = []
        for rec in self.videos:
            said = sorted(_items_in(" ".join(line.text for line in rec.lines if line.speaker == WEARER), GROCERIES))
            if rec.slot != "afternoon" or not said:
                continue
            day_text = " ".join(line.text for r in self.videos if r.day == rec.day for line in r.lines)
            that_day = _items_in(day_text, GROCERIES) | {label.lower() for r in self.videos if r.day == rec.day for label in r.labels}
            options = tuple(g for g in self.groceries if g not in that_day)
            drafts.append(_Draft("EntityLog", f"Which of these did I ask for at {rec.place.name} on {rec.start:%A}?",
                                 rng.choice(said), (rec,), "item", options))  # fmt: skip
        return drafts

    # -- HabitInsight -------------------------------------------------------------------------

    def how_many(self, rng: random.Random) -> list[_Draft]:
        """Visits to a place, or meetings with a person: one scene is one occasion (the photo joins its visit)."""
        drafts = []
        for name in self.places:
            visits = tuple(r for r in self.videos if r.place.name == name)
            text = "How many times was I at home?" if visits[0].place.key == "home" else f"How many times did I go to {name}?"
            drafts.append(self._count(rng, text, visits))
        for person in self.people:
            met = tuple(r for r in self.videos if any(self.name(p) == person for p in r.people))
            drafts.append(self._count(rng, f"How many times did I see {person}?", met))
        return drafts

    @staticmethod
    def _count(rng: random.Random, text: str, occasions: tuple[RecordingSpec, ...]) -> _Draft:
        low = max(1, len(occasions) - rng.randint(0, 3))
        return _Draft("HabitInsight", text, str(len(occasions)), occasions, "count", tuple(str(n) for n in range(low, low + 4)))

    def usual_place(self) -> list[_Draft]:
        """Where the wearer goes on most days at some time of day, when one place clearly leads."""
        wording = {"evening": "Where do I usually go in the evening?", "morning": "Where am I usually in the morning?",
                   "lunch": "Where do I usually have lunch?"}  # fmt: skip
        drafts = []
        for part, text in wording.items():
            days: dict[str, set[date]] = {}
            for rec in self.videos:
                if _in_part(rec.start, part):
                    days.setdefault(rec.place.name, set()).add(rec.start.date())
            ranked = sorted(days.values(), key=len, reverse=True)
            if not ranked or (len(ranked) > 1 and len(ranked[0]) == len(ranked[1])):
                continue  # a tie is no habit
            best = max(days, key=lambda k: len(days[k]))
            evidence = tuple(r for r in self.videos if r.place.name == best and _in_part(r.start, part))
            drafts.append(_Draft("HabitInsight", text, best, evidence, "place", self.places, self.all_places, open_ok=True))
        return drafts

    def templates(self, rng: random.Random) -> dict[str, list[list[_Draft]]]:
        """Every template's drafts, by question type."""
        return {
            "RelationMap": [self.who_asked(), self.who_was_there(), self.who_in_part(), self.who_said_plan(), self.who_last_time()],
            "TaskMaster": [self.buy_this_morning(), self.what_asked(), self.what_to_do(), self.where_to_meet(), self.asked_that_day()],
            "EventRecall": [self.where_when_asked(), self.where_in_part(), self.when_last(rng), self.what_time(), self.when_asked()],
            "EntityLog": [self.label_where(), self.label_which(), self.asked_for(rng)],
            "HabitInsight": [self.how_many(rng), self.usual_place()],
        }


def _draw(rng: random.Random, templates: list[list[_Draft]], limit: int) -> list[_Draft]:
    """Round-robin over the templates (each shuffled), so every kind of question is asked; no text twice."""
    pools = [rng.sample(usable, len(usable)) for drafts in templates if (usable := [d for d in drafts if d.choosable])]
    drawn: list[_Draft] = []
    texts: set[str] = set()
    while pools and len(drawn) < limit:
        for pool in pools:
            while pool:
                draft = pool.pop()
                if draft.text not in texts:
                    drawn.append(draft)
                    texts.add(draft.text)
                    break
            if len(drawn) == limit:
                break
        pools = [pool for pool in pools if pool]
    return drawn


def _ask(life: LifeSpec, rng: random.Random) -> list[Question]:
    """Questions with answers read off the world; distractors are other people/places/items/times of the life."""
    asker = _Asker(life)
    drafts = [d for kind, templates in asker.templates(rng).items() for d in _draw(rng, templates, QUESTIONS_PER_TYPE)]
    open_ones = {id(d) for d in drafts if d.open_ok and rng.random() < OPEN_SHARE}
    if not open_ones:  # at least one open question, whatever the draw
        open_ones = {id(next(d for d in drafts if d.open_ok))}
    questions = []
    for number, d in enumerate(drafts, 1):
        choices = None if id(d) in open_ones else _choices(rng, d.answer, d.options, d.fallback)
        spans = tuple(_span(r) for r in d.evidence)
        questions.append(Question(f"q{number:03d}", d.type, d.text, d.asked or asker.asked, d.answer, spans, choices, d.choice_kind))
    return questions


# -- rendering: pictures --------------------------------------------------------------------------

SIGN_FONT = cv2.FONT_HERSHEY_DUPLEX
SIGN_THICKNESS = 3
SIGN_TEXT_HEIGHT = 44  # px at 640 width; OCR needs >= ~30
SIGN_MAX_WIDTH = 600
SIGN_TOP = 12
LABEL_FONT = cv2.FONT_HERSHEY_DUPLEX
FACE_HEIGHT = 140  # px of the detected face box in a one-companion scene
FACE_HEIGHT_PAIR = 120  # two faces side by side need a little less
PORTRAIT_MARGIN = (0.40, 0.45, 0.35)  # side, top, bottom: a head-and-shoulders crop around the face box


def sign_scale(text: str) -> float:
    """Font scale for a sign: as tall as SIGN_TEXT_HEIGHT, narrower than the frame."""
    (w, h), _ = cv2.getTextSize(text, SIGN_FONT, 1.0, SIGN_THICKNESS)
    return min(SIGN_TEXT_HEIGHT / h, SIGN_MAX_WIDTH / w)


def sign_text_size(text: str) -> tuple[int, int]:
    """(width, height) in pixels of the sign's text as drawn, at 640 px frame width."""
    (w, h), _ = cv2.getTextSize(text, SIGN_FONT, sign_scale(text), SIGN_THICKNESS)
    return w, h


def draw_sign(frame: np.ndarray, text: str) -> tuple[int, int, int, int]:
    """A white panel with black capitals at the top centre; returns the panel box (x0, y0, x1, y1)."""
    (w, h), base = cv2.getTextSize(text, SIGN_FONT, sign_scale(text), SIGN_THICKNESS)
    pad = 12
    x0, y0 = (WIDTH - w) // 2 - pad, SIGN_TOP
    x1, y1 = x0 + w + 2 * pad, y0 + h + base + 2 * pad
    cv2.rectangle(frame, (x0 - 4, y0 - 4), (x1 + 4, y1 + 4), (30, 30, 30), -1)  # frame around the board
    cv2.rectangle(frame, (x0, y0), (x1, y1), (255, 255, 255), -1)
    cv2.putText(frame, text, (x0 + pad, y0 + pad + h), SIGN_FONT, sign_scale(text), (0, 0, 0), SIGN_THICKNESS, cv2.LINE_AA)
    return x0, y0, x1, y1


def draw_label_box(frame: np.ndarray, text: str, box: tuple[int, int, int, int]) -> None:
    """A product box with its name in capitals, one word a line, as large as the box allows."""
    x0, y0, x1, y1 = box
    cv2.rectangle(frame, (x0, y0), (x1, y1), (40, 90, 200), -1)
    words = text.split()
    inner_w = x1 - x0 - 20
    scale = min(1.3, min(inner_w / cv2.getTextSize(w, LABEL_FONT, 1.0, 2)[0][0] for w in words))
    line_h = cv2.getTextSize("X", LABEL_FONT, scale, 2)[0][1]
    panel_h = len(words) * line_h + (len(words) + 1) * 12
    py0 = y0 + 16
    cv2.rectangle(frame, (x0 + 6, py0), (x1 - 6, py0 + panel_h), (255, 255, 255), -1)
    y = py0 + 12 + line_h
    for word in words:
        tw = cv2.getTextSize(word, LABEL_FONT, scale, 2)[0][0]
        cv2.putText(frame, word, (x0 + (x1 - x0 - tw) // 2, y), LABEL_FONT, scale, (0, 0, 0), 2, cv2.LINE_AA)
        y += line_h + 12


def draw_props(frame: np.ndarray, kind: str) -> None:
    """Simple shapes that make each kind of place look different (and no text: OCR sees only signs)."""
    floor_y = 280
    if kind == "park":
        cv2.rectangle(frame, (0, 200), (WIDTH, HEIGHT), (70, 160, 70), -1)
        for x in (60, 200, 330):
            cv2.rectangle(frame, (x - 8, 170), (x + 8, 240), (40, 70, 110), -1)
            cv2.circle(frame, (x, 150), 45, (40, 130, 40), -1)
        return
    if kind == "pool":
        cv2.rectangle(frame, (0, 220), (WIDTH, HEIGHT), (200, 140, 30), -1)
        for y in (250, 290, 330):
            cv2.line(frame, (0, y), (WIDTH, y), (240, 240, 240), 3)
        return
    cv2.rectangle(frame, (0, floor_y), (WIDTH, HEIGHT), tuple(int(c * 0.6) for c in frame[0, 0]), -1)
    if kind == "kitchen":
        cv2.rectangle(frame, (0, 230), (350, 290), (90, 120, 150), -1)  # counter
        for x in (20, 120, 220):
            cv2.rectangle(frame, (x, 100), (x + 80, 170), (150, 180, 200), -1)  # cupboards
            cv2.rectangle(frame, (x, 100), (x + 80, 170), (80, 100, 120), 2)
    elif kind in ("cafe", "bar"):
        for x in (70, 220):
            cv2.ellipse(frame, (x, 250), (60, 18), 0, 0, 360, (60, 80, 110), -1)
            cv2.line(frame, (x, 265), (x, 320), (50, 60, 80), 6)
            cv2.circle(frame, (x - 15, 238), 10, (250, 250, 250), -1)
        if kind == "bar":
            for x in range(30, 330, 60):
                cv2.ellipse(frame, (x, 150), (24, 12), 0, 0, 360, (60, 140, 200), -1)
    elif kind == "office":
        cv2.rectangle(frame, (20, 230), (330, 250), (80, 80, 80), -1)
        cv2.rectangle(frame, (110, 150), (230, 225), (40, 40, 40), -1)
        cv2.rectangle(frame, (118, 158), (222, 217), (200, 160, 90), -1)
    elif kind == "market":
        for y in (130, 200, 260):
            cv2.rectangle(frame, (0, y), (WIDTH, y + 8), (60, 60, 60), -1)
        rng = random.Random(kind)  # fixed stock on the shelves
        for y in (100, 170, 230):
            for x in range(5, WIDTH, 28):
                cv2.rectangle(frame, (x, y), (x + 20, y + 28), tuple(rng.randrange(60, 230) for _ in range(3)), -1)
    elif kind == "gym":
        for x in (60, 220):
            cv2.line(frame, (x - 40, 300), (x + 40, 300), (30, 30, 30), 6)
            cv2.circle(frame, (x - 40, 300), 16, (20, 20, 20), -1)
            cv2.circle(frame, (x + 40, 300), 16, (20, 20, 20), -1)
        cv2.rectangle(frame, (20, 180), (330, 200), (50, 50, 160), -1)  # wall bar
    elif kind == "library":
        rng = random.Random(kind)
        for y in (110, 170, 230):
            cv2.rectangle(frame, (0, y + 50), (350, y + 56), (30, 50, 80), -1)
            for x in range(4, 350, 14):
                cv2.rectangle(frame, (x, y + 5), (x + 10, y + 50), tuple(rng.randrange(40, 220) for _ in range(3)), -1)


_DETECTOR_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _face_detector():  # type: ignore[no-untyped-def]
    import dlib  # lazily: only rendering needs it, and building the detector takes ~0.3 s

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=32)
def _face_box(photo: Path) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the largest face dlib finds; the central square if it finds none."""
    image = _read_image(photo)
    h, w = image.shape[:2]
    scale = min(1.0, 800 / max(h, w))  # big photos only slow the detector down
    try:
        small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), None, fx=scale, fy=scale)
        with _DETECTOR_LOCK:  # one dlib detector object is not safe to share between threads
            found = list(_face_detector()(small, 1))
    except ImportError:
        found = []
    if not found:
        side = min(h, w) // 2
        return (w - side) // 2, (h - side) // 2, side, side
    best = max(found, key=lambda r: r.width() * r.height())
    return (int(best.left() / scale), int(best.top() / scale), int(best.width() / scale), int(best.height() / scale))


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return image


@lru_cache(maxsize=32)
def portrait(photo: Path, face_height: int) -> np.ndarray:
    """A head-and-shoulders crop, scaled so that the detected face box is ``face_height`` px tall."""
    image = _read_image(photo)
    x, y, w, h = _face_box(photo)
    side, top, bottom = PORTRAIT_MARGIN
    x0, x1 = max(0, int(x - side * w)), min(image.shape[1], int(x + w + side * w))
    y0, y1 = max(0, int(y - top * h)), min(image.shape[0], int(y + h + bottom * h))
    scale = face_height / h
    crop = image[y0:y1, x0:x1]
    return cv2.resize(
        crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA
    )


def _paste(frame: np.ndarray, picture: np.ndarray, x: int, y: int) -> None:
    h = min(picture.shape[0], HEIGHT - y)
    w = min(picture.shape[1], WIDTH - x)
    frame[y : y + h, x : x + w] = picture[:h, :w]
    cv2.rectangle(frame, (x - 2, y - 2), (x + w + 1, y + h + 1), (250, 250, 250), 2)


def draw_scene(rec: RecordingSpec, people: dict[str, Person]) -> np.ndarray:
    """The one picture a recording shows for its whole length."""
    frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    frame[:] = rec.place.colour
    draw_props(frame, rec.place.kind)
    faces = [people[name] for name in rec.people if people[name].video_photo is not None]
    if len(faces) == 1:  # companion on the right; the left is free for props and a product
        _paste(frame, portrait(faces[0].video_photo, FACE_HEIGHT), 360, 100)  # type: ignore[arg-type]
        label_box = (40, 180, 200, 330)
    elif faces:  # stranger (cashier) left, companion centre, product on the right
        ordered = sorted(faces, key=lambda p: p.known)
        for person, x in zip(ordered, (10, 238)):
            _paste(frame, portrait(person.video_photo, FACE_HEIGHT_PAIR), x, 130)  # type: ignore[arg-type]
        label_box = (470, 150, 630, 330)
    else:
        label_box = (40, 180, 200, 330)
    for label in rec.labels[:1]:
        draw_label_box(frame, label, label_box)
    draw_sign(frame, rec.sign_text)
    return frame


# -- rendering: sound -----------------------------------------------------------------------------

SPEECH_SR = 22050  # what espeak-ng writes
SILENCE_THRESHOLD = 0.01


def synthesize(text: str, voice: str, rate: int = SPEECH_RATE) -> np.ndarray:
    """espeak-ng speech as float32 mono at SPEECH_SR, with its leading/trailing silence trimmed."""
    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-g", str(WORD_GAP), "--stdout", text], check=True, capture_output=True
    ).stdout
    with wave.open(io.BytesIO(out)) as wav:
        if wav.getframerate() != SPEECH_SR or wav.getsampwidth() != 2:
            raise RuntimeError(f"unexpected espeak-ng output: {wav.getframerate()} Hz, {8 * wav.getsampwidth()} bit")
        samples = np.frombuffer(wav.readframes(wav.getnframes()), np.int16).astype(np.float32) / 32768
    loud = np.flatnonzero(np.abs(samples) > SILENCE_THRESHOLD)
    if loud.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {text!r} with voice {voice}")
    margin = int(0.03 * SPEECH_SR)
    return samples[max(0, loud[0] - margin) : loud[-1] + margin]


# A head-worn microphone hears its wearer from ~10 cm and everyone else from a metre or more: by
# the inverse-square law that is 6-12 dB louder. Every line is first brought to the same speech
# level (espeak-ng voices differ by several dB), then everyone but the wearer is mixed quieter.
WEARER_RMS_DBFS = -17.0  # espeak-ng peaks run ~17 dB over its speech RMS: just under full scale
OTHERS_GAIN_DB = -7.0


def speech_track(rec: RecordingSpec, people: dict[str, Person]) -> np.ndarray:
    """The clip's audio: each line inside its slot, silence around; sped up if a voice runs long.

    Mixed as a head-worn microphone hears it: the wearer's lines louder than everyone else's.
    """
    track = np.zeros(round(rec.duration_s * SPEECH_SR), np.float32)
    for line in rec.lines:
        voice = WEARER_VOICE if line.speaker == WEARER else people[line.speaker].voice
        slot_s = (line.end - line.start).total_seconds()
        audio, rate = synthesize(line.text, voice), SPEECH_RATE
        while len(audio) > slot_s * SPEECH_SR and rate < 260:  # keep the world's timings true
            rate = int(rate * len(audio) / (slot_s * SPEECH_SR)) + 5
            audio = synthesize(line.text, voice, rate)
        audio = audio[: int(slot_s * SPEECH_SR)]
        at = int((line.start - rec.start).total_seconds() * SPEECH_SR)
        level_db = WEARER_RMS_DBFS + (0.0 if line.speaker == WEARER else OTHERS_GAIN_DB)
        rms = float(np.sqrt(np.mean(audio[np.abs(audio) > SILENCE_THRESHOLD] ** 2)))  # of the speech, not its pauses
        track[at : at + len(audio)] += audio * (10 ** (level_db / 20) / rms)
    return np.clip(track * 0.9, -1.0, 1.0)


def _write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SPEECH_SR)
        wav.writeframes((samples * 32767).astype(np.int16).tobytes())


# -- rendering: containers ------------------------------------------------------------------------

AUDIO_RATE = 16000  # AAC in the mp4; what speech recognisers want anyway


def iso6709(lat: float, lon: float) -> str:
    return f"{lat:+08.4f}{lon:+09.4f}/"


def mux(frame_png: Path, wav: Path, out: Path, rec: RecordingSpec) -> None:
    """One still picture for the clip's length + the speech track -> H.264/AAC mp4 with time and place tags."""
    creation = rec.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = [
        "ffmpeg", "-y", "-hide_banner", "-loglevel", "error",
        "-loop", "1", "-framerate", str(FPS), "-i", str(frame_png),
        "-i", str(wav),
        "-t", f"{rec.duration_s:.3f}", "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-c:a", "aac", "-b:a", "64k", "-ar", str(AUDIO_RATE), "-ac", "1",
        "-metadata", f"creation_time={creation}",
        "-metadata", f"location={iso6709(rec.place.lat, rec.place.lon)}",
        # use_metadata_tags keeps our keys in an mdta box as well; mvhd/©xyz carry them for every reader.
        "-movflags", "+faststart+use_metadata_tags",
        str(out),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {result.stderr.strip()[-500:]}")


def render_recording(rec: RecordingSpec, people: dict[str, Person], out_dir: Path, scratch: Path) -> None:
    target = out_dir / rec.file
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = draw_scene(rec, people)
    if rec.kind == "photo":
        cv2.imwrite(str(target), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
        return
    png, wav = scratch / "frame.png", scratch / "speech.wav"
    cv2.imwrite(str(png), frame)
    _write_wav(wav, speech_track(rec, people))
    mux(png, wav, target, rec)


def write_people(life: LifeSpec, out_dir: Path) -> None:
    """people/NAME/*.jpg for every enrolled companion who appears; never the stranger."""
    for person in life.companions:
        folder = out_dir / "people" / person.name
        folder.mkdir(parents=True, exist_ok=True)
        for photo in person.enrol_photos:
            target = folder / f"{photo.stem}.jpg"
            if photo.suffix.lower() in (".jpg", ".jpeg"):
                shutil.copyfile(photo, target)
            else:
                cv2.imwrite(str(target), _read_image(photo), [cv2.IMWRITE_JPEG_QUALITY, 95])


def _check_tools() -> None:
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"lifegen needs {' and '.join(missing)} on PATH")


# -- public API -----------------------------------------------------------------------------------


def generate_life(
    out_dir: Path,
    *,
    faces_dir: Path,
    seed: int = 0,
    days: int = 2,
    start_date: date | None = None,
    tz_offset_hours: int = 1,
) -> LifeSpec:
    """Plan a life from ``seed`` and write it to ``out_dir`` (which must be empty or absent)."""
    _check_tools()
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; lifegen writes only into a fresh folder")
    faces, stranger = discover_faces(Path(faces_dir))
    life = plan_life(faces, stranger, seed=seed, days=days, start_date=start_date, tz_offset_hours=tz_offset_hours)
    life.out_dir = out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lifegen-") as tmp:
        # Recordings are independent and the work is in subprocesses, so threads use every core.
        def render(item: tuple[int, RecordingSpec]) -> None:
            scratch = Path(tmp) / str(item[0])
            scratch.mkdir()
            render_recording(item[1], life.people, out_dir, scratch)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(render, enumerate(life.recordings)))
    write_people(life, out_dir)
    (out_dir / "manifest.jsonl").write_text(life.manifest_text(), encoding="utf-8")
    (out_dir / "questions.jsonl").write_text(life.questions_text(), encoding="utf-8")
    return life


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lifegen", description="Generate a synthetic life folder.")
    parser.add_argument("out", type=Path, help="folder to write (must be empty or absent)")
    parser.add_argument("--faces", type=Path, required=True, help="face photos: train/NAME/* and lin-manuel-miranda.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--start-date", type=date.fromisoformat, default=None, help="first day, YYYY-MM-DD")
    parser.add_argument("--tz", type=int, default=1, help="UTC offset of the life in hours")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        life = generate_life(
            args.out, faces_dir=args.faces, seed=args.seed, days=args.days, start_date=args.start_date, tz_offset_hours=args.tz
        )
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"lifegen: {exc}", file=sys.stderr)
        return 1
    seconds = sum(r.duration_s for r in life.videos)
    print(
        f"wrote {args.out}: {len(life.videos)} videos ({seconds:.0f} s), "
        f"{len(life.recordings) - len(life.videos)} photo, {len(life.companions)} people, "
        f"{len(life.questions)} questions in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
