"""Facts: what was planned, asked, promised, bought or decided, read out of a moment's speech and text.

A fact is memory beside the moment it came from: "the vet on Saturday at ten", said on Wednesday,
is a plan whose target is that Saturday 10:00, and cites the moment it was heard in. Later facts
about the same thing update earlier ones (valid_from / valid_to, as in Zep): the latest wins and the
history is kept.

Extraction is by cue tables (all of them below, in one place), one sentence at a time, first cue
wins: a sentence gives at most one fact and is its evidence span. `reconcile` then orders facts by
when they were said (never by when they arrived) and lets later ones supersede, cancel or close
earlier ones about the same thing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from egomem.memory.events import Event
from egomem.timeexpr import TimeWindow, names_day, parse_clock, resolve_ahead

# == cue tables ===================================================================================

WEARER = "me"
WEARER_NAMES = frozenset({"me", "wearer", "self"})  # speaker ids that mean the person wearing the device

# Not speech acts, whatever follows: "can you believe it", "I can't believe", "would you believe".
NOT_AN_ACT = re.compile(
    r"\b(?:can|could|would|will|do) you (?:believe|imagine|guess)\b|\bcan'?t believe\b|\bcannot believe\b|"
    r"\bwould you believe\b|\bI wonder\b|\bimagine that\b",
    re.IGNORECASE,
)

# (kind, cue, pattern), checked in order per sentence; the first that matches makes the fact.
# `rest` is what the act is about; `status` marks sentences that close earlier facts.
# `?` in a cue's name means the sentence may be a question ("could you ...?", "shall we ...?").
_VERB_AFTER = r"(?!not\b|never\b|be\b|have to\b|see\b|bet\b|try to\b|do that\b|let\b)"
SPEECH_ACTS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # cancellations: "the dentist is cancelled", "we called off the party", "forget about Friday"
    ("plan", "cancel", re.compile(r"(?P<rest>\b.+?)\s+(?:is|are|was|were|has been|have been|got|'s)\s+(?:been\s+)?(?:cancel+ed|called off)\b", re.IGNORECASE)),
    ("plan", "cancel", re.compile(r"\b(?:cancel+ed|cancel|called off|call off|scrap|scrapped)\s+(?P<rest>.+)", re.IGNORECASE)),
    ("plan", "cancel", re.compile(r"^(?:\w+,\s*)?(?:just\s+|oh,?\s+)?forget (?:about )?(?!to\b|it\b)(?P<rest>.+)", re.IGNORECASE)),
    ("plan", "cancel", re.compile(r"\b(?:no need to|you don't need to|don't bother)\s+(?P<rest>.+)", re.IGNORECASE)),
    # done: "I picked up the batteries", "I already called", "done!"
    ("request", "done", re.compile(
        r"\b(?:I|we)(?:'ve| have)? (?:already |just |finally )?(?P<rest>(?:picked up|called|phoned|sent|mailed|posted|emailed|texted|"
        r"finished|fixed|returned|dropped off|took care of|grabbed|got|signed|washed|cleaned|did)\b(?!n't)(?! to\b).*)", re.IGNORECASE)),
    ("request", "done", re.compile(r"^(?:it's |it is |all |that's |ok,? )?(?P<rest>done)\b", re.IGNORECASE)),
    # recommendations: "you should try the ramen", "I recommend the museum"
    ("recommendation", "recommend", re.compile(r"\byou (?:really |definitely )?(?:should|ought to|gotta|have got to) (?:really |definitely )?(?P<rest>(?:try|see|watch|read|visit|check out|go to|listen to|taste|order|get) .+)", re.IGNORECASE)),
    ("recommendation", "recommend", re.compile(r"\bI(?:'d| would)? (?:highly |really |strongly |totally )?recommend(?:ed)? (?P<rest>.+)", re.IGNORECASE)),
    ("recommendation", "recommend", re.compile(r"\b(?P<rest>.+?) (?:is|are|was) (?:really |definitely |totally )?worth (?:a visit|a try|trying|seeing|watching|reading|it)\b", re.IGNORECASE)),
    # decisions: "we decided to paint it blue", "let's go with the green one"
    ("decision", "decide", re.compile(r"\b(?:we|I)(?:'ve| have)? (?:finally )?decided (?:to |on |that |we'll |we will )?(?P<rest>.+)", re.IGNORECASE)),
    ("decision", "decide", re.compile(r"\b(?:let's|we'll|we will|we're|we are|I'll|I will|I'm) go(?:ing)? with (?P<rest>.+)", re.IGNORECASE)),
    ("decision", "decide", re.compile(r"\bwe agreed (?:to |on |that )?(?P<rest>.+)", re.IGNORECASE)),
    ("decision", "decide", re.compile(r"\bthe decision is (?:to )?(?P<rest>.+)", re.IGNORECASE)),
    # things put, left or lent: "I left the spare key under the blue pot", "I lent my drill to Sam"
    ("placement", "lend", re.compile(r"\b(?:I|we)(?:'ve| have)? (?:lent|loaned|lend|given|gave) (?P<rest>(?:my|our|the|a|an|his|her|their) .+?) to (?P<who>[A-Z]\w+|my \w+|the \w+)", re.IGNORECASE)),
    ("placement", "lend", re.compile(r"\b(?:I|we)(?:'ve| have)? (?:lent|loaned) (?P<who>[A-Z]\w+|him|her|them) (?P<rest>(?:my|our|the|a|an) .+)", re.IGNORECASE)),
    ("placement", "put", re.compile(
        r"\b(?:I|we|he|she|they|you)(?:'ve| have)? (?:left|put|placed|stashed|hid|hidden|kept|stored|dropped|parked) (?P<rest>(?:my|our|the|a|an|your|his|her|their|some) .+?) "
        r"(?P<where>(?:under|in|on|behind|inside|next to|beside|by|in front of|on top of|above|below|at) (?:the|my|our|your|his|her|their|a)\b.+)", re.IGNORECASE)),
    ("placement", "put", re.compile(r"\b(?P<rest>(?:the|my|our|your) (?:spare )?(?:key|keys|wallet|passport|phone|glasses|charger|umbrella|bike|car)) (?:is|are) (?P<where>(?:under|in|on|behind|inside|next to|beside|by|on top of) (?:the|my|our|your|a)\b.+)", re.IGNORECASE)),
    # requests: "could you grab batteries?", "don't forget to call the plumber", "I need you to sign"
    ("request", "ask?", re.compile(r"\b(?:can|could|would|will) you (?:please |kindly |maybe )?(?!be\b|have\b|like\b|want\b|prefer\b|rather\b|know\b|remember\b|think\b|say\b|mind if\b)(?P<rest>[a-z].+)", re.IGNORECASE)),
    ("request", "ask?", re.compile(r"\bwould you mind (?P<rest>\w+ing\b.+)", re.IGNORECASE)),
    ("request", "ask", re.compile(r"\bplease (?!\w+ly\b)(?P<rest>[a-z]+.*)", re.IGNORECASE)),
    ("request", "ask", re.compile(r"\bI(?: need| want|'d like| would like) you to (?P<rest>.+)", re.IGNORECASE)),
    ("request", "remind", re.compile(r"\b(?:remember to|don't forget to|do not forget to|make sure(?: you| to)|be sure to) (?P<rest>.+)", re.IGNORECASE)),
    ("request", "remind", re.compile(r"\b(?:don't|do not) forget (?:about )?(?P<rest>.+)", re.IGNORECASE)),
    ("request", "ask", re.compile(r"\byou (?:need to|have to|must|'ve got to|got to) (?!be\b)(?P<rest>[a-z].+)", re.IGNORECASE)),
    # purchases and orders: "I'll take the blue one", "I bought oat milk", "that's twelve fifty"
    ("purchase", "order", re.compile(r"\bI(?:'ll| will|'d like to| would like to) (?:take|have|order|get) (?P<rest>(?:the|a|an|one|two|three|this|that|these|those) .+)", re.IGNORECASE)),
    ("purchase", "order", re.compile(r"\bI(?:'d| would) like (?P<rest>(?:the|a|an|one|two|some) .+)", re.IGNORECASE)),
    ("purchase", "buy", re.compile(r"\b(?:I|we)(?:'ve| have| just)? (?:bought|ordered|purchased|paid for) (?P<rest>.+)", re.IGNORECASE)),
    # promises: "I'll send you the photos tonight", "I will call her tomorrow"
    ("promise", "promise", re.compile(r"\bI(?:'ll| will| shall|'m going to| am going to| promise to|'m gonna| am gonna) " + _VERB_AFTER + r"(?!the\b|a\b|an\b|my\b)(?P<rest>[a-z]+\b.*)", re.IGNORECASE)),
    ("promise", "promise", re.compile(r"\bI promise (?:I'll |I will |that I'll |to )?(?P<rest>[a-z].+)", re.IGNORECASE)),
    # plans: "let's meet at the cafe on Friday", "shall we ...", "we should ... on Saturday"
    ("plan", "propose?", re.compile(r"\b(?:let's|let us|shall we|how about we|why don't we) (?P<rest>[a-z].+)", re.IGNORECASE)),
    ("plan", "intend", re.compile(r"\b(?:we|I)(?:'re| are|'m| am) (?:going to|meeting|having|seeing|visiting|off to) (?P<rest>.+)", re.IGNORECASE)),
    ("plan", "intend", re.compile(r"\b(?:we'll|we will|we should|we're going to) (?!not\b|never\b|see\b)(?P<rest>[a-z].+)", re.IGNORECASE)),
    ("plan", "move?", re.compile(r"\b(?:move|moved|push|pushed|reschedule|rescheduled|change|changed|postpone|postponed|bring forward) (?P<rest>.+?) (?:to|until|till) (?P<when>.+)", re.IGNORECASE)),
    ("plan", "booked", re.compile(r"\b(?:I|we)(?:'ve| have)? (?:booked|scheduled|reserved|made) (?P<rest>.+)", re.IGNORECASE)),
    ("plan", "have", re.compile(r"\b(?:I|we|you) (?:have|'ve got|got) (?P<rest>(?:a|an|the|my|our|your) .+)", re.IGNORECASE)),
)

# Things that are plans when a time comes with them: "the meeting is at 3 pm", "dinner tomorrow at seven".
EVENT_NOUNS = (
    "dinner", "lunch", "breakfast", "brunch", "meeting", "party", "appointment", "vet", "dentist", "doctor", "interview",
    "haircut", "check-up", "checkup", "class", "lesson", "practice", "game", "match", "concert", "movie", "film", "show",
    "flight", "train", "trip", "wedding", "birthday", "date", "call", "drinks", "coffee", "picnic", "barbecue", "bbq",
    "rehearsal", "exam", "session", "visit", "delivery", "pickup", "pick-up", "playdate", "meetup", "physio", "yoga",
)  # fmt: skip
# A plan is an appointment when one of these is booked at a clock time.
APPOINTMENT_NOUNS = (
    "appointment", "vet", "dentist", "doctor", "interview", "haircut", "check-up", "checkup", "meeting", "physio",
    "reservation", "booking", "flight", "train", "exam", "session", "hairdresser", "therapist",
)  # fmt: skip

# Spoken numbers, for prices ("twelve fifty", "two hundred", "a hundred and twenty").
NUMBER_WORDS = {
    "zero": 0, "one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
NUMBER_SCALES = {"hundred": 100, "thousand": 1000}
CURRENCY_WORDS = {
    "$": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD",
    "€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "£": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "gbp": "GBP",
}  # fmt: skip
MINOR_UNITS = ("cents", "cent", "pence", "p")
# Words before a number that make it a price even without a currency: "that's twelve fifty".
PRICE_CUES = r"(?:that's|that is|that'll be|that will be|it's|it is|it'll be|it will be|comes to|come to|total(?: is)?|you owe(?: me)?|costs?|cost me|paid|pay|charged?|for|only|just|be|is|are|was|were|around|about|roughly|under|over)"
# Price sentences that quote rather than buy: "the repair will be around two hundred dollars".
QUOTE_CUES = re.compile(r"\b(?:will be|would be|'ll be|is going to be|going to cost|will cost|would cost|costs?|estimate[ds]?|quote[ds]?|charges?|is|are)\b", re.IGNORECASE)
BUY_CUES = re.compile(r"\b(?:that's|that is|that'll be|that will be|comes to|total|you owe|here's|here is|paid|bought|ordered|receipt|change)\b", re.IGNORECASE)
RECEIPT_CUES = re.compile(r"\b(?:total|subtotal|amount|due|paid|visa|cash|change|receipt|balance)\b", re.IGNORECASE)

# Words that say nothing about what a fact is about, left out of subjects and of matching.
STOPWORDS = frozenset(
    ["a", "an", "the", "some", "any", "my", "your", "our", "his", "her", "their", "its", "this", "that", "these", "those", "me", "you", "him", "them", "us", "it", "i", "we", "they", "he", "she", "to", "for", "of", "on", "in", "at", "by", "with", "from", "up", "off", "out", "about", "into", "over", "please", "just", "really", "also", "too", "now", "then", "again", "there", "here", "is", "are", "was", "were", "be", "been", "will", "would", "could", "can", "should", "shall", "do", "does", "did", "done", "have", "has", "had", "get", "got", "go", "going", "gonna", "way", "home", "ok", "okay", "so", "and", "or", "but", "if", "when", "while", "because", "yeah", "yes", "no", "not", "don't", "do't", "one", "thing", "stuff", "later", "soon", "already", "still", "back", "tomorrow", "tonight", "today", "morning", "afternoon", "evening", "night", "next", "week", "weekend", "instead"]
)  # fmt: skip
# Where a request's content ends: the time, the reason and politeness are not what it is about.
_CONTENT_END = re.compile(
    r"\s+(?:on your way\b|on the way\b|when\b|while\b|because\b|since\b|so that\b|so\b|if\b|before\b|after\b|by\b|until\b|"
    r"tomorrow\b|tonight\b|today\b|this (?:morning|afternoon|evening|week|weekend)\b|next\b|later\b|soon\b|in (?:a|an|\d+|one|two|three|four|five|ten) (?:minutes?|hours?|days?|weeks?)\b|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
    r"at (?:\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight|half|quarter)\b|around (?:\d|noon)|"
    r"for me\b|for us\b|please\b|for (?:about|around)\b|as well\b|and then\b|,|;|\?|!|\.(?!\d)|\s-\s)",
    re.IGNORECASE,
)
_PHRASAL = ("up", "off", "out", "back", "down", "over", "in")  # "pick up", "drop off": one verb
_OBJECT_PRONOUNS = ("me", "us", "him", "her", "them", "you")
_DETERMINERS = re.compile(r"^(?:the|a|an|some|my|your|our|his|her|their|this|that|these|those|any)\s+", re.IGNORECASE)

# Updates: a later fact supersedes, cancels or closes an earlier one about the same thing when its
# subject shares a content word and is this similar (MiniLM cosine), or is very similar alone.
SUBJECT_SIMILAR = 0.45
SUBJECT_SAME = 0.8
DONE_WINDOW = timedelta(hours=12)  # a bare "done!" closes the last open request of the last hours
FACT_NAMESPACE = uuid.UUID("0f6b1e7a-2c3d-5b4e-8f9a-7d6c5b4a3e21")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


# == types ========================================================================================


class FactKind(str, Enum):
    REQUEST = "request"  # someone asked someone to do something ("can you pick up bread?")
    PROMISE = "promise"  # someone said they will do something ("I'll call the plumber")
    PLAN = "plan"  # something to happen later, with a target time when one was said
    APPOINTMENT = "appointment"  # a plan with a booked time ("the dentist on Friday at 3")
    PURCHASE = "purchase"  # something bought or ordered, with its price when said or seen
    PRICE = "price"  # what something costs or will cost ("it will be 180 euros")
    DECISION = "decision"
    RECOMMENDATION = "recommendation"
    PLACEMENT = "placement"  # something put, left or lent somewhere or to someone


class FactStatus(str, Enum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a later fact about the same thing replaced it


# Kinds that update each other: a plan can be moved by a later appointment, a request closed by a promise.
FAMILIES: dict[FactKind, str] = {
    FactKind.REQUEST: "todo", FactKind.PROMISE: "todo", FactKind.PLAN: "plan", FactKind.APPOINTMENT: "plan",
    FactKind.PURCHASE: "purchase", FactKind.PRICE: "price", FactKind.DECISION: "decision",
    FactKind.RECOMMENDATION: "recommendation", FactKind.PLACEMENT: "placement",
}  # fmt: skip


@dataclass
class Fact:
    id: str  # deterministic from the moment and the sentence, so a re-ingest replaces it
    kind: FactKind
    text: str  # the evidence span: the sentence as it was said or read
    subject: str  # what it is about, short: "vet visit", "oat milk", "dinner with Ana"
    said_at: datetime  # when the evidence was heard or seen (timezone-aware)
    event_id: str  # the moment that holds the evidence
    recording_id: str
    source: str = "heard"  # "heard" (speech) or "seen" (text in view)
    speaker: str | None = None  # who said it ("me" is the wearer)
    addressee: str | None = None  # who it was said to, when known
    people: list[str] = field(default_factory=list)  # people present when it was said
    place: str | None = None  # where it was said
    target_start: datetime | None = None  # when the plan or request is for
    target_end: datetime | None = None
    where: str | None = None  # where the plan is to happen ("the vet", "Luigi's")
    item: str | None = None  # the thing bought, asked for, lent, recommended
    price: float | None = None
    currency: str | None = None
    status: FactStatus = FactStatus.OPEN
    supersedes: str | None = None  # id of the earlier fact this one updates
    valid_from: datetime | None = None  # when this version became true (said_at unless told otherwise)
    valid_to: datetime | None = None  # when a later fact replaced it; None while it holds
    text_vector: list[float] | None = None
    said_status: FactStatus = FactStatus.OPEN  # what the sentence itself says: CANCELLED for "it's off", DONE for "I called"
    cue: str = ""  # the speech act that matched: "ask", "remind", "promise", "cancel", "done", "seen", ...

    @property
    def family(self) -> str:
        return FAMILIES[self.kind]

    @property
    def document(self) -> str:
        """The text its vector is made of."""
        return f"{self.subject}: {self.text}" if self.subject else self.text

    @property
    def words(self) -> list[str]:
        """Content words of the subject and item, stemmed: what matching and the keyword index use."""
        return content_words(f"{self.subject} {self.item or ''}")


# == extraction ===================================================================================


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.replace("\u2019", "'")) if s.strip()]


def extract_facts(event: Event) -> list[Fact]:
    """Every fact said in the event's quotes, and every price read in its visible text, in order."""
    place = event.place.label if event.place else None
    facts: list[Fact] = []
    for quote in sorted(event.quotes, key=lambda q: q.start):
        addressee = _addressee(quote.speaker, event.people)
        for sentence in split_sentences(quote.text):
            fact = read_sentence(sentence, quote.start)
            if fact is None:
                continue
            _place_in(fact, event, place, quote.speaker, addressee, "heard")
            facts.append(fact)
    for line in event.visible_text:
        fact = read_seen(line, event.start)
        if fact is not None:
            _place_in(fact, event, place, None, None, "seen")
            facts.append(fact)
    return facts


