"""Names heard: who someone is, from what is said while they are in view or on the line.

A face nobody enrolled is `person-N` and a voice nobody can see is `speaker N`. People say their
names ("Hi, I'm Ines") and others say them ("thanks, Ines"), so the transcript often names them.
This module reads events (quotes with speakers and times, the identities in view) and returns
proposals; it stores nothing (the identity index keeps them, see `egomem.people`).

Two cues, each tied to one target only when nothing else could be meant:

* Introduction ("I'm Ines", "my name is Ines", "Ines here", "call me Ines"; on a call "it's Tom",
  "this is Doctor Patel's office"): the speaker is named. The speaker must be an unnamed identity in
  view, or unknown while exactly one unnamed identity is in view (and it is not the wearer talking),
  or a voice with no face in view at all ("speaker N": someone on the phone), which becomes a
  voice-only person.
* Address ("thanks, Ines", "hi Ines", "Ines, could you...", "see you, Ines"): the one addressed is
  named. The speaker must be known (the wearer or another identity) and exactly one unnamed identity
  other than the speaker must be in view. "This is Ines" said by the wearer in view of one unnamed
  person introduces them, and counts the same.

Whisper capitalises names, so a name is a capitalised word (two with a title: "Doctor Patel") that
is not in NON_NAMES (common words, days, months, places, forms of address) nor a known name.
An introduction weighs INTRODUCTION_WEIGHT and an address ADDRESS_WEIGHT; weights of one name for
one target combine as independent evidence (1 - prod(1 - w)), and a name is proposed at
`threshold`: one introduction, or two addresses (possibly in different recordings).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from egomem.memory.events import Event

WEARER = "me"  # the speaker label of the wearer (egomem.perception.speakers.WEARER)
INTRODUCTION, ADDRESS = "introduction", "address"
INTRODUCTION_WEIGHT = 0.9
ADDRESS_WEIGHT = 0.5
_VOICE_RE = re.compile(r"^speaker \d+$")  # a voice attribution could not tie to a face
_ID_RE = re.compile(r"^person-\d+$")

# Words Whisper may capitalise where a name could stand ("I'm Fine.", "Thanks, Everyone."), days,
# months, places and forms of address. Compared case-insensitively.
NON_NAMES = frozenset(
    """
    i me you he she we they it this that there here what who where when why how yes no not okay ok
    hi hello hey bye goodbye thanks thank sorry please well so oh ah um uh hmm yeah yep nope right
    sure fine good great bad tired busy ready done back home late early glad happy sad sick hungry
    going coming leaving looking trying just only also still really very actually honestly the a an
    and or but if then now today tonight tomorrow yesterday morning afternoon evening night noon
    everyone everybody anyone anybody someone somebody all guys folks people team friend friends
    sir madam maam miss mister mate man dude buddy pal bro love honey dear darling sweetie baby
    mom mum mommy mummy dad daddy mother father grandma grandpa granny auntie uncle doc boss chef
    god lord jesus christ
    monday tuesday wednesday thursday friday saturday sunday weekend
    january february march april may june july august september october november december
    christmas easter
    english french german spanish italian american british
    london paris berlin madrid rome lisbon amsterdam brussels vienna prague dublin new york tokyo
    europe america asia africa france germany spain italy portugal england britain ireland china
    japan india canada australia city town street station airport office work school hospital
    garage shop store market cafe restaurant bank gym park church centre center downtown
    english speaking calling here
    """.split()
)
TITLES = frozenset({"doctor", "dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "professor", "prof"})

_NAME = r"(?P<name>(?:(?:Doctor|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Professor)\s+)?[A-Z][\w'’-]*\w)"
_END = r"(?=\s*(?:[,.!?;:]|$))"  # the name ends the clause: "hi Ines, ..." but not "hi Ines's mother"
_AFFILIATION = r"(?P<office>['’]s\s+(?:office|clinic|surgery|practice))?"

_INTRODUCTIONS = [
    re.compile(rf"(?i:\b(?:i'm|i am|my name is|my name's|call me)\s+){_NAME}{_END}"),
    re.compile(rf"(?:^|[.!?,]\s*){_NAME}\s+(?i:here){_END}"),
]
# On a call the speaker has no face: "it's Tom from the garage", "this is Doctor Patel's office".
_CALL_INTRODUCTIONS = [
    re.compile(rf"(?i:\b(?:it's|it is|this is)\s+){_NAME}{_AFFILIATION}(?=\s*(?:[,.!?;:]|$|\s+(?i:from|at|with|of|calling)\b))"),
]
_ADDRESSES = [
    re.compile(
        rf"(?i:\b(?:thanks|thank you|thx|cheers|hi|hello|hey|bye|goodbye|good morning|good night|morning|okay|ok|come on|"
        rf"see you|see ya|welcome|excuse me|sorry|nice to meet you|congratulations|congrats)\s*,?\s+){_NAME}{_END}"
    ),
    re.compile(
        rf"^\W*{_NAME},\s+(?i:could|can|would|will|do|did|are|is|have|please|what|where|when|how|why|you|"
        rf"i|we|let's|come|look|wait|listen)\b"
    ),
    re.compile(rf",\s*{_NAME}\s*[.?!]?\s*$"),
]
# The wearer presenting someone in view: "this is Ines" (weighed as an address).
_PRESENTATIONS = [re.compile(rf"(?i:\b(?:this is|meet)\s+){_NAME}{_END}")]


@dataclass(frozen=True)
class NamingOptions:
    wearer_names: Collection[str] = ()  # the wearer's own name(s): never anyone else's
    known_names: Collection[str] = ()  # names already given to someone: not proposed for another
    introduction_weight: float = INTRODUCTION_WEIGHT
    address_weight: float = ADDRESS_WEIGHT
    threshold: float = 0.7  # combined weight at which a name is proposed
    margin: float = 0.2  # how far the best name must lead the next for the same person
    non_names: frozenset[str] = NON_NAMES


@dataclass(frozen=True)
class Evidence:
    """One time a name was heard for someone."""

    name: str
    kind: str  # INTRODUCTION or ADDRESS
    quote: str
    time: datetime
    event_id: str
    speaker: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "quote": self.quote, "time": self.time.isoformat(),
                "event_id": self.event_id, "speaker": self.speaker}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(str(data["name"]), str(data["kind"]), str(data.get("quote", "")), datetime.fromisoformat(data["time"]),
                   str(data.get("event_id", "")), data.get("speaker"))  # fmt: skip


@dataclass(frozen=True)
class Mention:
    """A name heard for one target: a face identity, or a faceless voice of one recording."""

    evidence: Evidence
    identity_id: str | None = None
    voice: str | None = None  # "speaker 2" in `recording_id`, when the target has no face
    recording_id: str | None = None

    @property
    def target(self) -> tuple[str, ...]:
        return (self.identity_id,) if self.identity_id else ("voice", str(self.recording_id), str(self.voice))


@dataclass(frozen=True)
class Proposal:
    name: str
    confidence: float
    evidence: tuple[Evidence, ...]
    identity_id: str | None = None  # the face identity named
    voice: str | None = None  # else the voice named (its speaker label in recording_id)
    recording_id: str | None = None

    @property
    def voice_only(self) -> bool:
        return self.identity_id is None


@dataclass
class _Scene:
    """One event as the cues need it: who is in view and unnamed, and what each speaker label means."""

    nameable: list[str]
    ids_by_label: dict[str, str] = field(default_factory=dict)


def find_mentions(events: Iterable[Event], *, nameable: Collection[str] | None = None,
                  options: NamingOptions = NamingOptions()) -> list[Mention]:  # fmt: skip
    """Every name heard in `events` with the one person it can only be about.

    nameable: identity ids that may get a heard name (not named by the user); default: those shown
    by their id in the event (nobody named them).
    """
    mentions: list[Mention] = []
    for event in events:
        scene = _scene(event, nameable)
        voices = {q.speaker for q in event.quotes if q.speaker and _VOICE_RE.match(q.speaker)}
        for quote in event.quotes:
            text = quote.text.strip()
            if not text:
                continue
            speaker = quote.speaker
            speaker_id = scene.ids_by_label.get(speaker or "")
            others = [i for i in scene.nameable if i != speaker_id]

            def heard(name: str, kind: str, **target: Any) -> None:
                ev = Evidence(name, kind, text, quote.start, event.id, speaker)
                mentions.append(Mention(ev, recording_id=event.recording_id, **target))

            # Introductions name the speaker.
            for name in _names(text, _INTRODUCTIONS, options):
                if speaker_id is not None and speaker_id in scene.nameable:
                    heard(name, INTRODUCTION, identity_id=speaker_id)
                elif speaker != WEARER and speaker_id is None and len(scene.nameable) == 1 and (
                    speaker is None or len(event.identity_ids) == 1  # a numbered voice: only if nobody else is in view
                ):
                    heard(name, INTRODUCTION, identity_id=scene.nameable[0])
            if speaker and _VOICE_RE.match(speaker) and not event.identity_ids:
                for name in _names(text, _INTRODUCTIONS + _CALL_INTRODUCTIONS, options):
                    heard(name, INTRODUCTION, voice=speaker)
            # Addresses name the one listening; the speaker must be known, or who listens is not.
            if speaker == WEARER or speaker_id is not None:
                cues = _ADDRESSES + (_PRESENTATIONS if speaker == WEARER else [])
                for name in _names(text, cues, options):
                    if len(others) == 1:
                        heard(name, ADDRESS, identity_id=others[0])
                    elif speaker == WEARER and not event.identity_ids and len(voices) == 1:
                        heard(name, ADDRESS, voice=next(iter(voices)))  # the wearer on a call
    return mentions


def agree(mentions: Iterable[Mention], *, rejected: Mapping[str, Collection[str]] | None = None,
          options: NamingOptions = NamingOptions()) -> list[Proposal]:  # fmt: skip
    """The names that enough mentions agree on, one per target at most.

    rejected: per identity id, names the user said are wrong: never proposed again for it.
    """
    rejected = rejected or {}
    by_target: dict[tuple[str, ...], list[Mention]] = defaultdict(list)
    for m in mentions:
        by_target[m.target].append(m)
    proposals = []
    for target, found in by_target.items():
        first = found[0]
        refused = {n.casefold() for n in rejected.get(first.identity_id or "", ())}
        scores: dict[str, float] = {}
        spelled: dict[str, str] = {}
        evidence: dict[str, list[Evidence]] = defaultdict(list)
        for m in found:
            key = m.evidence.name.casefold()
            if key in refused:
                continue
            if m.evidence in evidence[key]:
                continue  # the same sentence heard twice (a recording ingested again) counts once
            weight = options.introduction_weight if m.evidence.kind == INTRODUCTION else options.address_weight
            scores[key] = 1 - (1 - scores.get(key, 0.0)) * (1 - weight)
            spelled.setdefault(key, m.evidence.name)
            evidence[key].append(m.evidence)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] < options.threshold:
            continue
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < options.margin:
            continue  # two names for one person: hearing cannot tell which
        key, score = ranked[0]
        proposals.append(Proposal(spelled[key], round(score, 3), tuple(evidence[key]), first.identity_id, first.voice,
                                  None if first.identity_id else first.recording_id))  # fmt: skip
    return proposals


def propose_names(events: Sequence[Event], *, nameable: Collection[str] | None = None, earlier: Iterable[Mention] = (),
                  rejected: Mapping[str, Collection[str]] | None = None,
                  options: NamingOptions = NamingOptions()) -> list[Proposal]:  # fmt: skip
    """`find_mentions` then `agree`, with mentions heard in earlier recordings counted in."""
    return agree([*earlier, *find_mentions(events, nameable=nameable, options=options)], rejected=rejected, options=options)


def is_name(word: str, options: NamingOptions = NamingOptions()) -> bool:
    """Whether a capitalised word (or "Title Word") can be a person's name here."""
    parts = word.split()
    if not parts or not parts[-1][:1].isupper() or _ID_RE.match(word):
        return False
    core = [p for p in parts if p.casefold() not in TITLES]
    if len(core) != 1 or core[0].casefold() in options.non_names or len(core[0]) < 2:
        return False
    taken = {n.casefold() for n in (*options.wearer_names, *options.known_names)}
    return word.casefold() not in taken and core[0].casefold() not in taken


