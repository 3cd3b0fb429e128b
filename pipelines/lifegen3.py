"""A held-out life for the life benchmark (specs/life-benchmark.md), written apart from lifegen.py.

Four days (Friday to Monday, UTC+10:00) of someone moving flat in Brisbane while their sister
visits: movers on the phone, a bike repair, a pottery class, a doctor, markets and a cafe. The story
is fixed; the seed deals faces to names, jitters clock times and GPS fixes, picks a few prices and
shuffles the choices, so one seed always gives the same manifest, questions and paraphrases.

Two layers, as in lifegen.py: ``plan_life`` builds the world (recordings, who says what when, and
the facts each line carries) and the questions read their answers and evidence off those facts;
rendering (OpenCV pictures with lifegen's sign and portrait helpers, espeak-ng voices, ffmpeg) never
feeds back into the ground truth.
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

import cv2
import numpy as np

from pipelines.lifegen import (
    HEIGHT,
    WIDTH,
    _paste,
    _read_image,
    _write_wav,
    draw_props,
    draw_sign,
    iso6709,
    portrait,
    synthesize,
)

TZ = timezone(timedelta(hours=10))  # Brisbane keeps no daylight saving
FIRST_DAY = date(2026, 5, 15)  # a Friday
DAYS = 4
DEVICE = "glasses-02"
PHONE = "phone-02"
ME = "me"
FPS = 5
RATE = 170  # espeak-ng words per minute (its default is 175)
MAX_RATE = 230
S_PER_WORD = 0.36  # measured for these voices at RATE, word gap 2
LINE_GAP_S = 0.45
NONE_OF_THESE = "none of these"
OTHERS_GAIN_DB = -6.0  # the wearer's mouth is next to the microphone
WEARER_RMS_DBFS = -17.0

# -- the world: places and people ----------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    key: str
    name: str  # how questions and people call it
    lat: float
    lon: float
    kind: str  # props drawn by lifegen.draw_props
    colour: tuple[int, int, int]
    sign: str | None = None  # None: never shows one


PLACES = {
    p.key: p
    for p in (
        Place("old", "the old flat", -27.4812, 153.0098, "kitchen", (170, 190, 205)),
        Place("new", "the new flat", -27.4760, 153.0355, "office", (200, 205, 185)),
        Place("cycles", "City Cycles", -27.4745, 153.0170, "gym", (120, 150, 175), "CITY CYCLES"),
        Place("tools", "Tool Barn", -27.4885, 153.0330, "market", (110, 160, 190), "TOOL BARN"),
        Place("cafe", "Sunrise Cafe", -27.4781, 153.0127, "cafe", (150, 110, 80)),
        Place("market", "the Food Market", -27.4791, 153.0051, "park", (185, 210, 225), "FOOD MARKET"),
        Place("studio", "Clay Studio", -27.4601, 152.9990, "library", (160, 175, 200), "CLAY STUDIO"),
        Place("clinic", "Park Clinic", -27.4609, 153.0231, "office", (225, 225, 215), "PARK CLINIC"),
        Place("thai", "Golden Dragon", -27.4570, 153.0341, "bar", (70, 90, 140), "GOLDEN DRAGON"),
    )
}


@dataclass
class Person:
    name: str
    voice: str
    enrolled: bool = False
    photos: tuple[Path, ...] = ()  # people/NAME/*.jpg when enrolled
    video_photo: Path | None = None  # None: only ever heard


# Voices differ per speaker; unnamed staff have voices but no face and no name.
VOICES = {
    ME: "en-us+m2",
    "Grace": "en-gb+f3",
    "Sam": "en-us+m4",
    "Ben": "en-gb-x-rp+m1",
    "Frank": "en+m7",
    "Leo": "en-us+m1",
    "Kim": "en-gb+m5",
    "Paula": "en-us+f2",
    "Mary": "en+f4",
    "barista": "en-gb+f2",
    "cashier": "en-us+m6",
    "stallholder": "en+m3",
    "driver": "en-gb+m3",
    "waiter": "en-us+f5",
}
MALE_ROLES = ("Sam", "Ben", "Frank", "Leo", "Kim")
ENROLLED = ("Grace", "Sam", "Ben")  # the rest are known only by what is said


def cast(faces_dir: Path | None, rng: random.Random) -> dict[str, Person]:
    """Real face folders get new story names; the seed decides which man plays whom."""
    people = {name: Person(name, voice) for name, voice in VOICES.items()}
    folders = ["alex_lacamoire", "biden", "kit_harington", "lin", "obama"]
    rng.shuffle(folders)  # dealt whether or not photos are given, so the rest of the plan is the same
    if faces_dir is None:
        return people
    faces_dir = Path(faces_dir)
    train, test = faces_dir / "train", faces_dir / "test"
    men = {  # folder -> (enrolment photos, a different picture for the video when there is one)
        "obama": (sorted((train / "obama").glob("*")), test / "obama1.jpg"),
        "kit_harington": (sorted((train / "kit_harington").glob("*")), test / "johnsnow_test1.jpg"),
        "biden": (sorted((train / "biden").glob("*"))[:1], sorted((train / "biden").glob("*"))[-1]),
        "alex_lacamoire": (sorted((train / "alex_lacamoire").glob("*")), test / "alex_lacamoire1.jpg"),
        "lin": ([faces_dir / "lin-manuel-miranda.png"], faces_dir / "lin-manuel-miranda.png"),
    }
    rose = sorted((train / "rose_leslie").glob("*"))
    for path in [p for photos, video in men.values() for p in [*photos, video]] + rose:
        if not path.exists():
            raise FileNotFoundError(f"face photo missing: {path}")
    assignment = {"Grace": (tuple(rose[:1]), rose[-1])}
    for role, folder in zip(MALE_ROLES, folders):
        photos, video = men[folder]
        assignment[role] = (tuple(photos), video)
    for role, (photos, video) in assignment.items():
        person = people[role]
        person.enrolled = role in ENROLLED
        person.photos = photos if person.enrolled else ()
        person.video_photo = video
    return people


# -- the world: recordings -----------------------------------------------------------------------


@dataclass
class Line:
    speaker: str
    text: str
    tag: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class Recording:
    key: str
    kind: str  # video | audio | photo
    start: datetime
    place: Place | None
    meta: str  # manifest: time+GPS in the manifest; container: only in the file; nogps: no position anywhere
    seen: tuple[str, ...] = ()  # people in view
    sign: bool = False
    board: tuple[str, ...] = ()  # price board / menu in view
    paper: tuple[str, ...] = ()  # a photo of a note, receipt or poster
    lines: list[Line] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    duration_s: float = 0.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    @property
    def file(self) -> str:
        ext = {"video": "mp4", "audio": "m4a", "photo": "jpg"}[self.kind]
        return f"media/{self.start:%Y-%m-%d}/{self.start:%H%M}_{self.key}.{ext}"

    def say(self, speaker: str, text: str, tag: str | None = None) -> Recording:
        self.lines.append(Line(speaker, text, tag))
        return self


@dataclass
class Question:
    id: str
    type: str
    wordings: tuple[str, ...]  # the first is asked; the others are paraphrases
    query_time: datetime
    answer: str
    evidence: list[tuple[datetime, datetime]]
    choices: dict[str, str] | None = None
    kinds: tuple[str, ...] = ()  # knowledge-update, two-moment, none-of-these, yes-no, count, future, ...

    def record(self, wording: int = 0, suffix: str = "") -> dict:
        row: dict = {"id": self.id + suffix, "type": self.type, "question": self.wordings[wording]}
        row["query_time"] = _iso(self.query_time)
        if self.choices is not None:
            row["choices"] = self.choices
        row["answer"] = self.answer
        row["evidence"] = [{"start": _iso(a), "end": _iso(b)} for a, b in self.evidence]
        row["kinds"] = list(self.kinds)
        return row


@dataclass
class Life:
    seed: int
    people: dict[str, Person]
    recordings: list[Recording]
    facts: dict  # the story's values that lines say and questions ask about
    questions: list[Question] = field(default_factory=list)

    def tag(self, name: str) -> tuple[Recording, Line]:
        for rec in self.recordings:
            for line in rec.lines:
                if line.tag == name:
                    return rec, line
        raise KeyError(name)

    def span(self, *tags: str) -> list[tuple[datetime, datetime]]:
        out = []
        for name in tags:
            if name in {r.key for r in self.recordings}:
                rec = next(r for r in self.recordings if r.key == name)
                out.append((rec.start, rec.end))
            else:
                _, line = self.tag(name)
                out.append((line.start, line.end))  # type: ignore[arg-type]
        return out

    def rec(self, key: str) -> Recording:
        return next(r for r in self.recordings if r.key == key)

    def manifest_rows(self) -> list[dict]:
        rows = []
        for rec in self.recordings:
            row: dict = {"file": rec.file, "device": PHONE if rec.kind != "video" else DEVICE}
            if rec.meta != "container":
                row["start"] = _iso(rec.start)
            if rec.meta == "manifest":
                row["lat"], row["lon"] = rec.lat, rec.lon
            rows.append(row)
        return rows


def _iso(moment: datetime) -> str:
    return moment.astimezone(TZ).isoformat(timespec="seconds")


def day(n: int) -> date:
    return FIRST_DAY + timedelta(days=n)


def at(n: int, hour: int, minute: int = 0) -> datetime:
    return datetime(day(n).year, day(n).month, day(n).day, hour, minute, tzinfo=TZ)


NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def spoken_clock(moment: datetime) -> str:
    """'nine', 'nine thirty', 'eleven' - the way people say a time."""
    hour = NUMBER_WORDS[(moment.hour - 1) % 12 + 1]
    return hour if moment.minute == 0 else f"{hour} thirty" if moment.minute == 30 else f"{hour} {moment.minute}"


def written_clock(moment: datetime) -> str:
    suffix = "am" if moment.hour < 12 else "pm"
    hour = (moment.hour - 1) % 12 + 1
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def when(moment: datetime) -> str:
    return f"{moment:%A} at {written_clock(moment)}"


def dollars(amount: int) -> str:
    return f"${amount}"


def spoken_dollars(amount: int) -> str:
    ones = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    teens = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
    tens = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

    def below_100(n: int) -> str:
        if n < 10:
            return ones[n]
        if n < 20:
            return teens[n - 10]
        return tens[n // 10] + ("" if n % 10 == 0 else f" {ones[n % 10]}")

    if amount < 100:
        return f"{below_100(amount)} dollars"
    rest = amount % 100
    head = "a hundred" if amount // 100 == 1 else f"{ones[amount // 100]} hundred"
    return f"{head} and {below_100(rest)} dollars" if rest else f"{head} dollars"


def plan_life(seed: int, faces_dir: Path | None = None) -> Life:
    """The whole story as data: recordings with timed lines, the facts they carry, and the questions."""
    rng = random.Random(f"lifegen3:{seed}")
    people = cast(faces_dir, rng)
    jitter = lambda: timedelta(minutes=rng.randint(-4, 4), seconds=rng.randint(0, 59))
    P = PLACES

    # Values the story says and the questions ask about; a few are dealt by the seed.
    f: dict = {
        "truck": [at(2, 9), at(2, 11)],
        "movers_price": rng.choice((300, 400, 500)),
        "dinner": [at(1, 19), at(2, 18)],
        "doctor": [at(3, 10), at(3, 9, 30)],
        "pottery": [at(6, 18), at(5, 18)],
        "bike_pickup": at(3, 14),
        "key": ["under the blue pot by the door", "in the mailbox"],
        "plumber_quote": rng.choice((180, 200, 250)),
        "vase": rng.choice((25, 28, 35)),
        "consult": rng.choice((80, 90, 95)),
        "dinner_bill": rng.choice((54, 57, 62)),
        "hw1_total": 42,
        "hw2_total": 23,
        "cafe_totals": [18, 11, 12],
    }
    quote = rng.choice((120, 140, 160))
    f["bike_cost"] = [quote, quote + 30]
    truck1, truck2 = f["truck"]
    dinner1, dinner2 = f["dinner"]
    doc1, doc2 = f["doctor"]
    class1, class2 = f["pottery"]

    recs: list[Recording] = []

    def rec(key: str, kind: str, start: datetime, place: str | None, meta: str = "manifest", **kw) -> Recording:
        r = Recording(key, kind, start + jitter(), P[place] if place else None, meta, **kw)
        recs.append(r)
        return r

    # Friday ------------------------------------------------------------------------------------
    rec("r01", "audio", at(0, 8, 5), "old").say(
        "Paula", "Hi, it's Paula from Swift Movers, calling about your move.", "paula1_name"
    ).say(ME, "Oh, hi Paula.").say(
        "Paula", f"Our truck will be at your place on Sunday at {spoken_clock(truck1)} in the morning.", "truck1"
    ).say(ME, f"Sunday at {spoken_clock(truck1)}, that works.").say(
        "Paula", f"The price is {spoken_dollars(f['movers_price'])}, and you can pay the driver.", "movers_price"
    ).say(ME, "Great, thanks Paula. Bye.")

    rec("r02", "video", at(0, 8, 40), "old", seen=("Sam",)).say(
        "Sam", "Morning! I brought ten more boxes and a roll of tape."
    ).say(ME, "Thanks Sam, you are a star.").say(
        "Sam", "Could you grab some bubble wrap on your way back? I ran out.", "sam_request"
    ).say(ME, "Sure, I will get bubble wrap at the hardware store.").say(
        "Sam", "And I will bring my van on Sunday for the plants.", "sam_promise"
    ).say(ME, f"I left the spare key {f['key'][0]}, in case you get here first.", "key1").say(
        "Sam", "Under the blue pot, got it. My cousin wants the old lamp and the red chair, by the way."
    ).say("Sam", "You should take Grace to the Food Market on Saturday. The mangoes there are great.", "sam_recommends")

    rec("r03", "video", at(0, 10, 15), "cycles", seen=("Leo",), sign=True).say(
        "Leo", "Morning, what can I do for you?"
    ).say(ME, "Hi, the back wheel is bent and the brakes squeak.").say(
        "Leo", f"I can fix both. The repair will be around {spoken_dollars(quote)}.", "bike_quote"
    ).say(ME, "Okay. When can I pick it up?").say("Leo", "Come back on Monday after two.", "bike_pickup").say(
        ME, "Perfect, thanks Leo.", "leo_named"
    )

    rec("r04", "video", at(0, 10, 50), "tools", sign=True, board=("BUBBLE WRAP $15", "TAPE $4")).say(
        "cashier", "Hi there, is that everything?"
    ).say(ME, "Yes. The bubble wrap, a paint roller and a box of screws.", "hw1_items").say(
        "cashier", f"That comes to {spoken_dollars(f['hw1_total'])}.", "hw1_total"
    ).say(ME, "Here you go, thanks.")

    rec("r05", "video", at(0, 12, 30), "cafe", "container", seen=("Sam",)).say(
        "barista", "Hi, welcome to Sunrise Cafe. What can I get you?", "cafe_named"
    ).say("Sam", "This place has the best banana bread. You have to try it.", "sam_bread").say(
        ME, "Okay. Two cappuccinos and one banana bread, please.", "cafe1_order"
    ).say("barista", f"That's {spoken_dollars(f['cafe_totals'][0])}.", "cafe1_total").say(
        "Sam", "So when does your sister Grace land?"
    ).say(ME, "Her flight gets in at three. I will pick her up.").say("Sam", "Say hello from me.")

    rec("r06", "video", at(0, 16, 10), None, "nogps", seen=("Grace",)).say(
        "Grace", "Hi! It's so good to see you. I brought you a plant for the new flat.", "gift"
    ).say(ME, "Thanks Grace, it's lovely.").say(
        "Grace", f"I booked dinner at Golden Dragon for Saturday at {spoken_clock(dinner1)}.", "dinner1"
    ).say(ME, f"Perfect. And I see the doctor on Monday morning at {spoken_clock(doc1)}.", "doc1").say(
        "Grace", "Could I borrow your umbrella? It might rain tomorrow.", "grace_request"
    ).say(ME, "Sure, take the green umbrella.", "umbrella_lent")

    rec("r07", "photo", at(0, 18, 30), "old", paper=("TRUCK SUNDAY 9 AM", "PACK BOOKS", "CALL BANK"))

    # Saturday ----------------------------------------------------------------------------------
    rec("r08", "video", at(1, 8, 30), "market", seen=("Grace",), sign=True, board=("MANGOES 3 FOR $6",)).say(
        "stallholder", "Morning! Fresh mangoes, three for six dollars."
    ).say("Grace", "Look at these. Sam was right about the mangoes.").say(
        ME, "We will take three mangoes, please.", "buy_mangoes"
    ).say("stallholder", "Six dollars. Would you like some honey, or some avocados?", "honey_offer").say(
        ME, "Not today, thanks."
    ).say("Grace", "The flowers look nice, but you have no vase yet.")

    rec("r09", "video", at(1, 9, 40), "cafe", seen=("Grace",)).say(
        "barista", "Good morning, nice to see you back at Sunrise Cafe."
    ).say(ME, "Hi! A cappuccino for me, and a hot chocolate for my sister.", "cafe2_order").say(
        "Grace", "I will walk along the river while you are at your class."
    ).say("barista", f"{spoken_dollars(f['cafe_totals'][1]).capitalize()}, please.", "cafe2_total")

    rec("r10", "video", at(1, 11, 0), "studio", seen=("Ben",), sign=True).say(
        "Ben", "Welcome back. Today we paint the cups."
    ).say(ME, "Great. Can I also buy that small blue vase?").say(
        "Ben", f"Sure, it's {spoken_dollars(f['vase'])}.", "vase_price"
    ).say(ME, "I will take it. It's for my new flat.", "vase_bought").say(
        "Ben", "Could you bring an old towel next time? We are running low.", "ben_request"
    ).say(ME, "No problem. I will send you the photos of the cups tonight.", "my_promise").say(
        "Ben", f"Thanks. The next class is on Thursday evening at {spoken_clock(class1)}.", "class1"
    )

    rec("r11", "audio", at(1, 12, 10), "studio", "container").say(
        "Mary", "Hello, this is Mary from Park Clinic.", "mary_name"
    ).say(ME, "Hi Mary.").say(
        "Mary", f"Doctor Kim has to move your appointment on Monday to {spoken_clock(doc2)}. Is that okay?", "doc2"
    ).say(ME, f"{spoken_clock(doc2).capitalize()} on Monday is fine.").say(
        "Mary", "Great. Please bring your old X-rays. See you then.", "mary_request"
    ).say(ME, "Will do. Bye.")

    rec("r12", "audio", at(1, 13, 0), "old").say("Paula", "Hi, it's Paula again from Swift Movers.", "paula2_name").say(
        "Paula",
        f"Sorry, the truck is running late on Sunday. It will come at {spoken_clock(truck2)} instead of {spoken_clock(truck1)}.",
        "truck2",
    ).say(ME, f"{spoken_clock(truck2).capitalize()} on Sunday, okay. Thanks for letting me know.")

    rec("r13", "video", at(1, 15, 0), "new", seen=("Frank", "Grace")).say(
        "Frank", "Hi, I'm Frank, I manage the building. Here are your keys.", "frank_keys"
    ).say(ME, "Thanks Frank. This is my sister Grace.").say("Grace", "Nice to meet you, Frank.").say(
        "Frank", "The lift is booked for you on Sunday from ten to one.", "lift"
    ).say("Frank", "And the bins go out on Tuesday night.", "bins").say(
        ME, "The hot water is not working in the bathroom."
    ).say(
        "Frank",
        f"I will get the plumber in on Monday. It will cost about {spoken_dollars(f['plumber_quote'])}, but the owner pays.",
        "plumber_quote",
    )

    rec("r14", "video", at(1, 17, 20), "tools", "container").say(
        ME, "Just the packing tape and this doormat, please.", "hw2_items"
    ).say("cashier", f"{spoken_dollars(f['hw2_total']).capitalize()}. Do you need a bag?", "hw2_total").say(
        ME, "No thanks."
    ).say("cashier", "Good luck with the move.")

    rec("r15", "video", at(1, 19, 10), "old", seen=("Grace", "Sam")).say(
        "Grace",
        f"Bad news, Golden Dragon is full tonight. So our dinner is now on Sunday, at {spoken_clock(dinner2)}.",
        "dinner2",
    ).say("Sam", "Sunday works for me too. Can I come?").say("Grace", "Of course, Sam.").say(
        ME, f"Oh, and the key is not under the blue pot any more. It is {f['key'][1]} now.", "key2"
    ).say("Sam", "The mailbox, okay.").say(ME, f"And the truck comes at {spoken_clock(truck2)} now, not {spoken_clock(truck1)}.")

    # Sunday ------------------------------------------------------------------------------------
    rec("r16", "video", at(2, 10, 10), "old", seen=("Sam",)).say(
        "Sam", "Here I am with my van, like I promised.", "van_kept"
    ).say(ME, "Thanks. Take the plants and the lamp first.").say("Sam", "Where is the tape?").say(
        ME, "In the kitchen, next to the fridge.", "tape_fridge"
    )

    rec("r17", "video", at(2, 11, 5), "old", seen=("Sam",)).say(
        "driver", "Morning, Swift Movers. Where do the boxes go?", "movers_came"
    ).say(ME, "Everything in the hall is going. The sofa is in the living room.").say(
        "driver", "No problem. You can pay by card at the end."
    ).say(ME, "Yes, by card.", "movers_paid")

    rec("r18", "video", at(2, 13, 0), "new", seen=("Grace", "Sam")).say(
        "Grace", "Where should the plant go?"
    ).say(ME, "By the window, I think.").say("Sam", "What colour will you paint the bedroom?").say(
        ME, "I have decided. Green, like the park.", "paint_decision"
    ).say("Grace", "I will send you the photos of the move tonight.", "grace_promise").say(
        "Sam", "I need to leave at four, I have football."
    )

    rec("r19", "video", at(2, 15, 30), "cafe", seen=("Ben",)).say(
        "barista", "Hello again, welcome back to Sunrise Cafe."
    ).say("Ben", "Oh hi! Fancy meeting you here.").say(ME, "Hi Ben! Take a seat. Two cappuccinos, please.", "cafe3_order").say(
        "Ben", "Thanks for the photos of the cups. How is the move going?"
    ).say(ME, "Almost done. My back hurts though.").say(
        "barista", f"{spoken_dollars(f['cafe_totals'][2]).capitalize()}, please.", "cafe3_total"
    )
    rec("r20", "photo", at(2, 15, 50), "cafe", paper=("JAZZ NIGHT", "FRIDAY 22 MAY", "8 PM"))

    rec(
        "r21", "video", at(2, 18, 5), "thai", seen=("Grace", "Sam"), sign=True, board=("FRIED RICE $14", "DUMPLINGS $12")
    ).say("waiter", "Welcome to Golden Dragon! Table for three?").say("Grace", "Yes, the booking for six, under Grace.").say(
        "Sam", "I will have the dumplings."
    ).say(ME, "Fried rice for me, please.").say("Grace", "Dinner is my treat tonight.", "grace_pays").say(
        "waiter", f"That's {spoken_dollars(f['dinner_bill'])} all together.", "dinner_bill"
    )

    # Monday ------------------------------------------------------------------------------------
    rec("r22", "video", at(3, 9, 25), "clinic", seen=("Kim",), sign=True).say(
        "Kim", "Hello, I'm Doctor Kim. Come in.", "kim_intro"
    ).say(ME, "Hi. My back has been sore since I started packing.").say(
        "Kim", "It's a strained muscle. Rest, and take these tablets twice a day.", "tablets"
    ).say("Kim", "Come back in two weeks if it still hurts.").say(ME, "Thanks, Doctor.")
    rec("r23", "photo", at(3, 9, 50), "clinic", paper=("PARK CLINIC", "CONSULT FEE", f"{f['consult']} DOLLARS", "PAID"))

    rec("r24", "video", at(3, 11, 15), "market").say("stallholder", "Morning! Back again?").say(
        ME, "Yes. A loaf of bread and two mangoes, please.", "buy_bread"
    ).say("stallholder", "Five dollars, thanks.")

    rec("r25", "video", at(3, 14, 20), "cycles", "container", seen=("Leo",)).say(
        "Leo", "Hi again. Your bicycle is ready."
    ).say("Leo", f"It came to {spoken_dollars(f['bike_cost'][1])} in the end. I had to replace the chain as well.", "bike_final").say(
        ME, "That's fine. Thanks Leo, it rides like new."
    )

    rec("r26", "video", at(3, 16, 0), "new", seen=("Grace",)).say(
        "Grace", "Thanks for having me. I left your green umbrella in the kitchen cupboard.", "umbrella_back"
    ).say(ME, "Safe flight. Text me when you land.").say("Grace", "I will. Don't forget your pottery class on Thursday.")

    rec("r27", "audio", at(3, 18, 30), "new").say("Ben", "Hi, it's Ben from Clay Studio.").say(
        "Ben", f"We have to move this week's class to Wednesday evening at {spoken_clock(class2)}. Same place.", "class2"
    ).say(ME, f"Wednesday at {spoken_clock(class2)}, no problem. I will bring the old towel.")

    for r in recs:
        _lay_out(r, rng)
    life = Life(seed, people, recs, f)
    from pipelines.lifegen3_questions import ask  # the questions live apart from the story's rendering

    life.questions = ask(life, random.Random(f"lifegen3-q:{seed}"))
    return life


def speech_estimate_s(text: str) -> float:
    return 0.35 + S_PER_WORD * len(text.replace("-", " ").split())


def _lay_out(rec: Recording, rng: random.Random) -> None:
    """Times every line; fixes the GPS point (jittered within ~25 m) and the length."""
    if rec.place is not None:
        rec.lat = round(rec.place.lat + rng.uniform(-0.0002, 0.0002), 6)
        rec.lon = round(rec.place.lon + rng.uniform(-0.0002, 0.0002), 6)
    if rec.kind == "photo":
        rec.duration_s = 0.0
        return
    t = rec.start + timedelta(seconds=0.6)
    for line in rec.lines:
        length = timedelta(seconds=round(speech_estimate_s(line.text), 2))
        line.start, line.end = t, t + length
        t = line.end + timedelta(seconds=LINE_GAP_S)
    rec.duration_s = round((t - rec.start).total_seconds() + 0.6, 2)


# -- rendering -----------------------------------------------------------------------------------

BOARD_FONT = cv2.FONT_HERSHEY_DUPLEX


def draw_lines(frame: np.ndarray, lines: Sequence[str], box: tuple[int, int, int, int], height: int = 30) -> None:
    """Black capitals on a white panel, each line as tall as ``height`` px where the box allows."""
    x0, y0, x1, y1 = box
    cv2.rectangle(frame, (x0 - 4, y0 - 4), (x1 + 4, y1 + 4), (40, 40, 40), -1)
    cv2.rectangle(frame, (x0, y0), (x1, y1), (250, 250, 250), -1)
    step = (y1 - y0) / max(1, len(lines))
    for i, text in enumerate(lines):
        (w, h), _ = cv2.getTextSize(text, BOARD_FONT, 1.0, 2)
        scale = min(height / h, (x1 - x0 - 24) / w, (step * 0.7) / h)
        (tw, th), _ = cv2.getTextSize(text, BOARD_FONT, scale, 2)
        y = int(y0 + step * i + (step + th) / 2)
        cv2.putText(frame, text, (x0 + (x1 - x0 - tw) // 2, y), BOARD_FONT, scale, (0, 0, 0), 2, cv2.LINE_AA)


def draw_frame(rec: Recording, people: dict[str, Person]) -> np.ndarray:
    frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    if rec.kind == "photo":  # a close-up of paper: a note, a receipt, a poster
        frame[:] = (90, 110, 130)
        draw_lines(frame, rec.paper, (70, 30, WIDTH - 70, HEIGHT - 30), height=44)
        return frame
    place = rec.place or PLACES["old"]  # no GPS does not mean nowhere: Grace arrives at the old flat
    frame[:] = place.colour
    draw_props(frame, place.kind)
    faces = [people[n].video_photo for n in rec.seen if people[n].video_photo is not None]
    if len(faces) == 1:
        _paste(frame, portrait(faces[0], 130), 380, 105)  # type: ignore[arg-type]
        board_box = (20, 150, 330, 330)
    elif faces:
        for photo, x in zip(faces, (150, 400)):
            _paste(frame, portrait(photo, 110), x, 125)  # type: ignore[arg-type]
        board_box = (10, 110, 140, 340)
    else:
        board_box = (120, 140, 520, 330)
    if rec.board:
        draw_lines(frame, rec.board, board_box)
    if rec.sign and place.sign:
        draw_sign(frame, place.sign)
    return frame


SR = 22050


def speech_track(rec: Recording, people: dict[str, Person]) -> np.ndarray:
    track = np.zeros(round(rec.duration_s * SR), np.float32)
    for line in rec.lines:
        voice = people[line.speaker].voice
        slot = (line.end - line.start).total_seconds()  # type: ignore[operator]
        rate = RATE
        audio = synthesize(line.text, voice, rate)
        while len(audio) > slot * SR and rate < MAX_RATE:  # the world's timings stay true
            rate = int(rate * len(audio) / (slot * SR)) + 5
            audio = synthesize(line.text, voice, rate)
        audio = audio[: int(slot * SR)]
        at_ = int((line.start - rec.start).total_seconds() * SR)  # type: ignore[operator]
        level = WEARER_RMS_DBFS + (0.0 if line.speaker == ME else OTHERS_GAIN_DB)
        if rec.kind == "audio" and line.speaker != ME:
            level -= 2.0  # a phone's earpiece
        rms = float(np.sqrt(np.mean(audio[np.abs(audio) > 0.01] ** 2)))
        track[at_ : at_ + len(audio)] += audio * (10 ** (level / 20) / rms)
    return np.clip(track * 0.9, -1.0, 1.0)


def _ffmpeg(args: list[str], out: Path) -> None:
    result = subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", *args, str(out)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {result.stderr.strip()[-400:]}")


def render(rec: Recording, people: dict[str, Person], out_dir: Path, scratch: Path) -> None:
    target = out_dir / rec.file
    target.parent.mkdir(parents=True, exist_ok=True)
    if rec.kind == "photo":
        cv2.imwrite(str(target), draw_frame(rec, people), [cv2.IMWRITE_JPEG_QUALITY, 92])
        return
    wav = scratch / "speech.wav"
    _write_wav(wav, speech_track(rec, people))
    tags = ["-metadata", f"creation_time={rec.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"]
    if rec.meta != "nogps" and rec.lat is not None:
        tags += ["-metadata", f"location={iso6709(rec.lat, rec.lon)}"]  # type: ignore[arg-type]
    flags = ["-movflags", "+faststart+use_metadata_tags"]
    audio = ["-c:a", "aac", "-b:a", "64k", "-ar", "16000", "-ac", "1"]
    if rec.kind == "audio":
        _ffmpeg(["-i", str(wav), "-t", f"{rec.duration_s:.3f}", *audio, *tags, *flags], target)
        return
    png = scratch / "frame.png"
    cv2.imwrite(str(png), draw_frame(rec, people))
    video = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p", "-r", str(FPS)]
    args = ["-loop", "1", "-framerate", str(FPS), "-i", str(png), "-i", str(wav), "-t", f"{rec.duration_s:.3f}"]
    _ffmpeg([*args, "-map", "0:v", "-map", "1:a", *video, *audio, *tags, *flags], target)


def write_people(life: Life, out_dir: Path) -> None:
    for person in life.people.values():
        if not person.enrolled:
            continue
        folder = out_dir / "people" / person.name
        folder.mkdir(parents=True, exist_ok=True)
        for i, photo in enumerate(person.photos):
            cv2.imwrite(str(folder / f"{i + 1}.jpg"), _read_image(photo), [cv2.IMWRITE_JPEG_QUALITY, 95])


def _jsonl(rows: Sequence[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def questions_text(life: Life) -> str:
    return _jsonl([q.record() for q in life.questions])


def paraphrases_text(life: Life) -> str:
    return _jsonl([q.record(i, f"-p{i}") for q in life.questions for i in range(1, len(q.wordings))])


def generate_life(out: Path, faces_dir: Path, seed: int, *, render_media: bool = True) -> Life:
    """Plan the life for ``seed`` and write it into ``out`` (empty or absent)."""
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing and render_media:
        raise RuntimeError(f"lifegen3 needs {' and '.join(missing)} on PATH")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    life = plan_life(seed, Path(faces_dir))
    out.mkdir(parents=True, exist_ok=True)
    if render_media:
        with tempfile.TemporaryDirectory(prefix="lifegen3-") as tmp:

            def job(item: tuple[int, Recording]) -> None:
                scratch = Path(tmp) / str(item[0])
                scratch.mkdir()
                render(item[1], life.people, out, scratch)

            with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
                list(pool.map(job, enumerate(life.recordings)))
        write_people(life, out)
    (out / "manifest.jsonl").write_text(_jsonl(life.manifest_rows()), encoding="utf-8")
    (out / "questions.jsonl").write_text(questions_text(life), encoding="utf-8")
    (out / "paraphrases.jsonl").write_text(paraphrases_text(life), encoding="utf-8")
    return life


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lifegen3", description="Generate the held-out life.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--faces", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        life = generate_life(args.out, args.faces, args.seed)
    except (FileExistsError, FileNotFoundError, RuntimeError) as exc:
        print(f"lifegen3: {exc}", file=sys.stderr)
        return 1
    kinds = Counter(r.kind for r in life.recordings)
    seconds = sum(r.duration_s for r in life.recordings)
    types = Counter(q.type for q in life.questions)
    print(
        f"wrote {args.out}: {len(life.recordings)} recordings ({dict(kinds)}, {seconds:.0f} s), "
        f"{len(life.questions)} questions {dict(sorted(types.items()))} in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