def read_sentence(sentence: str, said_at: datetime) -> Fact | None:
    """The fact one spoken sentence states, or None. Ids and the moment's context are filled by the caller."""
    sentence = " ".join(sentence.replace("\u2019", "'").split())
    if not sentence or NOT_AN_ACT.search(sentence):
        return None
    question = sentence.endswith("?")
    for kind_name, cue, pattern in SPEECH_ACTS:
        if question and not cue.endswith("?"):
            continue
        m = pattern.search(sentence)
        if m is None:
            continue
        fact = _from_match(FactKind(kind_name), cue.rstrip("?"), m, sentence, said_at)
        if fact is not None:
            return fact
    if question:
        return None
    return _priced_or_timed(sentence, said_at)


def read_seen(line: str, seen_at: datetime) -> Fact | None:
    """A price read on a sign, menu or receipt: a purchase when it looks like a receipt, else a price."""
    price = find_price(line, need_cue=False)
    if price is None:
        return None
    amount, currency, span = price
    kind = FactKind.PURCHASE if RECEIPT_CUES.search(line) else FactKind.PRICE
    label = " ".join((line[: span[0]] + " " + line[span[1] :]).split()).strip(" :-=.")
    item = _normal(label) if kind == FactKind.PRICE and label and not RECEIPT_CUES.search(label) else None
    subject = item or ("receipt" if kind == FactKind.PURCHASE else "price")
    return Fact("", kind, line.strip(), subject, seen_at, "", "", source="seen", item=item, price=amount, currency=currency, cue="seen")