def introduced_names(text: str, options: NamingOptions = NamingOptions()) -> list[str]:
    """Names speakers give themselves in `text` ("I'm Carlos", "it's Leo from the gym"), whoever they are."""
    return _names(text, _INTRODUCTIONS + _CALL_INTRODUCTIONS, options)


def addressed_names(text: str, options: NamingOptions = NamingOptions()) -> list[str]:
    """Names someone is called by in `text` ("thanks, Sam", "Ines, could you ...")."""
    return _names(text, _ADDRESSES, options)


def _names(text: str, patterns: Sequence[re.Pattern[str]], options: NamingOptions) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            name = " ".join(match.group("name").split())
            if not is_name(name, options):
                continue
            office = match.groupdict().get("office")
            if office:
                name += "'s " + office.split()[-1].lower()
            if name not in found:
                found.append(name)
    return found


def _scene(event: Event, nameable: Collection[str] | None) -> _Scene:
    paired = len(event.people) == len(event.identity_ids)
    ids_by_label = {i: i for i in event.identity_ids}
    if paired:
        ids_by_label.update({label: i for label, i in zip(event.people, event.identity_ids)})
    if nameable is None:
        names = dict(zip(event.identity_ids, event.people)) if paired else {}
        eligible = [i for i in event.identity_ids if names.get(i, i) == i]
    else:
        eligible = [i for i in event.identity_ids if i in nameable]
    return _Scene(list(dict.fromkeys(eligible)), ids_by_label)
