"""A held-out life for the life benchmark: four days in Denver, written apart from ``lifegen``.

``pipelines.lifegen`` makes the lives egomem was tuned on. This generator tells a different story in
natural wording so the benchmark can measure whether egomem understands a life it has never seen:
Thursday to Sunday (UTC-07:00) of someone with a dog (Max), a job at Summit Labs, a sister (Nora), a
gym friend (Leo), a bike in repair, a barista who recommends a bakery, plans that change.

Two layers, as in ``lifegen``: the world (``plan_life``: pure data, seeded; every answer and evidence
span is read off it) and rendering (OpenCV scenes with real face photos and readable text, espeak-ng
speech, ffmpeg containers). Only the rendering helpers of ``lifegen`` are reused.

    python -m pipelines.lifegen2 OUT --faces ../shared/data/faces --seed 21
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

TZ = timezone(timedelta(hours=-7))  # Denver in February (MST)
FIRST_DAY = date(2026, 2, 19)  # a Thursday; the life runs Thursday to Sunday
DAYS = 4
GLASSES, PHONE = "glasses-02", "phone-02"
ME = "me"
ME_VOICE = "en-us+m3"
NONE = "none of these"
GPS_JITTER = 0.00022  # degrees: ~25 m north-south, ~19 m east-west at Denver's latitude
LEAD_S, TAIL_S, GAP_S = 0.5, 0.8, 0.35
SPEECH_WPM = 150


# -- the world: cast and places --------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    voice: str
    photo: str | None  # what the camera sees, relative to the faces folder; None: heard only
    enrol: tuple[str, ...] = ()  # photos the wearer labelled; empty: never enrolled
    role: str = ""


CAST: dict[str, Person] = {
    p.name: p
    for p in (
        Person("Marcus", "en-us+m5", "test/obama1.jpg", ("train/obama/obama.jpg", "train/obama/obama2.jpg"), "coworker"),
        Person("Nora", "en-gb+f3", "train/rose_leslie/img2.jpg", ("train/rose_leslie/img1.jpg",), "sister"),
        Person("Leo", "en-gb-x-rp+m2", "train/kit_harington/john2.jpeg", ("train/kit_harington/john1.jpeg",), "friend"),
        Person("Frank", "en-us+m1", "train/biden/biden.jpg", (), "bike shop owner"),  # introduces himself
        Person("Sam", "en-gb+m4", "train/alex_lacamoire/img1.jpg", (), "barista"),  # only ever addressed by name
        Person("Carlos", "en-us+m6", "lin-manuel-miranda.png", (), "new coworker"),  # introduces himself
        Person("Karen", "en-us+f2", None, (), "dentist receptionist"),  # heard on the phone only
        Person("Kim", "en-us+f4", None, (), "vet"),  # speaks off camera
        Person("baker", "en-gb+f2", None, (), "baker"),
        Person("cashier", "en-us+f5", None, (), "cashier"),
        Person("teller", "en-gb-x-rp+f4", None, (), "bank teller"),
    )
}
COMPANIONS = ("Leo", "Marcus", "Nora", "Sam", "Frank", "Carlos")  # the people with a face, for choices


@dataclass(frozen=True)
class Place:
    key: str
    name: str  # how the story names it
    kind: str  # the props drawn
    lat: float
    lon: float
    colour: tuple[int, int, int]  # BGR background
    sign: str | None  # None: never shows a sign


PLACES: dict[str, Place] = {
    p.key: p
    for p in (
        Place("home", "home", "kitchen", 39.7312, -104.9790, (200, 215, 225), None),
        Place("cafe", "Blue Bird Cafe", "cafe", 39.7403, -104.9801, (150, 190, 230), "BLUE BIRD CAFE"),
        Place("office", "Summit Labs", "office", 39.7508, -104.9966, (210, 200, 190), "SUMMIT LABS"),
        Place("gym", "Peak Gym", "gym", 39.7335, -104.9735, (120, 130, 160), "PEAK GYM"),
        Place("market", "Green Market", "market", 39.7371, -104.9689, (170, 220, 180), "GREEN MARKET"),
        Place("bikeshop", "Pedal Bike Shop", "bikeshop", 39.7452, -104.9872, (90, 150, 200), "PEDAL BIKE SHOP"),
        Place("bank", "First Bank", "bank", 39.7428, -104.9925, (200, 180, 150), "FIRST BANK"),
        Place("bakery", "Sunrise Bakery", "bakery", 39.7282, -104.9842, (140, 200, 240), None),  # named aloud only
        Place("vet", "Paws Vet Clinic", "vet", 39.7254, -104.9748, (230, 230, 200), "PAWS VET CLINIC"),
    )
}


# -- the world: data -------------------------------------------------------------------------------


@dataclass
class Fact:
    """Something the story establishes: the ground truth questions are read from."""

    kind: str  # plan, request, promise, purchase, price, quote, recommend, put, lent, instruction, seen
    key: str  # what it is about; a later fact with the same key updates an earlier one
    value: object
    who: str  # speaker (or ME for what the wearer reads)
    said: datetime
    span: tuple[datetime, datetime]
    target: datetime | None = None
    rec: Recording | None = None


@dataclass
class Line:
    speaker: str
    text: str
    start: datetime
    end: datetime


@dataclass
class Recording:
    index: int
    file: str
    kind: str  # video, audio, photo
    start: datetime
    place: Place | None  # where the wearer was; None when the story does not say
    in_view: tuple[str, ...] = ()
    lines: list[Line] = field(default_factory=list)
    sign: bool = False
    board: tuple[str, ...] = ()  # text in view besides the sign: menu, note, poster, receipt
    board_kind: str = ""
    meta: str = "manifest"  # manifest: time+GPS in the manifest; container: only in the file; nogps; nogps-container
    lat: float | None = None
    lon: float | None = None
    duration_s: float = 0.0
    facts: list[Fact] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=max(self.duration_s, 1.0))

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.start, self.end

    @property
    def day(self) -> int:
        return (self.start.date() - FIRST_DAY).days

    def manifest_line(self) -> dict[str, object]:
        line: dict[str, object] = {"file": self.file, "device": PHONE if self.kind != "video" else GLASSES}
        if self.meta in ("manifest", "nogps"):
            line["start"] = self.start.isoformat()
        if self.meta == "manifest" and self.lat is not None:
            line["lat"], line["lon"] = self.lat, self.lon
        return line


@dataclass
class Question:
    id: str
    type: str
    wordings: list[str]  # the question, then three paraphrases
    query_time: datetime
    answer: str
    choices: dict[str, str] | None
    evidence: list[tuple[datetime, datetime]]
    tags: frozenset[str] = frozenset()  # update, two-moment, none, future, seen, early, count, yes-no

    def record(self, wording: int = 0, suffix: str = "") -> dict[str, object]:
        out: dict[str, object] = {"id": self.id + suffix, "type": self.type, "question": self.wordings[wording]}
        out["query_time"] = self.query_time.isoformat()
        if self.choices is not None:
            out["choices"] = self.choices
        out["answer"] = self.answer
        out["evidence"] = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in self.evidence]
        out["tags"] = sorted(self.tags)
        return out


@dataclass
class Life:
    seed: int
    faces_dir: Path
    recordings: list[Recording]
    facts: list[Fact]
    questions: list[Question] = field(default_factory=list)

    def manifest_text(self) -> str:
        return "".join(json.dumps(r.manifest_line()) + "\n" for r in self.recordings)

    def questions_text(self) -> str:
        return "".join(json.dumps(q.record()) + "\n" for q in self.questions)

    def paraphrases_text(self) -> str:
        return "".join(json.dumps(q.record(i, f"-p{i}")) + "\n" for q in self.questions for i in (1, 2, 3))

    @property
    def duration_s(self) -> float:
        return sum(r.duration_s for r in self.recordings if r.kind != "photo")


# -- the world: spoken numbers ---------------------------------------------------------------------

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}


def words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    rest = n % 100
    return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + words(rest))


def cents(x: float) -> int:
    return round(x * 100)


def say_money(amount: float) -> str:
    dollars, c = divmod(cents(amount), 100)
    return f"{words(dollars)} dollars" + (f" {words(c)}" if c else "")


def money(amount: float) -> str:
    return f"${amount:.2f}" if cents(amount) % 100 else f"${amount:.0f}"


def when(t: datetime) -> str:
    hour = t.hour % 12 or 12
    clock = f"{hour}" if t.minute == 0 else f"{hour}:{t.minute:02d}"
    return f"{t:%A} at {clock} {'AM' if t.hour < 12 else 'PM'}"


def clock_about(t: datetime) -> str:
    rounded = t + timedelta(minutes=2.5)
    rounded -= timedelta(minutes=rounded.minute % 5, seconds=rounded.second, microseconds=rounded.microsecond)
    return f"around {rounded.hour % 12 or 12}:{rounded.minute:02d} {'AM' if rounded.hour < 12 else 'PM'}"


# -- the world: the script -------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    speaker: str
    text: str
    facts: tuple[tuple, ...] = ()  # (kind, key, value[, target (day, "HH:MM") or timedelta from now])


@dataclass(frozen=True)
class Scene:
    day: int
    at: str  # "HH:MM" before the seed's jitter
    place: str | None
    kind: str = "video"
    in_view: tuple[str, ...] = ()
    says: tuple[Say, ...] = ()
    sign: bool = False
    board: tuple[str, ...] = ()
    board_kind: str = ""
    board_facts: tuple[tuple, ...] = ()
    meta: str = "manifest"
    name: str = ""


def S(speaker: str, text: str, *facts: tuple) -> Say:
    return Say(speaker, text, facts)


def _prices(rng: random.Random) -> dict[str, float]:
    p: dict[str, float] = {
        "latte": rng.choice((5.25, 5.5, 5.75)),
        "cappuccino": 4.25,
        "muffin": 3.5,
        "dog_food": rng.choice((14.99, 16.49)),
        "apples": 4.5,
        "rice": rng.choice((3.25, 3.75)),
        "card": rng.choice((4.99, 5.99)),
        "batteries": 6.5,
        "bike_quote": 200.0,
        "bike_final": float(rng.choice((170, 180, 185))),
        "vet": float(rng.choice((65, 70, 85))),
        "bakery_sat": rng.choice((11.5, 12.25, 10.75)),
        "rolls": float(rng.choice((7, 8))),
        "milk_eggs": rng.choice((6.75, 7.25)),
    }
    p["market_thu"] = round(p["dog_food"] + p["apples"] + p["rice"], 2)
    p["market_fri"] = round(p["card"] + p["batteries"], 2)
    p["cafe_sat"] = round(p["latte"] + p["cappuccino"], 2)
    p["cafe_sun"] = round(p["latte"] + p["muffin"], 2)
    return p


def script(rng: random.Random) -> tuple[list[Scene], dict[str, float], str]:
    """The four days, scene by scene. Facts ride on the line (or board) that establishes them."""
    p = _prices(rng)
    pot = rng.choice(("red", "blue", "green"))
    m = {k: say_money(v) for k, v in p.items()}
    key_spot = f"under the {pot} flower pot"
    scenes = [
        # -- Thursday
        Scene(0, "07:40", None, "audio", meta="nogps", name="voice_memo", says=(
            S(ME, "Note to self. Max has his checkup at the vet on Saturday at ten.",
              ("plan", "vet", "Max's checkup at the vet", (2, "10:00"))),
            S(ME, "The dentist cleaning is on Tuesday at three.", ("plan", "dentist", "dentist cleaning", (5, "15:00"))),
            S(ME, "And I should call Mom this weekend."),
        )),
        Scene(0, "07:56", "home", name="kitchen", board=("PLUMBER", "FRIDAY 4 PM"), board_kind="note",
              board_facts=(("seen", "plumber", "the plumber", (1, "16:00")),), says=(
            S(ME, "Okay Max, breakfast time. Good boy."),
            S(ME, "Where are my sunglasses? Oh, next to the blue vase.", ("put", "sunglasses", "next to the blue vase")),
        )),
        Scene(0, "08:30", "cafe", in_view=("Sam",), sign=True, name="cafe",
              board=(f"LATTE {p['latte']:.2f}", f"CAPPUCCINO {p['cappuccino']:.2f}", f"MUFFIN {p['muffin']:.2f}"),
              board_kind="menu", says=(
            S("Sam", "Good morning! What can I get you today?"),
            S(ME, "A large latte, please.", ("purchase", "cafe", "a latte")),
            S("Sam", f"Sure. That's {m['latte']}.", ("price", "latte_thu", p["latte"])),
            S(ME, "Thanks, Sam. Hey, do you know a good bakery around here?"),
            S("Sam", "You should try Sunrise Bakery on Pine Street. Their cinnamon rolls are amazing.",
              ("recommend", "bakery", "Sunrise Bakery")),
            S(ME, "Nice, I'll check it out this weekend.", ("promise", "promise", "check out the bakery")),
            S("Sam", "Enjoy. They say it might snow on Saturday, so dress warm."),
        )),
        Scene(0, "09:04", "office", in_view=("Marcus",), sign=True, name="office", says=(
            S("Marcus", "Morning! Did you see the email about the client review?"),
            S(ME, "Yes. It's on Monday at two, right?", ("plan", "client_review", "the client review", (4, "14:00"))),
            S("Marcus", "Right. Could you send me the sales slides by Friday at noon?",
              ("request", "request", "the sales slides", (1, "12:00"))),
            S(ME, "Sure, I'll send you the slides tonight.", ("promise", "promise", "send Marcus the slides tonight")),
            S("Marcus", "Great. And let's do the team lunch on Friday at one, at the Blue Bird Cafe.",
              ("plan", "lunch_place", "at the Blue Bird Cafe", (1, "13:00"))),
        )),
        Scene(0, "17:46", "gym", in_view=("Leo",), sign=True, name="gym", says=(
            S("Leo", "Hey! Ready for leg day?"),
            S(ME, "Always. Hey Leo, are we still on for dinner?"),
            S("Leo", "Yes. Friday at seven, at the pizza place.", ("plan", "dinner", "dinner with Leo", (1, "19:00"))),
            S(ME, "Perfect. I'll book a table.", ("promise", "promise", "book a table")),
            S("Leo", "Thanks again for lending me your ladder. I'll give it back on Sunday.", ("lent", "lent", "my ladder")),
            S(ME, "No rush, I don't need it this week."),
        )),
        Scene(0, "18:38", "market", sign=True, name="market", says=(
            S(ME, "Okay, dog food, apples and rice. That's everything.",
              ("purchase", "market", ("dog food", "apples", "rice"))),
            S("cashier", f"Your total is {m['market_thu']}.", ("price", "market_thu", p["market_thu"])),
        )),
        Scene(0, "18:44", "market", "photo", name="receipt", board_kind="receipt",
              board=("GREEN MARKET", f"DOG FOOD {p['dog_food']:.2f}", f"APPLES {p['apples']:.2f}",
                     f"RICE {p['rice']:.2f}", f"TOTAL {p['market_thu']:.2f}"),
              board_facts=(("seen", "receipt_total", p["market_thu"]),)),
        # -- Friday
        Scene(1, "07:50", "home", in_view=("Nora",), name="home", says=(
            S("Nora", "Morning! I just stopped by on my way to work."),
            S(ME, "Good timing. I'm out on Sunday morning. Could you feed Max for me?",
              ("request", "request", "feed Max on Sunday morning")),
            S("Nora", "Of course. How do I get in?"),
            S(ME, f"I left the spare key {key_spot} by the door.", ("put", "key", key_spot)),
            S("Nora", "Got it. Oh, could you grab a birthday card for Mom on your way home?",
              ("request", "request", "a birthday card for Mom", (1, "20:00"))),
            S(ME, "Sure, I'll get one today."),
        )),
        Scene(1, "08:41", "bikeshop", in_view=("Frank",), sign=True, name="bike_shop", says=(
            S("Frank", "Hi, I'm Frank, I own the shop. What's wrong with the bike?"),
            S(ME, "The back brake is loose, and the chain keeps slipping."),
            S("Frank", "Okay. The repair will be around two hundred dollars.", ("quote", "bike_cost", p["bike_quote"])),
            S("Frank", "It should be ready by Saturday morning."),
            S(ME, "That's fine, let's do it."),
            S("Frank", "Great. I'll call you if anything changes."),
        )),
        Scene(1, "09:12", "office", in_view=("Marcus",), name="office", says=(
            S("Marcus", "Thanks for the slides last night, they look great."),
            S("Marcus", "Change of plan for lunch. The cafe is too busy on Fridays, so let's eat here at the office instead.",
              ("plan", "lunch_place", "at the office", (1, "13:00"))),
            S(ME, "Okay. Still at one?"),
            S("Marcus", "Yes, one o'clock. Carlos from the design team will join us."),
        )),
        Scene(1, "12:18", "bank", meta="container", name="bank", says=(
            S("teller", "Good afternoon. How can I help you?"),
            S(ME, "I'd like to deposit this check, please."),
            S("teller", "All done. Have a nice weekend."),
        )),
        Scene(1, "13:02", "office", in_view=("Marcus", "Carlos"), sign=True, name="team_lunch", says=(
            S("Carlos", "Hi, I'm Carlos. I just joined the design team."),
            S(ME, "Welcome, Carlos! How's your first week going?"),
            S("Carlos", "Busy, but good. Marcus says you know a good coffee place."),
            S(ME, "Try the Blue Bird Cafe. Ask for Sam, he makes the best latte."),
            S("Marcus", "By the way, the client review moved to Tuesday at ten.",
              ("plan", "client_review", "the client review", (5, "10:00"))),
            S(ME, "Tuesday at ten, got it."),
            S("Carlos", "Also, I'm selling a coffee table for twenty dollars, if anyone wants it."),
        )),
        Scene(1, "17:31", None, "audio", meta="nogps-container", name="phone_call", says=(
            S("Leo", "Hey, it's Leo. Bad news, Friday doesn't work for me anymore."),
            S("Leo", "Can we move dinner to Saturday at eight?", ("plan", "dinner", "dinner with Leo", (2, "20:00"))),
            S(ME, "No problem. Saturday at eight, at the pizza place."),
            S("Leo", "Perfect. I'll bring your ladder back then."),
        )),
        Scene(1, "18:12", "market", name="market", says=(
            S(ME, "Just this birthday card and a pack of batteries, please.",
              ("purchase", "market", ("a birthday card", "batteries"))),
            S("cashier", f"That's {m['market_fri']}.", ("price", "market_fri", p["market_fri"])),
        )),
        # -- Saturday
        Scene(2, "08:29", "bakery", name="bakery", board=("JAZZ NIGHT", "MARCH 6"), board_kind="poster",
              board_facts=(("seen", "poster", "a jazz night"),), says=(
            S("baker", "Good morning, welcome to Sunrise Bakery!"),
            S(ME, "Hi! My friend Sam says you make the best cinnamon rolls."),
            S(ME, "Two cinnamon rolls and a loaf of sourdough, please.",
              ("purchase", "bakery", ("cinnamon rolls", "a loaf of sourdough"))),
            S("baker", f"That's {m['bakery_sat']}.", ("price", "bakery_sat", p["bakery_sat"])),
            S(ME, "Thank you. Is that jazz night on the poster here?"),
            S("baker", "Yes, right here in the shop. You should come."),
        )),
        Scene(2, "09:52", "vet", sign=True, name="vet", says=(
            S("Kim", "Hi, I'm Doctor Kim. So this is Max!"),
            S(ME, "Yes, he's here for his checkup."),
            S("Kim", "He looks healthy. He'll need his booster shot in two weeks.",
              ("plan", "booster", "Max's booster shot", timedelta(days=14))),
            S("Kim", "Give him one tablet every morning with food.",
              ("instruction", "pill", "one tablet every morning, with food")),
            S(ME, "One tablet every morning, got it."),
            S("Kim", f"Today's visit comes to {m['vet']}.", ("price", "vet_bill", p["vet"])),
        )),
        Scene(2, "10:21", "home", "photo", name="note", board=("MAX", "1 TABLET", "EVERY MORNING"), board_kind="note",
              board_facts=(("seen", "pill", "one tablet every morning"),)),
        Scene(2, "10:44", "bank", sign=True, name="bank", says=(
            S(ME, "Hi, I need to take out some cash."),
            S("teller", "Sure, here you go. Anything else today?"),
            S(ME, "No, that's all, thanks."),
        )),
        Scene(2, "11:12", "bikeshop", in_view=("Frank", "Leo"), name="bike_pickup", says=(
            S("Frank", "Your bike is ready. New brake pads and a new chain."),
            S(ME, "Great. What do I owe you?"),
            S("Frank", f"It came to {m['bike_final']}, a bit less than I said.", ("price", "bike_cost", p["bike_final"])),
            S(ME, "Nice. Thanks, Frank."),
            S("Leo", "Looks good as new. Let's ride to the park tomorrow."),
            S(ME, "Sure, if it doesn't snow."),
        )),
        Scene(2, "15:03", "cafe", in_view=("Nora", "Sam"), name="cafe_with_nora", says=(
            S("Sam", "Your usual latte?"),
            S(ME, "Yes please, and a cappuccino for my sister.", ("purchase", "cafe", ("a latte", "a cappuccino"))),
            S("Sam", f"That's {m['cafe_sat']}.", ("price", "cafe_sat", p["cafe_sat"])),
            S("Karen", "Hi, this is Karen from the dentist's office, calling about your cleaning on Tuesday."),
            S(ME, "Oh, hi Karen. Could we move it to Wednesday at nine?"),
            S("Karen", "Sure, you're booked for Wednesday at nine.", ("plan", "dentist", "dentist cleaning", (6, "09:00"))),
            S("Nora", "Don't forget, I'm feeding Max tomorrow morning."),
            S(ME, "Right. I moved the key, by the way. It's in the mailbox now, not under the pot.",
              ("put", "key", "in the mailbox")),
            S("Nora", "In the mailbox, okay."),
        )),
        Scene(2, "17:34", "gym", in_view=("Leo",), meta="container", name="gym", says=(
            S("Leo", "Quick workout before dinner?"),
            S(ME, "Yes, just half an hour."),
            S("Leo", "See you at eight at the pizza place, then."),
        )),
        # -- Sunday
        Scene(3, "09:05", "gym", sign=True, name="gym", says=(
            S(ME, "Sunday morning and the gym is empty. Twenty minutes on the bike, then weights."),
            S(ME, "I left my water bottle in the car again.", ("put", "water bottle", "in the car")),
        )),
        Scene(3, "10:33", "bakery", in_view=("Leo",), name="bakery", says=(
            S("Leo", "So this is the Sunrise Bakery you keep talking about."),
            S(ME, "Yes. Two cinnamon rolls again, please.", ("purchase", "bakery", ("cinnamon rolls",))),
            S("baker", f"That's {m['rolls']}.", ("price", "rolls", p["rolls"])),
            S("Leo", "Thanks for dinner last night. Here's your ladder back."),
            S(ME, "Thanks, Leo."),
        )),
        Scene(3, "12:05", "home", in_view=("Nora",), name="home", says=(
            S("Nora", "I fed Max. The key was in the mailbox, like you said."),
            S(ME, "Thanks so much. Let's have dinner with Mom next Sunday."),
            S("Nora", "Good idea. I'll call her tonight.", ("promise", "promise", "call Mom tonight")),
        )),
        Scene(3, "15:10", "market", in_view=("Leo",), meta="container", name="market", says=(
            S("Leo", "Hey, funny running into you here!"),
            S(ME, "Hey Leo, good to see you. Just getting milk and eggs.", ("purchase", "market", ("milk", "eggs"))),
            S("cashier", f"That's {m['milk_eggs']}.", ("price", "market_sun", p["milk_eggs"])),
        )),
        Scene(3, "16:20", "cafe", in_view=("Marcus", "Sam"), sign=True, name="cafe", says=(
            S("Marcus", "Sorry to bother you on a Sunday."),
            S("Marcus", "Could you bring the printed contract on Tuesday?",
              ("request", "request", "the printed contract", (5, "09:00"))),
            S(ME, "Sure, I'll print it tomorrow.", ("promise", "promise", "print the contract tomorrow")),
            S("Sam", f"One latte and a muffin. That's {m['cafe_sun']}.",
              ("purchase", "cafe", ("a latte", "a muffin")), ("price", "cafe_sun", p["cafe_sun"])),
            S(ME, "Thanks, Sam."),
        )),
    ]
    return scenes, p, key_spot


def _slot_s(text: str) -> float:
    """Time espeak-ng needs for a line at SPEECH_WPM, with a little air for commas."""
    return len(text.split()) * 60 / SPEECH_WPM + 0.25 * (text.count(",") + text.count(". ") + text.count("? ")) + 0.3


def _at(day: int, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), TZ).replace(hour=h, minute=m)


def plan_life(faces_dir: Path, seed: int) -> Life:
    """The whole world from ``seed``: recordings, lines with their times, facts and questions. No media."""
    rng = random.Random(f"lifegen2:{seed}")
    scenes, prices, _ = script(rng)
    recordings: list[Recording] = []
    facts: list[Fact] = []
    last_end: datetime | None = None
    for i, sc in enumerate(scenes):
        start = _at(sc.day, sc.at) + timedelta(minutes=rng.randint(0, 4), seconds=rng.randint(0, 59))
        if last_end is not None and start <= last_end + timedelta(minutes=2):
            raise ValueError(f"scene {sc.name} overlaps the one before")
        place = PLACES[sc.place] if sc.place else None
        ext = {"video": "mp4", "audio": "m4a", "photo": "jpg"}[sc.kind]
        rec = Recording(i, f"media/day{sc.day + 1}/{start:%H%M}_{sc.name}.{ext}", sc.kind, start, place, sc.in_view,
                        sign=sc.sign, board=sc.board, board_kind=sc.board_kind, meta=sc.meta)  # fmt: skip
        if place is not None and not sc.meta.startswith("nogps"):
            rec.lat = round(place.lat + rng.uniform(-GPS_JITTER, GPS_JITTER), 6)
            rec.lon = round(place.lon + rng.uniform(-GPS_JITTER, GPS_JITTER), 6)
        t = start + timedelta(seconds=LEAD_S)
        for say in sc.says:
            line = Line(say.speaker, say.text, t, t + timedelta(seconds=round(_slot_s(say.text), 2)))
            rec.lines.append(line)
            for spec in say.facts:
                rec.facts.append(_fact(spec, say.speaker, line.start, (line.start, line.end), rec))
            t = line.end + timedelta(seconds=GAP_S)
        for spec in sc.board_facts:
            rec.facts.append(_fact(spec, ME, start, (start, start + timedelta(seconds=max(1.0, (t - start).total_seconds()))), rec))
        if sc.kind != "photo":
            rec.duration_s = round(max(5.0, (t - start).total_seconds() - GAP_S + TAIL_S), 2)
            last_end = rec.end
        recordings.append(rec)
        facts.extend(rec.facts)
    life = Life(seed, Path(faces_dir), recordings, facts)
    life.questions = build_questions(life, random.Random(f"lifegen2-choices:{seed}"), prices)
    return life


def _fact(spec: tuple, who: str, said: datetime, span: tuple[datetime, datetime], rec: Recording) -> Fact:
    kind, key, value, *rest = spec
    target = None
    if rest:
        target = said + rest[0] if isinstance(rest[0], timedelta) else _at(*rest[0])
    return Fact(kind, key, value, who, said, span, target, rec)


# -- the world: questions --------------------------------------------------------------------------


class Ask:
    """Lookups over the world that questions are computed from."""

    def __init__(self, life: Life) -> None:
        self.life = life

    def facts(self, kind: str | None = None, key: str | None = None, who: str | None = None,
              before: datetime | None = None) -> list[Fact]:  # fmt: skip
        return [
            f
            for f in self.life.facts
            if (kind is None or f.kind == kind) and (key is None or f.key == key) and (who is None or f.who == who)
            and (before is None or f.span[1] <= before)
        ]  # fmt: skip

    def one(self, **kw: object) -> Fact:
        found = self.facts(**kw)  # type: ignore[arg-type]
        if len(found) != 1:
            raise ValueError(f"expected one fact for {kw}, found {len(found)}")
        return found[0]

    def latest(self, key: str, before: datetime) -> Fact:
        return self.facts(key=key, before=before)[-1]

    def visits(self, place: str, before: datetime | None = None, day: int | None = None) -> list[Recording]:
        return [
            r
            for r in self.life.recordings
            if r.place is not None and r.place.key == place and (before is None or r.end <= before)
            and (day is None or r.day == day)
        ]  # fmt: skip

    def placed(self, day: int) -> list[Recording]:
        return [r for r in self.life.recordings if r.place is not None and r.day == day]

    def next_visit(self, rec: Recording) -> Recording:
        later = [r for r in self.placed(rec.day) if r.start > rec.start and r.place != rec.place]
        return later[0]

    def seen_count(self) -> Counter[str]:
        return Counter(name for r in self.life.recordings for name in r.in_view)


def _choices(rng: random.Random, answer: str, distractors: Sequence[str], none: bool = False) -> tuple[dict[str, str], str]:
    """Four options A-D: the answer and three distinct distractors; "none of these" is always D."""
    pool: list[str] = []
    for d in distractors:
        if d != answer and d not in pool:
            pool.append(d)
    if none:
        options = pool[:3]
        if answer in options or len(options) < 3:
            raise ValueError(f"bad none-of-these choices: {options}")
        options.append(NONE)
    else:
        if len(pool) < 3:
            raise ValueError(f"not enough distractors for {answer!r}: {pool}")
        options = [*pool[:3], answer]
        rng.shuffle(options)
    letters = dict(zip("ABCD", options))
    return letters, next(k for k, v in letters.items() if v == (NONE if none else answer))


def build_questions(life: Life, rng: random.Random, prices: dict[str, float]) -> list[Question]:
    w = Ask(life)
    qs: list[Question] = []

    def add(qtype: str, wordings: list[str], qt: datetime, answer: str, distractors: Sequence[str] | None,
            evidence: Sequence[tuple[datetime, datetime]], *tags: str, none: bool = False, fixed: bool = False) -> None:  # fmt: skip
        if len(wordings) != 4:
            raise ValueError(f"question needs 4 wordings: {wordings[0]}")
        if distractors is None:
            choices, key = None, answer
        elif fixed:  # the options keep their natural order (yes/no, counts)
            options = list(distractors)
            choices, key = dict(zip("ABCD", options)), "ABCD"[options.index(answer)]
        else:
            choices, key = _choices(rng, answer, distractors, none)
        if none:
            tags = (*tags, "none")
        qs.append(Question(f"q{len(qs) + 1:02d}", qtype, wordings, qt, key, choices, list(evidence), frozenset(tags)))

    at = _at

    def name(r: Recording) -> str:
        return r.place.name if r.place else ""

    # -- TaskMaster: requests, plans, promises --------------------------------------------------
    qt = at(1, "20:30")
    nora = w.one(kind="request", who="Nora")
    add("TaskMaster", [
        "So what was it Nora wanted me to pick up?",
        "What did my sister ask me to get for her?",
        "Nora asked me to grab something on the way home. What was it?",
        "Nora's errand for me: what item?",
    ], qt, nora.value, [w.one(kind="request", who="Marcus", key="request", before=at(1, "0:00")).value,
                        "batteries", "dog food", "the printed contract"], [nora.span])  # fmt: skip

    qt = at(1, "21:00")
    vet = w.latest("vet", qt)
    others = [when(f.target) for f in w.facts(kind="plan") + w.facts(kind="seen") if f.target and f.key != "vet"]
    add("TaskMaster", [
        "Remind me, when's Max's vet appointment?",
        "When am I supposed to take Max to the vet?",
        "Vet visit for the dog: what day and time?",
        "What time is Max booked in at the vet?",
    ], qt, when(vet.target), [when(w.facts(key="dinner")[0].target), when(w.one(key="plumber").target), *others],
        [vet.span], "future")  # fmt: skip

    qt = at(2, "09:00")
    dinner = w.facts(key="dinner", before=qt)
    add("TaskMaster", [
        "What time am I having dinner with Leo?",
        "When's dinner with Leo happening now?",
        "Leo and I are getting dinner: which day and what time?",
        "Dinner at the pizza place with Leo is when, exactly?",
    ], qt, when(dinner[-1].target), [when(dinner[0].target), when(vet.target), when(w.facts(key="lunch_place")[0].target)],
        [f.span for f in dinner], "update", "future")  # fmt: skip

    qt = at(1, "11:00")
    lunch = w.facts(key="lunch_place", before=qt)
    add("TaskMaster", [
        "Where are we having the team lunch today?",
        "Where's the Friday team lunch going to be?",
        "Team lunch location, please.",
        "Marcus organised a team lunch for Friday. Where do we meet for it?",
    ], qt, lunch[-1].value, [lunch[0].value, "at Sunrise Bakery", "at the pizza place", "at the Green Market"],
        [f.span for f in lunch], "update", "future")  # fmt: skip

    qt = at(0, "20:00")
    promise = next(f for f in w.facts(kind="promise", who=ME, before=qt) if "Marcus" in f.rec.in_view)  # type: ignore[union-attr]
    add("TaskMaster", [
        "What did I tell Marcus I'd do?",
        "What did I promise Marcus this morning?",
        "Marcus is waiting on something from me. What did I say I'd do?",
        "My commitment to Marcus today: what was it?",
    ], qt, promise.value, [f.value for f in w.facts(kind="promise") if f.who == ME], [promise.span],
        "early")  # fmt: skip

    qt = at(3, "18:00")
    dentist = w.facts(key="dentist", before=qt)
    reviews = w.facts(key="client_review")
    add("TaskMaster", [
        "When's my dentist cleaning again?",
        "What day did the dentist appointment end up on?",
        "Dentist: when do I have to be there?",
        "Is my teeth cleaning still on Tuesday afternoon, or when is it now?",
    ], qt, when(dentist[-1].target), [when(dentist[0].target), when(reviews[-1].target), when(reviews[0].target)],
        [f.span for f in dentist], "update", "future")  # fmt: skip

    qt = at(3, "19:00")
    contract = w.latest("request", qt)
    add("TaskMaster", [
        "What does Marcus want me to bring on Tuesday?",
        "What am I meant to bring Marcus on Tuesday?",
        "Tuesday: what did Marcus ask me to have with me?",
        "Marcus asked me for something for Tuesday. Which thing?",
    ], qt, contract.value, [f.value for f in w.facts(kind="request") if f.who != ME and f.value != contract.value] + ["batteries"],
        [contract.span], "future")  # fmt: skip

    qt = at(2, "20:00")
    frank_requests = [f.value for f in w.facts(kind="request", who="Frank")]
    asked = [f.value for f in w.facts(kind="request") if f.who not in ("Frank", ME)]
    add("TaskMaster", [
        "What did Frank ask me to bring him?",
        "Frank wanted me to bring something over. What was it?",
        "Which of these did the bike shop guy ask me for?",
        "What did Frank from the bike shop request from me?",
    ], qt, frank_requests[0] if frank_requests else NONE, asked, [r.span for r in w.visits("bikeshop", before=qt)], none=True)  # fmt: skip

    qt = at(1, "15:00")
    review = w.facts(key="client_review", before=qt)
    add("TaskMaster", [
        "When's the client review now?",
        "What time did the client review get moved to?",
        "Client review: day and time?",
        "Is the client review still Monday afternoon? When is it?",
    ], qt, when(review[-1].target), [when(review[0].target), when(dentist[-1].target), when(lunch[-1].target)],
        [f.span for f in review], "update", "future")  # fmt: skip

    qt = at(2, "12:00")
    booster = w.one(key="booster")
    assert booster.target is not None
    add("TaskMaster", [
        "When does Max need his booster shot?",
        "How long until Max is due for his booster?",
        "Max's next shot: when is it due?",
        "The vet mentioned a booster for Max. By what date?",
    ], qt, f"in two weeks, around {booster.target:%A}, {booster.target:%B} {booster.target.day}", None, [booster.span],
        "future")  # fmt: skip

    qt = at(2, "18:00")
    pill = w.one(kind="instruction", key="pill")
    note = w.one(kind="seen", key="pill")
    add("TaskMaster", [
        "How am I supposed to give Max his tablets?",
        "What did the vet say about Max's medicine?",
        "Max's tablets: how many and when?",
        "What were the vet's instructions for Max's medicine?",
    ], qt, str(pill.value), None, [pill.span, note.span])  # fmt: skip

    # -- EntityLog: things bought, seen, put, lent ------------------------------------------------
    qt = at(2, "18:00")
    bike = w.facts(key="bike_cost", before=qt)
    add("EntityLog", [
        "So what did the bike repair end up costing?",
        "How much did I actually pay to get the bike fixed?",
        "Final bill for the bike repair?",
        "The bike shop gave me an estimate. What did the repair come to in the end?",
    ], qt, money(bike[-1].value), [money(bike[0].value), money(prices["vet"]), money(prices["market_thu"])],
        [f.span for f in bike], "update")  # fmt: skip

    qt = at(3, "20:00")
    rec_by = w.one(kind="recommend", key="bakery")
    place_key = next(p.key for p in PLACES.values() if p.name == rec_by.value)
    bought = [f for r in w.visits(place_key) for f in r.facts if f.kind == "purchase"]
    extra = [x for x in bought[0].value if x != "cinnamon rolls"]
    add("EntityLog", [
        "Apart from the cinnamon rolls, what did I buy at the bakery Sam recommended?",
        "Besides cinnamon rolls, what else did I pick up at the place Sam told me about?",
        "At the bakery Sam suggested, what did I get other than cinnamon rolls?",
        "Sam's bakery tip: other than the rolls, what did I end up buying there?",
    ], qt, extra[0], ["a muffin", "apples", "rice", "milk"], [rec_by.span, bought[0].span], "two-moment")  # fmt: skip

    qt = at(1, "12:00")
    key_then = w.latest("key", qt)
    spots = [str(f.value) for f in w.facts(kind="put")]
    add("EntityLog", [
        "Where'd I leave the spare key for Nora?",
        "Where did I tell Nora the spare key is?",
        "Spare key: where did I put it?",
        "Nora needs to get in on Sunday. Where's the key she should use?",
    ], qt, str(key_then.value), spots, [key_then.span], "early")  # fmt: skip

    qt = at(3, "08:00")
    keys = w.facts(key="key", before=qt)
    add("EntityLog", [
        "Where's the spare key right now?",
        "Where is the spare key at the moment?",
        "Current spot of the spare key?",
        "I moved the spare key at some point. Where did it end up?",
    ], qt, str(keys[-1].value), spots, [f.span for f in keys], "update")  # fmt: skip

    qt = at(0, "12:00")
    latte = w.one(key="latte_thu")
    add("EntityLog", [
        "How much was my latte this morning?",
        "What did the latte cost me at the cafe today?",
        "Price of this morning's latte?",
        "This morning's coffee at Blue Bird Cafe: how much did I pay?",
    ], qt, money(latte.value), [money(prices["cappuccino"]), money(prices["muffin"]), money(prices["card"]),
                                money(prices["batteries"])], [latte.span], "early")  # fmt: skip

    qt = at(1, "09:00")
    total = w.one(kind="seen", key="receipt_total")
    add("EntityLog", [
        "What was the total on the Green Market receipt?",
        "How much did that grocery receipt from Green Market add up to?",
        "Green Market receipt total?",
        "I took a picture of a receipt. What total was printed on it?",
    ], qt, money(total.value), [money(prices["market_fri"]), money(prices["milk_eggs"]), money(prices["dog_food"])],
        [total.span], "seen")  # fmt: skip

    qt = at(3, "20:00")
    poster = w.one(kind="seen", key="poster")
    add("EntityLog", [
        "What's happening on March 6, going by that poster at the bakery?",
        "The poster at Sunrise Bakery: what event was it for?",
        "March 6 poster: what event?",
        "There was a poster with a date on it at the bakery. What was it advertising?",
    ], qt, str(poster.value), ["the team lunch", "the client review", "Max's booster shot", "a bake sale"],
        [poster.span], "seen")  # fmt: skip

    qt = at(0, "21:00")
    plumber = w.one(kind="seen", key="plumber")
    assert plumber.target is not None
    hours = [f.target for f in w.facts() if f.target is not None and f.target != plumber.target]
    add("EntityLog", [
        "What time's the plumber coming on Friday?",
        "When is the plumber due tomorrow?",
        "Plumber: what time?",
        "At what hour is the plumber supposed to show up on Friday?",
    ], qt, when(plumber.target).split(" at ")[1], [when(t).split(" at ")[1] for t in hours], [plumber.span],
        "seen", "future")  # fmt: skip

    qt = at(2, "12:00")
    lent = w.one(kind="lent")
    add("EntityLog", [
        "What have I lent Leo?",
        "What does Leo still have of mine?",
        "Leo borrowed something from me. What?",
        "Which of my things did I lend to Leo?",
    ], qt, str(lent.value), ["my bike", "a coffee table", "batteries", "my sunglasses"], [lent.span])  # fmt: skip

    qt = at(2, "13:00")
    vet_price = w.one(key="vet_bill")
    add("EntityLog", [
        "How much did Max's checkup cost?",
        "What did I pay at the vet this morning?",
        "Vet bill today?",
        "Taking Max for his checkup cost me how much?",
    ], qt, money(vet_price.value), [money(prices["bike_quote"]), money(prices["bakery_sat"]), money(prices["market_thu"])],
        [vet_price.span])  # fmt: skip

    qt = at(3, "20:00")
    fri_market = [f for r in w.visits("market", day=1) for f in r.facts if f.kind == "purchase"]
    other_market = [x for d in (0, 3) for r in w.visits("market", day=d) for f in r.facts if f.kind == "purchase"
                    for x in f.value]  # fmt: skip
    add("EntityLog", [
        "Which of these did I buy at the market on Friday?",
        "On Friday at Green Market, which of these did I get?",
        "Friday's market run: which item did I buy?",
        "When I stopped by the market on Friday evening, which of these did I pick up?",
    ], qt, next((x for x in other_market if x in fri_market[0].value), NONE), other_market,
        [f.span for f in fri_market], none=True)  # fmt: skip

    # -- EventRecall: where, when, what happened -------------------------------------------------
    qt = at(2, "20:00")
    bank = w.visits("bank", day=2)[0]
    after = w.next_visit(bank)
    add("EventRecall", [
        "Where did I go right after the bank on Saturday?",
        "After I left the bank on Saturday, where did I head?",
        "Saturday: bank, then where?",
        "What was my next stop after getting cash at the bank on Saturday?",
    ], qt, name(after), [p.name for p in PLACES.values() if p.key not in ("home", "bank")], [bank.span, after.span])  # fmt: skip

    qt = at(2, "09:00")
    gym_friday = w.visits("gym", day=1)
    options = ["Yes, in the morning", "Yes, in the evening", "Yes, with Leo", "No"]
    add("EventRecall", [
        "Did I end up going to the gym on Friday?",
        "Did I work out at the gym yesterday?",
        "Gym yesterday: yes or no?",
        "Yesterday, did I make it to Peak Gym at all?",
    ], qt, options[3] if not gym_friday else options[0], options,
        [r.span for r in w.visits("gym", before=qt)], "yes-no", fixed=True)  # fmt: skip

    qt = at(2, "12:00")
    office_fri = w.visits("office", day=1)[0]
    add("EventRecall", [
        f"Where was I {clock_about(office_fri.start)} yesterday?",
        f"Yesterday, {clock_about(office_fri.start)}: where was I?",
        f"Where was I on Friday {clock_about(office_fri.start)}?",
        f"Can you tell me where I was yesterday {clock_about(office_fri.start)}?",
    ], qt, name(office_fri), [name(r) for r in w.placed(1) if r.place != office_fri.place] + ["Peak Gym"],
        [office_fri.span])  # fmt: skip

    qt = at(2, "20:00")
    bakery_sat = w.visits("bakery", day=2)[0]
    add("EventRecall", [
        "What time did I get to the bakery this morning?",
        "When did I arrive at Sunrise Bakery today?",
        "Bakery this morning: what time?",
        "This morning I stopped at the bakery. Roughly when?",
    ], qt, clock_about(bakery_sat.start), [clock_about(r.start) for r in w.placed(2) if r is not bakery_sat],
        [bakery_sat.span])  # fmt: skip

    qt = at(3, "20:00")
    with_nora = [r for r in life.recordings if "Nora" in r.in_view and any(f.kind == "purchase" for f in r.facts)]
    add("EventRecall", [
        "Where did I have coffee with Nora?",
        "Where did Nora and I grab a coffee together?",
        "Coffee with my sister: which place?",
        "Which place did I go to with Nora for coffee?",
    ], qt, name(with_nora[0]), ["Sunrise Bakery", "Green Market", "Summit Labs", "Peak Gym"],
        [with_nora[0].span])  # fmt: skip

    qt = at(2, "20:00")
    first_sat = w.placed(2)[0]
    doing = {"bakery": "went to Sunrise Bakery", "vet": "took Max to the vet", "bikeshop": "picked up my bike",
             "gym": "went to the gym", "cafe": "had coffee at Blue Bird Cafe", "bank": "went to the bank"}  # fmt: skip
    add("EventRecall", [
        "What's the first thing I did this morning?",
        "How did my Saturday start?",
        "First stop this morning?",
        "This morning, before anything else, what did I do?",
    ], qt, doing[first_sat.place.key], [v for k, v in doing.items() if k != first_sat.place.key],  # type: ignore[union-attr]
        [first_sat.span])  # fmt: skip

    qt = at(3, "20:00")
    pickup = next(r for r in w.visits("bikeshop") if any(f.kind == "price" for f in r.facts))
    add("EventRecall", [
        "Which day did I pick up my bike?",
        "On what day did I get my bike back from the shop?",
        "Bike pickup: which day?",
        "When did I collect the repaired bike, which day was it?",
    ], qt, f"{pickup.start:%A}", ["Thursday", "Friday", "Saturday", "Sunday"], [pickup.span], fixed=True)  # fmt: skip

    qt = at(1, "21:00")
    add("EventRecall", [
        "How do I know about the plumber on Friday? Did someone tell me, or did I see it written down?",
        "Was the plumber's visit something I heard or something I read?",
        "Plumber info: heard or seen?",
        "Where did I get the plumber's time from?",
    ], qt, f"I saw it on a {plumber.rec.board_kind} at home" if plumber.rec else "",  # type: ignore[union-attr]
        ["Nora told me", "Marcus told me", "I saw it on a receipt", "Leo told me on the phone"], [plumber.span],
        "seen")  # fmt: skip

    # -- HabitInsight: counts and patterns --------------------------------------------------------
    qt = at(3, "20:00")
    gyms = w.visits("gym", before=qt)
    add("HabitInsight", [
        "How many times have I been to the gym this week?",
        "How often did I go to the gym these last few days?",
        "Gym visits this week: how many?",
        "Count my trips to Peak Gym since Thursday.",
    ], qt, str(len(gyms)), ["1", "2", "3", "4"], [r.span for r in gyms], "count", fixed=True)  # fmt: skip

    cafes = w.visits("cafe", before=qt)
    add("HabitInsight", [
        "How many times did I stop at the Blue Bird Cafe?",
        "How often was I at Blue Bird Cafe this week?",
        "Blue Bird Cafe: number of visits?",
        "Since Thursday, how many visits to the Blue Bird Cafe?",
    ], qt, str(len(cafes)), ["1", "2", "3", "4"], [r.span for r in cafes], "count", fixed=True)  # fmt: skip

    seen = w.seen_count().most_common()
    if seen[0][1] == seen[1][1]:
        raise ValueError("the most often seen person must be unique")
    add("HabitInsight", [
        "Who do I see most often?",
        "Which person have I spent the most moments with this week?",
        "Most frequent company?",
        "Of everyone around me lately, who shows up the most?",
    ], qt, seen[0][0], [n for n, _ in seen[1:]], [r.span for r in life.recordings if seen[0][0] in r.in_view])  # fmt: skip

    coffee = Counter(f.rec.place.key for f in w.facts(kind="purchase") if f.rec and f.rec.place  # type: ignore[union-attr]
                     and any("latte" in x or "cappuccino" in x for x in (f.value if isinstance(f.value, tuple) else (f.value,))))  # fmt: skip
    usual = PLACES[coffee.most_common(1)[0][0]]
    add("HabitInsight", [
        "Where do I usually get my coffee?",
        "What's my regular coffee spot?",
        "Usual coffee place?",
        "When I want a coffee, where do I normally go?",
    ], qt, usual.name, ["Sunrise Bakery", "Green Market", "Summit Labs", "Peak Gym"],
        [r.span for r in w.visits(usual.key)])  # fmt: skip

    orders = Counter(x for f in w.facts(kind="purchase", key="cafe")
                     for x in (f.value if isinstance(f.value, tuple) else (f.value,)))  # fmt: skip
    add("HabitInsight", [
        "What do I usually order at the cafe?",
        "What's my usual drink at Blue Bird Cafe?",
        "Usual cafe order?",
        "When I'm at Blue Bird Cafe, what do I normally get?",
    ], qt, orders.most_common(1)[0][0], ["a cappuccino", "a muffin", "cinnamon rolls", "a cup of tea"],
        [f.span for f in w.facts(kind="purchase", key="cafe")])  # fmt: skip

    mornings = [r.start for r in w.visits("office") if r.start.hour < 12]
    mean = sum(t.hour * 60 + t.minute for t in mornings) / len(mornings)
    hour = round(mean / 60)
    add("HabitInsight", [
        "What time do I usually get to the office in the morning?",
        "When do I normally show up at work?",
        "Usual arrival time at Summit Labs?",
        "On workdays, roughly when do I get into the office?",
    ], qt, f"around {hour} AM", [f"around {hour - 1} AM", f"around {hour + 1} AM", "around 1 PM", "around 11 AM"],
        [r.span for r in w.visits("office") if r.start.hour < 12])  # fmt: skip

    banks = w.visits("bank", before=qt)
    add("HabitInsight", [
        "How many times did I go to the bank?",
        "How often was I at the bank this week?",
        "Bank trips: how many?",
        "Since Thursday, how many times did I stop by First Bank?",
    ], qt, str(len(banks)), ["1", "2", "3", "4"], [r.span for r in banks], "count", fixed=True)  # fmt: skip

    gym_days = sorted({r.day for r in gyms})
    day_names = [f"{FIRST_DAY + timedelta(days=d):%A}" for d in range(DAYS)]

    def listing(days: Sequence[int]) -> str:
        names = [day_names[d] for d in days]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    add("HabitInsight", [
        "Which days did I work out this week?",
        "On what days did I go to the gym?",
        "Gym days?",
        "Tell me the days I hit the gym since Thursday.",
    ], qt, listing(gym_days), [listing(d) for d in ([0, 1], [1, 2, 3], [0, 1, 2, 3], [2, 3]) if list(d) != gym_days],
        [r.span for r in gyms])  # fmt: skip

    bakery_visits = w.visits(place_key, before=qt)
    add("HabitInsight", [
        "How many times have I been to the bakery Sam recommended?",
        "How often did I go to the place Sam told me about for pastries?",
        "Sam's bakery recommendation: how many visits so far?",
        "That bakery Sam suggested, how many times did I end up going?",
    ], qt, str(len(bakery_visits)), ["1", "2", "3", "4"], [rec_by.span, *(r.span for r in bakery_visits)],
        "count", "two-moment", fixed=True)  # fmt: skip

    # -- RelationMap: people -----------------------------------------------------------------------
    qt = at(3, "20:00")
    call = next(f for f in w.facts(key="dentist") if f.who == "Karen")
    present = [n for n in COMPANIONS if n in call.rec.in_view]  # type: ignore[union-attr]
    add("RelationMap", [
        "Who was with me when the dentist's office called?",
        "When I got the call from the dentist, who was I with?",
        "Dentist phone call: who was there with me?",
        "Who was sitting with me when Karen from the dentist rang?",
    ], qt, present[0] if present[0] != "Sam" else present[1],
        [n for n in COMPANIONS if n not in present], [call.span], "two-moment")  # fmt: skip

    add("RelationMap", [
        "Who recommended Sunrise Bakery to me?",
        "Who told me to try Sunrise Bakery?",
        "Sunrise Bakery tip came from whom?",
        "Which person suggested I check out Sunrise Bakery?",
    ], qt, rec_by.who, [n for n in COMPANIONS if n != rec_by.who], [rec_by.span])  # fmt: skip

    quote = w.one(kind="quote")
    add("RelationMap", [
        "Who said the repair would be around two hundred dollars?",
        "Who gave me the two hundred dollar estimate?",
        "'Around two hundred dollars': who said that?",
        "The person who quoted me about two hundred bucks for the repair, who was it?",
    ], qt, quote.who, ["Leo", "Marcus", "Sam", "Carlos"], [quote.span])  # fmt: skip

    qt = at(2, "20:00")
    with_after = [n for n in COMPANIONS if n in after.in_view and n != "Frank"]
    add("RelationMap", [
        "Who was with me at the place I went right after the bank on Saturday?",
        "After the bank on Saturday, who did I meet at my next stop?",
        "Saturday, stop after the bank: who was there with me?",
        "Right after I left the bank this Saturday, who joined me where I went next?",
    ], qt, with_after[0], [n for n in ("Nora", "Marcus", "Carlos", "Sam") if n not in after.in_view],
        [bank.span, after.span], "two-moment")  # fmt: skip

    qt = at(3, "20:00")
    carlos_intro = next(r for r in life.recordings if "Carlos" in r.in_view)
    add("RelationMap", [
        "What's the name of the new guy on the design team?",
        "The new designer at work, what's his name?",
        "New design team member's name?",
        "Who's the person who just joined the design team?",
    ], qt, "Carlos", None, [(carlos_intro.lines[0].start, carlos_intro.lines[0].end)])

    mover = dinner[-1]
    add("RelationMap", [
        "Who moved our dinner plans?",
        "Who asked to change the day of dinner?",
        "Dinner got rescheduled: by whom?",
        "Which friend pushed dinner from Friday to Saturday?",
    ], qt, mover.who, ["Marcus", "Nora", "Frank", "Sam"], [mover.span], "update")  # fmt: skip

    caller = mover.rec
    add("RelationMap", [
        "Who called me Friday evening?",
        "Friday evening I had a phone call. Who was it with?",
        "Friday night caller?",
        "Who was on the phone with me on Friday around dinner time?",
    ], qt, caller.lines[0].speaker if caller else "", ["Karen", "Nora", "Marcus", "Frank"],
        [caller.span] if caller else [])  # fmt: skip

    lunch_rec = next(r for r in w.visits("office", day=1) if r.start.hour >= 12)
    pair = " and ".join(lunch_rec.in_view)
    add("RelationMap", [
        "Who was I having lunch with on Friday?",
        "Who did I eat with at the team lunch?",
        "Friday lunch company?",
        "At lunch on Friday, who was with me?",
    ], qt, pair, ["Marcus and Leo", "Nora and Sam", "Leo and Frank", "Marcus and Sam"], [lunch_rec.span])  # fmt: skip

    sun_market = w.visits("market", day=3)[0]
    add("RelationMap", [
        "Who did I bump into at the market on Sunday?",
        "Who did I run into while shopping for groceries on Sunday?",
        "Sunday market: who did I meet?",
        "At Green Market on Sunday, who happened to be there?",
    ], qt, sun_market.in_view[0], ["Carlos", "Nora", "Sam", "Marcus"], [sun_market.span])  # fmt: skip

    vet_visit = w.visits("vet")[0]
    add("RelationMap", [
        "Who came with me to the vet?",
        "Who joined me when I took Max to the vet?",
        "Vet trip companion?",
        "When Max had his checkup, which of these people was with me?",
    ], qt, next((n for n in vet_visit.in_view if n in COMPANIONS), NONE), ["Nora", "Leo", "Marcus"],
        [vet_visit.span], none=True)  # fmt: skip

    card = next(f for f in w.facts(kind="purchase") if "a birthday card" in f.value)
    add("RelationMap", [
        "Who was with me when I bought the birthday card?",
        "When I got Mom's birthday card, who was I with?",
        "Birthday card purchase: who was there?",
        "Buying the card for Mom, did anyone of these come along?",
    ], qt, next((n for n in card.rec.in_view if n in COMPANIONS), NONE), ["Nora", "Leo", "Marcus"],  # type: ignore[union-attr]
        [nora.span, card.span], "two-moment", none=True)  # fmt: skip

    return qs


# -- rendering: pictures ---------------------------------------------------------------------------

BOARD_FONT_HEIGHT = 30  # px: PP-OCR reads text this size at 640 px reliably


def _draw_board(frame, lines: Sequence[str], box: tuple[int, int, int, int], paper: tuple[int, int, int]) -> None:  # type: ignore[no-untyped-def]
    import cv2

    from pipelines.lifegen import SIGN_FONT

    x0, y0, x1, y1 = box
    cv2.rectangle(frame, (x0 - 3, y0 - 3), (x1 + 3, y1 + 3), (40, 40, 40), -1)
    cv2.rectangle(frame, (x0, y0), (x1, y1), paper, -1)
    scale = min(
        min(BOARD_FONT_HEIGHT / cv2.getTextSize(t, SIGN_FONT, 1.0, 2)[0][1] for t in lines),
        min((x1 - x0 - 24) / cv2.getTextSize(t, SIGN_FONT, 1.0, 2)[0][0] for t in lines),
        (y1 - y0 - 16) / (len(lines) * 1.6 * cv2.getTextSize("X", SIGN_FONT, 1.0, 2)[0][1]),
    )
    h = cv2.getTextSize("X", SIGN_FONT, scale, 2)[0][1]
    y = y0 + 10 + h
    for text in lines:
        cv2.putText(frame, text, (x0 + 12, y), SIGN_FONT, scale, (10, 10, 10), 2, cv2.LINE_AA)
        y += int(h * 1.6)


def _draw_extra_props(frame, kind: str) -> None:  # type: ignore[no-untyped-def]
    """Props for the kinds lifegen does not draw."""
    import cv2

    from pipelines.lifegen import HEIGHT, WIDTH

    if kind == "bikeshop":
        for x in (90, 250):
            cv2.circle(frame, (x, 290), 50, (30, 30, 30), 6)
        cv2.line(frame, (90, 290), (250, 290), (0, 0, 180), 5)
    elif kind == "bakery":
        cv2.rectangle(frame, (0, 250), (WIDTH, HEIGHT), (70, 110, 150), -1)
        for x in range(30, 330, 70):
            cv2.ellipse(frame, (x, 240), (28, 14), 0, 0, 360, (60, 140, 210), -1)
    elif kind == "vet":
        cv2.ellipse(frame, (180, 280), (90, 40), 0, 0, 360, (60, 100, 150), -1)  # Max
        cv2.circle(frame, (280, 240), 32, (60, 100, 150), -1)
    elif kind == "bank":
        cv2.rectangle(frame, (0, 250), (WIDTH, 280), (90, 90, 90), -1)
        for x in (40, 200):
            cv2.rectangle(frame, (x, 130), (x + 120, 245), (220, 220, 220), 3)


def draw_scene(rec: Recording, faces_dir: Path):  # type: ignore[no-untyped-def]
    import numpy as np

    from pipelines.lifegen import FACE_HEIGHT, FACE_HEIGHT_PAIR, HEIGHT, WIDTH, _paste, draw_props, draw_sign, portrait

    frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    place = rec.place
    frame[:] = place.colour if place else (180, 180, 180)
    if place:
        draw_props(frame, place.kind)
        _draw_extra_props(frame, place.kind)
    faces = [CAST[n] for n in rec.in_view if CAST[n].photo]
    if len(faces) == 1:
        _paste(frame, portrait(faces_dir / faces[0].photo, FACE_HEIGHT), 370, 100)  # type: ignore[operator]
    elif len(faces) >= 2:
        for person, x in zip(faces, (40, 330)):
            _paste(frame, portrait(faces_dir / person.photo, FACE_HEIGHT_PAIR), x, 125)  # type: ignore[operator]
    if rec.board:
        paper = (120, 235, 250) if rec.board_kind == "note" else (255, 255, 255)
        box = (20, 110, 345, 345) if faces else (150, 110, 490, 345)
        _draw_board(frame, rec.board, box, paper)
    if rec.sign and place and place.sign:
        draw_sign(frame, place.sign)
    return frame


def draw_photo(rec: Recording):  # type: ignore[no-untyped-def]
    """A phone photo of a receipt or a note: the paper fills most of the picture."""
    import numpy as np

    frame = np.full((480, 640, 3), (90, 80, 70), np.uint8)
    paper = (120, 235, 250) if rec.board_kind == "note" else (250, 250, 250)
    _draw_board(frame, rec.board, (120, 30, 520, 450), paper)
    return frame


# -- rendering: sound and containers ---------------------------------------------------------------

WEARER_DBFS, OTHERS_DB = -17.0, -7.0  # the wearer's mouth is next to the microphone


def speech_track(rec: Recording):  # type: ignore[no-untyped-def]
    import numpy as np

    from pipelines.lifegen import SILENCE_THRESHOLD, SPEECH_SR, synthesize

    track = np.zeros(round(rec.duration_s * SPEECH_SR), np.float32)
    for line in rec.lines:
        voice = ME_VOICE if line.speaker == ME else CAST[line.speaker].voice
        slot = (line.end - line.start).total_seconds()
        rate = SPEECH_WPM
        audio = synthesize(line.text, voice, rate)
        while len(audio) > slot * SPEECH_SR and rate < 260:  # the world's timings stay true
            rate = int(rate * len(audio) / (slot * SPEECH_SR)) + 5
            audio = synthesize(line.text, voice, rate)
        audio = audio[: int(slot * SPEECH_SR)]
        at = int((line.start - rec.start).total_seconds() * SPEECH_SR)
        level = WEARER_DBFS + (0.0 if line.speaker == ME else OTHERS_DB)
        rms = float(np.sqrt(np.mean(audio[np.abs(audio) > SILENCE_THRESHOLD] ** 2)))
        track[at : at + len(audio)] += audio * (10 ** (level / 20) / rms)
    return np.clip(track * 0.9, -1.0, 1.0)


def _container_tags(rec: Recording) -> list[str]:
    from pipelines.lifegen import iso6709

    tags = ["-metadata", f"creation_time={rec.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"]
    if rec.lat is not None and rec.lon is not None:
        tags += ["-metadata", f"location={iso6709(rec.lat, rec.lon)}"]
    return tags


def _ffmpeg(args: list[str], out: Path) -> None:
    result = subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", *args, str(out)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {result.stderr.strip()[-500:]}")


def render_recording(rec: Recording, faces_dir: Path, out_dir: Path, scratch: Path) -> None:
    import cv2

    from pipelines.lifegen import FPS, _write_wav

    target = out_dir / rec.file
    target.parent.mkdir(parents=True, exist_ok=True)
    if rec.kind == "photo":
        cv2.imwrite(str(target), draw_photo(rec), [cv2.IMWRITE_JPEG_QUALITY, 92])
        return
    wav = scratch / "speech.wav"
    _write_wav(wav, speech_track(rec))
    if rec.kind == "audio":
        _ffmpeg(["-i", str(wav), "-c:a", "aac", "-b:a", "64k", "-ar", "16000", "-ac", "1", *_container_tags(rec),
                 "-movflags", "+faststart+use_metadata_tags"], target)  # fmt: skip
        return
    png = scratch / "frame.png"
    cv2.imwrite(str(png), draw_scene(rec, faces_dir))
    _ffmpeg([
        "-loop", "1", "-framerate", str(FPS), "-i", str(png), "-i", str(wav), "-t", f"{rec.duration_s:.3f}",
        "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage",
        "-pix_fmt", "yuv420p", "-r", str(FPS), "-c:a", "aac", "-b:a", "64k", "-ar", "16000", "-ac", "1",
        *_container_tags(rec), "-movflags", "+faststart+use_metadata_tags",
    ], target)  # fmt: skip


def write_people(life: Life, out_dir: Path) -> None:
    """people/NAME/*.jpg for the people the wearer enrolled; the others are known only by what is said."""
    import cv2

    seen = {n for r in life.recordings for n in r.in_view}
    for person in CAST.values():
        if not person.enrol or person.name not in seen:
            continue
        folder = out_dir / "people" / person.name
        folder.mkdir(parents=True, exist_ok=True)
        for rel in person.enrol:
            photo = life.faces_dir / rel
            target = folder / f"{photo.stem}.jpg"
            if photo.suffix.lower() in (".jpg", ".jpeg"):
                shutil.copyfile(photo, target)
            else:
                cv2.imwrite(str(target), cv2.imread(str(photo)), [cv2.IMWRITE_JPEG_QUALITY, 95])


# -- public API ------------------------------------------------------------------------------------


def generate_life(out: Path, faces_dir: Path, seed: int) -> Life:
    """Plan the life of ``seed`` and write it (media, people, manifest, questions, paraphrases) to ``out``."""
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"lifegen2 needs {' and '.join(missing)} on PATH")
    out, faces_dir = Path(out), Path(faces_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; lifegen2 writes only into a fresh folder")
    life = plan_life(faces_dir, seed)
    for rel in {p for n in CAST.values() for p in (n.photo, *n.enrol) if p}:
        if not (faces_dir / rel).is_file():
            raise FileNotFoundError(f"face photo missing: {faces_dir / rel}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lifegen2-") as tmp:

        def render(rec: Recording) -> None:
            scratch = Path(tmp) / str(rec.index)
            scratch.mkdir()
            render_recording(rec, faces_dir, out, scratch)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(render, life.recordings))
    write_people(life, out)
    (out / "manifest.jsonl").write_text(life.manifest_text(), encoding="utf-8")
    (out / "questions.jsonl").write_text(life.questions_text(), encoding="utf-8")
    (out / "paraphrases.jsonl").write_text(life.paraphrases_text(), encoding="utf-8")
    return life


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lifegen2", description="Generate the held-out Denver life.")
    parser.add_argument("out", type=Path, help="folder to write (must be empty or absent)")
    parser.add_argument("--faces", type=Path, required=True, help="face photos: train/NAME/*, test/*, lin-manuel-miranda.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        life = generate_life(args.out, args.faces, args.seed)
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"lifegen2: {exc}", file=sys.stderr)
        return 1
    kinds = Counter(r.kind for r in life.recordings)
    types = Counter(q.type for q in life.questions)
    print(
        f"wrote {args.out}: {kinds['video']} videos, {kinds['audio']} audio, {kinds['photo']} photos "
        f"({life.duration_s:.0f} s recorded), {len(life.questions)} questions {dict(sorted(types.items()))} "
        f"in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