def _from_match(kind: FactKind, cue: str, m: re.Match[str], sentence: str, said_at: datetime) -> Fact | None:
    groups = m.groupdict()
    rest = (groups.get("rest") or "").strip()
    when_text = sentence
    status = FactStatus.OPEN
    where = None
    item: str | None = None
    if cue == "cancel":
        status = FactStatus.CANCELLED
        kind = _cancelled_kind(rest)
        subject = _subject_phrase(rest, verb=False) or _normal(rest)
    elif cue == "done":
        status = FactStatus.DONE
        subject = _subject_phrase(rest, verb=True) or _normal(rest)
        item = _object(subject)
    elif cue == "move":
        when_text = f"{_event_noun(rest) or ''} at " + (groups.get("when") or "") if re.match(r"\s*(\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon)\b", groups.get("when") or "", re.IGNORECASE) else (groups.get("when") or "")
        subject = _event_noun(rest) or _subject_phrase(rest, verb=False)
        if not subject:
            return None
    elif kind == FactKind.PLACEMENT:
        item = _subject_phrase(rest, verb=False)
        where = (groups.get("where") or "").strip(" .!,") or None
        if groups.get("who"):
            where = groups["who"].strip()
        if not item:
            return None
        subject = item
    elif kind == FactKind.PLAN:
        if cue == "have" and not _event_noun(rest):
            return None  # "I have a cold" is no plan; "I have a dentist appointment on Friday" is
        if cue == "intend" and not (_event_noun(rest) or resolve_ahead(sentence, said_at)):
            return None  # "we should really" / "I'm going to the kitchen": nothing planned
        subject = _event_noun(rest) or _subject_phrase(rest, verb=True, keep_place=True)
        where = _where(sentence)
        if not subject:
            return None
    elif kind == FactKind.PURCHASE:
        item = _subject_phrase(rest, verb=False)
        if not item:
            return None
        subject = item
    else:
        verb = kind in (FactKind.REQUEST, FactKind.PROMISE) or (kind == FactKind.RECOMMENDATION and cue == "recommend" and m.re.pattern.startswith(r"\byou"))
        subject = _subject_phrase(rest, verb=verb)
        if not subject:
            return None
        item = _object(subject) if verb else subject
        if kind == FactKind.RECOMMENDATION and not verb:
            item = subject
    if kind in (FactKind.REQUEST, FactKind.PROMISE) and status == FactStatus.OPEN and len(subject.split()) < 1:
        return None
    price = find_price(sentence)
    if price is not None:
        when_text = when_text[: price[2][0]] + when_text[price[2][1] :] if when_text is sentence else when_text
    window = resolve_ahead(when_text, said_at) if kind not in (FactKind.PURCHASE, FactKind.PRICE, FactKind.PLACEMENT, FactKind.DECISION) or cue == "move" else None
    if window is not None and when_text is not sentence and (whole := parse_clock(sentence)) and (part := parse_clock(when_text)):
        if whole[0] == part[0] + 12:  # "move dinner to Saturday at 8": the sentence's "dinner" says 20:00
            window = TimeWindow(window.start + timedelta(hours=12), window.end + timedelta(hours=12))
    if kind == FactKind.PLAN and window is not None and _is_appointment(sentence, window):
        kind = FactKind.APPOINTMENT
    return Fact(
        "", kind, sentence, subject, said_at, "", "", item=item, where=where,
        target_start=window.start if window else None, target_end=window.end if window else None,
        price=price[0] if price else None, currency=price[1] if price else None,
        status=status, said_status=status, cue=cue,
    )  # fmt: skip


def _priced_or_timed(sentence: str, said_at: datetime) -> Fact | None:
    """No speech-act cue: a price quote or a purchase by its price, else a plan by an event and a time."""
    price = find_price(sentence)
    if price is not None:
        amount, currency, span = price
        before = sentence[: span[0]]
        kind = FactKind.PURCHASE if BUY_CUES.search(before) and not re.search(r"\b(?:will|would|going to)\b", before, re.IGNORECASE) else FactKind.PRICE
        if kind == FactKind.PRICE and not QUOTE_CUES.search(before) and currency is None:
            return None
        item = _priced_item(before)
        subject = item or ("purchase" if kind == FactKind.PURCHASE else "price")
        return Fact("", kind, sentence, subject, said_at, "", "", item=item, price=amount, currency=currency, cue="price")
    noun = _event_noun(sentence)
    if noun is None:
        return None
    window = resolve_ahead(sentence, said_at)
    if window is None:
        return None
    kind = FactKind.APPOINTMENT if _is_appointment(sentence, window) else FactKind.PLAN
    return Fact(
        "", kind, sentence, noun, said_at, "", "", where=_where(sentence), target_start=window.start,
        target_end=window.end, cue="time",
    )  # fmt: skip


def _cancelled_kind(rest: str) -> FactKind:
    """A cancelled plan unless it names a request: "no need to buy milk" closes a request."""
    return FactKind.PLAN if _event_noun(rest) or re.search(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|weekend)\b", rest, re.IGNORECASE) else FactKind.REQUEST


def _is_appointment(sentence: str, window) -> bool:
    low = sentence.lower()
    booked = any(re.search(rf"\b{re.escape(n)}\b", low) for n in APPOINTMENT_NOUNS) or re.search(r"\b(?:booked|scheduled|reserved)\b", low)
    clocked = (window.end - window.start) <= timedelta(hours=1)
    return bool(booked and clocked)


def _place_in(fact: Fact, event: Event, place: str | None, speaker: str | None, addressee: str | None, source: str) -> None:
    fact.id = str(uuid.uuid5(FACT_NAMESPACE, f"{event.id}/{fact.said_at.isoformat()}/{fact.text}"))
    fact.event_id, fact.recording_id, fact.source = event.id, event.recording_id, source
    fact.speaker, fact.addressee = speaker, addressee
    fact.people, fact.place = list(event.people), place
    fact.valid_from = fact.said_at


def _addressee(speaker: str | None, present: Sequence[str]) -> str | None:
    """The wearer when someone else speaks; the one person in view when the wearer does."""
    if speaker is None:
        return None
    if speaker not in WEARER_NAMES:
        return WEARER
    others = [p for p in dict.fromkeys(present) if p not in WEARER_NAMES]
    return others[0] if len(others) == 1 else None


# -- phrases --------------------------------------------------------------------------------------


def _subject_phrase(rest: str, *, verb: bool, keep_place: bool = False) -> str:
    """The head of `rest`, up to where its time, reason or politeness begins, without determiners."""
    text = " " + rest.strip() + " "
    cut = _CONTENT_END.search(text)
    phrase = text[: cut.start()] if cut else text
    if not keep_place:
        phrase = re.split(r"\s+(?:at|from|in|near)\s+(?=the\b|[A-Z])", phrase)[0]
    words = phrase.split()
    if verb and len(words) > 1:
        head = 2 if words[1].lower() in _PHRASAL else 1
        tail = [w for w in words[head:] if w.lower() not in _OBJECT_PRONOUNS or len(words) == head + 1]
        words = words[:head] + tail
    return _normal(" ".join(words[:7]))


def _normal(phrase: str) -> str:
    """Lower case, no determiners at the front of a noun phrase, no punctuation at the ends."""
    raw = re.sub(r"[^\w'&\- ]+", " ", phrase.lower()).split()
    determiners = ("the", "a", "an", "some", "my", "your", "our", "his", "her", "their")
    words = [w for k, w in enumerate(raw) if w not in determiners or k == len(raw) - 1]  # "call her" keeps "her"
    return " ".join(words).strip(" '-")


def _object(subject: str) -> str | None:
    """The thing a verb phrase is about: "pick up batteries" -> "batteries"."""
    words = subject.split()
    if len(words) < 2:
        return None
    head = 2 if words[1] in _PHRASAL and len(words) > 2 else 1
    return " ".join(words[head:]) or None


def _event_noun(text: str) -> str | None:
    """The planned thing named in `text` ("dinner", "vet"), with its qualifier ("dentist appointment")."""
    low = text.lower()
    for noun in EVENT_NOUNS:
        m = re.search(rf"\b(?:(\w+) )?{re.escape(noun)}s?\b", low)
        if m is None:
            continue
        if noun == "call" and not re.search(r"\b(?:a|the|our|my|conference|video|phone|zoom) call\b", low):
            continue  # "call" is a plan only as a noun
        qualifier = m.group(1)
        if qualifier and qualifier not in STOPWORDS and qualifier not in ("have", "had") and noun in ("appointment", "meeting", "call", "party", "class", "lesson", "session", "visit", "check-up", "checkup", "date", "exam"):
            return f"{qualifier} {noun}"
        return noun
    return None


def _where(sentence: str) -> str | None:
    """Where a plan is to happen: "at Luigi's", "at the cafe", "to the vet"."""
    for m in re.finditer(r"\b(?:at|to|in)\s+((?:the\s+)?[A-Z][\w'&]*(?:\s+[A-Z][\w'&]*)*|the\s+[a-z][\w'&]*(?:\s+[a-z][\w'&]*)?)", sentence):
        found = m.group(1)
        first = found.split()[0].lower()
        if first in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "i") or re.match(r"the (?:weekend|morning|afternoon|evening|end|moment|same)", found.lower()):
            continue
        words = found.split()
        while words and words[-1].lower() in STOPWORDS:
            words.pop()  # "the beach in two days" -> "the beach"
        if len(words) > (found.lower().startswith("the ") and 1):
            return " ".join(words)
    return None


def _priced_item(before: str) -> str | None:
    """ "the repair will be around" -> "repair"; "that's" -> None."""
    m = re.search(r"\b(?:the|a|an|your|my|this|that|these|those)\s+([a-z][\w\- ]*?)\s+(?:will|would|is|are|was|were|costs?|'ll|comes|going)\b", before, re.IGNORECASE)
    if m is None:
        return None
    item = _normal(m.group(1))
    return item if item and item not in STOPWORDS else None


def content_words(text: str) -> list[str]:
    """Stemmed content words, for matching a later fact to an earlier one ("called" ~ "call")."""
    out = []
    for word in re.findall(r"[a-z][a-z'\-]*", text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        out.append(_stem(word))
    return list(dict.fromkeys(out))


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + keep
            return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem  # "called" -> "call", "shopping" -> "shop"
    return word


# -- prices ---------------------------------------------------------------------------------------

_NUM_WORD = r"(?:" + "|".join(sorted([*NUMBER_WORDS, *NUMBER_SCALES], key=len, reverse=True)) + r")"
_SPOKEN = rf"{_NUM_WORD}(?:[\s-]+(?:and\s+)?{_NUM_WORD})*"
_CURRENCY = r"(?:" + "|".join(re.escape(c) for c in sorted(CURRENCY_WORDS, key=len, reverse=True)) + r")"
_PRICE_PATTERNS = (
    re.compile(rf"(?P<cur>[$€£])\s?(?P<num>\d[\d,]*(?:\.\d{{1,2}})?)(?:\s+(?P<unit>{_CURRENCY}))?"),
    re.compile(rf"(?<![\w.])(?P<num>\d[\d,]*(?:\.\d{{1,2}})?)\s?(?P<cur>{_CURRENCY})(?!\w)", re.IGNORECASE),
    re.compile(rf"(?<![\w])(?P<words>{_SPOKEN})\s+(?P<cur>{_CURRENCY})(?:\s+(?:and\s+)?(?P<minor>{_SPOKEN}|\d+)(?:\s+(?:{'|'.join(MINOR_UNITS)}))?)?(?!\w)", re.IGNORECASE),
    re.compile(rf"\b{PRICE_CUES}\s+(?:(?:about|around|roughly|only|just|like)\s+)?(?P<words>{_SPOKEN}|\d+\.\d{{2}})(?=\s*(?:[.!,?]|$|\s+(?:each|total|for|a piece|apiece|altogether|please)\b))", re.IGNORECASE),
)


def find_price(text: str, *, need_cue: bool = True) -> tuple[float, str | None, tuple[int, int]] | None:
    """(amount, currency or None, span) of the first price in `text`: "$18.50", "twelve fifty", "two hundred dollars".

    A number without a currency is a price only after a cue ("that's twelve fifty") unless
    `need_cue` is False (a receipt line "TOTAL 18.50").
    """
    text = text.replace("\u2019", "'")
    for i, pattern in enumerate(_PRICE_PATTERNS):
        m = pattern.search(text)
        if m is None:
            continue
        groups = m.groupdict()
        cur = groups.get("cur") or groups.get("unit")
        currency = CURRENCY_WORDS.get(cur.lower()) if cur else None
        if groups.get("num"):
            amount = float(groups["num"].replace(",", ""))
        else:
            amount = spoken_amount(groups["words"]) if not re.match(r"\d", groups["words"]) else float(groups["words"])
            if amount is None:
                continue
            if groups.get("minor"):
                minor = int(groups["minor"]) if groups["minor"].isdigit() else spoken_amount(groups["minor"])
                if minor is not None and minor < 100:
                    amount += minor / 100
        if i == 3 and amount < 1 and groups["words"].lower() in ("a", "one"):
            continue
        return round(amount, 2), currency, (m.start("words") if i == 3 else m.start(), m.end())
    if not need_cue:
        m = re.search(r"(?<![\w.])(\d{1,5}[.,]\d{2})(?![\d%])", text)
        if m:
            return float(m.group(1).replace(",", ".")), None, m.span()
    return None


def spoken_amount(words: str) -> float | None:
    """ "two hundred" -> 200, "a hundred and twenty" -> 120, "twelve fifty" -> 12.50, "five ninety-nine" -> 5.99."""
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    if not tokens or any(t not in NUMBER_WORDS and t not in NUMBER_SCALES for t in tokens):
        return None
    groups: list[int] = []  # numbers said one after another: "twelve" "fifty"
    total, current, last = 0, 0, None
    for t in tokens:
        if t in NUMBER_SCALES:
            current = max(current, 1) * NUMBER_SCALES[t]
            if NUMBER_SCALES[t] >= 1000:
                total, current = total + current, 0
        else:
            value = NUMBER_WORDS[t]
            if last is not None and last not in NUMBER_SCALES and not (NUMBER_WORDS[last] >= 20 and NUMBER_WORDS[last] % 10 == 0 and value < 10):
                groups.append(total + current)
                total, current = 0, 0
            current += value
        last = t
    groups.append(total + current)
    if len(groups) == 1:
        return float(groups[0])
    if len(groups) == 2 and groups[1] < 100:
        return groups[0] + groups[1] / 100
    return None


# == updates ======================================================================================

# Subjects the extractor falls back to when a sentence does not say what it is about.
PLACEHOLDER_SUBJECTS = frozenset({"price", "purchase", "it", "one", "that", "this", "done", "total", "them", "thing"})

Similar = Callable[[str, str], float]


def reconcile(facts: list[Fact], similar: Similar) -> list[Fact]:
    """Replay `facts` in the order they were said; later ones update earlier ones. Returns them, oldest first.

    A later fact about the same thing (same family, a similar subject sharing a content word)
    supersedes the earlier: earlier.status = SUPERSEDED, earlier.valid_to = later.said_at,
    later.supersedes = earlier.id. A cancellation marks the plan (or request) it names CANCELLED; a
    "done" or a purchase of the asked-for thing marks the request or promise DONE. Nothing is
    deleted, and arrival order does not matter: every derived field is recomputed from scratch.
    """
    ordered = sorted(facts, key=lambda f: (f.said_at, f.id))
    for f in ordered:
        f.status, f.valid_to, f.supersedes = f.said_status, None, None
        f.valid_from = f.valid_from or f.said_at
    for i, later in enumerate(ordered):
        earlier = _updated_by(later, ordered[:i], similar)
        if earlier is None:
            continue
        if later.said_status == FactStatus.CANCELLED:
            earlier.status = FactStatus.CANCELLED
        elif later.said_status == FactStatus.DONE or later.kind == FactKind.PURCHASE:
            earlier.status = FactStatus.DONE
        else:
            earlier.status = FactStatus.SUPERSEDED
        earlier.valid_to = later.said_at
        later.supersedes = earlier.id
        if earlier.status == FactStatus.SUPERSEDED and later.target_start and earlier.target_start and not names_day(later.text):
            # "move dinner to eight": the new hour on the day that was planned
            moved = datetime.combine(earlier.target_start.date(), later.target_start.timetz())
            later.target_end = moved + (later.target_end - later.target_start) if later.target_end else None
            later.target_start = moved
    return ordered


def _updated_by(later: Fact, before: Sequence[Fact], similar: Similar) -> Fact | None:
    """The open earlier fact that `later` updates, the most similar (then the latest) of them."""
    closing = later.said_status in (FactStatus.CANCELLED, FactStatus.DONE)
    if later.kind == FactKind.PURCHASE:
        families = {"todo"}  # buying what was asked for closes the request; purchases never supersede
    elif later.said_status == FactStatus.CANCELLED:
        families = {"plan", "todo"}
    elif later.said_status == FactStatus.DONE:
        families = {"todo", "plan"}
    else:
        families = {later.family}
    words = set(later.words)
    best: tuple[float, datetime, Fact] | None = None
    for earlier in before:
        if earlier.status != FactStatus.OPEN or earlier.family not in families or earlier.said_at >= later.said_at:
            continue
        if earlier.family == "todo" and later.family == "todo" and not closing and earlier.kind != later.kind:
            continue  # a promise answering a request is not an update of it
        score = _match(later, earlier, words, similar)
        if score is not None and (best is None or (score, earlier.said_at) > (best[0], best[1])):
            best = (score, earlier.said_at, earlier)
    return best[2] if best else None


def _match(later: Fact, earlier: Fact, words: set[str], similar: Similar) -> float | None:
    if later.said_status != FactStatus.OPEN and not words:
        # "done!" / "forget it": the last open one in the same recording, said shortly before
        if later.recording_id == earlier.recording_id and later.said_at - earlier.said_at <= DONE_WINDOW:
            return 0.0
        return None
    if later.said_status == FactStatus.CANCELLED and later.target_start is not None and earlier.target_start is not None:
        if later.target_start <= earlier.target_start < (later.target_end or later.target_start):
            return 1.0  # "forget about Friday" cancels what was planned for Friday
    if (later.subject in PLACEHOLDER_SUBJECTS or earlier.subject in PLACEHOLDER_SUBJECTS) and not (
        later.recording_id == earlier.recording_id and later.said_at - earlier.said_at <= DONE_WINDOW
    ):
        return None  # "price" or "it" says nothing of what it is about: only the same conversation can tell
    shared = words & set(earlier.words)
    score = similar(later.subject, earlier.subject)
    if later.kind == FactKind.PURCHASE and earlier.item:
        score = max(score, similar(later.subject, earlier.item))
    if (shared and score >= SUBJECT_SIMILAR) or score >= SUBJECT_SAME:
        return score
    return None
