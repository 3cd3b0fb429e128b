"""Teaching egomem faces from labelled photos: `egomem people enroll NAME PHOTO...` and a life
folder's `people/NAME/*.jpg`.

An enrolment photo must show exactly one face: with several, nothing says which one is NAME, and
guessing wrong would put a name on someone else for good. Such photos are skipped with a reason.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from egomem.errors import EgomemError
from egomem.perception.faces import FaceAnalyzer
from egomem.perception.records import Box
from egomem.memory.caption import compose_caption
from egomem.memory.events import Event
from egomem.memory.naming import Evidence, Mention, NamingOptions, Proposal, agree, find_mentions
from egomem.store.base import EventFilter
from egomem.store.identities import Identity, IdentityError, IdentityIndex, UnknownIdentity, normalize_name

if TYPE_CHECKING:
    from egomem.runtime import Runtime

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


@dataclass(frozen=True)
class SkippedPhoto:
    path: Path
    reason: str


@dataclass
class EnrollResult:
    name: str  # display form
    identity_id: str | None  # None when no photo gave a face (only from enroll_people_dir)
    used: list[Path] = field(default_factory=list)  # photos whose face was enrolled
    skipped: list[SkippedPhoto] = field(default_factory=list)
    added: int = 0  # new face samples stored (a photo enrolled before adds none)

    def summary(self) -> str:
        if self.identity_id is None:
            head = f"{self.name}: not enrolled, no usable photo"
        else:
            head = (
                f"{self.name} ({self.identity_id}): enrolled from {len(self.used)} photo{'s' * (len(self.used) != 1)}, "
                f"{self.added} new face sample{'s' * (self.added != 1)}"
            )
        lines = [head] + [f"  skipped {s.path}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


def read_photo(path: Path) -> np.ndarray:
    """A photo as a BGR uint8 array, upright per its EXIF orientation.

    OpenCV reads the common formats and applies EXIF orientation itself; Pillow covers what it
    cannot (some GIFs, palette or 16-bit PNGs, WebP builds without support).
    """
    path = Path(path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is not None and image.size:
        return image
    try:
        from PIL import Image, ImageOps

        with Image.open(path) as pil:
            pil = ImageOps.exif_transpose(pil).convert("RGB")
            return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)
    except Exception as exc:  # Pillow raises many types for unreadable files
        raise EgomemError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from exc


def enroll_photos(analyzer: FaceAnalyzer, index: IdentityIndex, name: str, photos: Sequence[Path]) -> EnrollResult:
    """Enrol the single face of each photo as `name`. Raises EgomemError when no photo gives one."""
    result = _enroll(analyzer, index, name, photos)
    if result.identity_id is None:
        reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in result.skipped) or "no photos given"
        raise EgomemError(f"could not enrol {result.name}: no photo shows exactly one face ({reasons})")
    return result


def enroll_people_dir(analyzer: FaceAnalyzer, index: IdentityIndex, people_dir: Path) -> list[EnrollResult]:
    """Enrol every `people_dir/NAME/` folder's photos as NAME, one result per folder.

    A folder with no usable photo is reported in its result rather than raised, so one bad folder
    does not keep the others from being enrolled.
    """
    people_dir = Path(people_dir)
    if not people_dir.is_dir():
        raise EgomemError(f"{people_dir}: no such folder of people")
    results = []
    for folder in sorted(p for p in people_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        photos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        results.append(_enroll(analyzer, index, folder.name, photos))
    return results


def _enroll(analyzer: FaceAnalyzer, index: IdentityIndex, name: str, photos: Sequence[Path]) -> EnrollResult:
    try:
        display = normalize_name(name)
    except ValueError as exc:
        raise EgomemError(str(exc)) from exc
    result = EnrollResult(display, None)
    descriptors = []
    crops = []
    for photo in map(Path, photos):
        try:
            image = read_photo(photo)
        except (EgomemError, OSError) as exc:
            result.skipped.append(SkippedPhoto(photo, str(exc).removeprefix(f"{photo}: ")))
            continue
        faces = analyzer.analyze(image)
        if len(faces) != 1:
            reason = "no face found" if not faces else f"{len(faces)} faces found, an enrolment photo must show only the person"
            result.skipped.append(SkippedPhoto(photo, reason))
            continue
        descriptors.append(faces[0][1])
        crops.append(face_crop(image, faces[0][0]))
        result.used.append(photo)
    if descriptors:
        before = index.find(display)
        result.identity_id = index.enroll(display, descriptors, source="enrolled", crops=crops)
        after = index.get(result.identity_id)
        result.added = (after.exemplars if after else 0) - (before.exemplars if before else 0)
    return result


# -- crops ----------------------------------------------------------------------------------------

CROP_MARGIN = 0.3  # of the face box's size on each side: hair and chin make a face recognisable by eye


def face_crop(image: np.ndarray, box: Box, margin: float = CROP_MARGIN) -> np.ndarray:
    """The face in `box` with a margin around it, clipped to the image (a copy, safe to keep)."""
    height, width = image.shape[:2]
    pad_x = int(round((box.right - box.left) * margin))
    pad_y = int(round((box.bottom - box.top) * margin))
    left, top = max(0, box.left - pad_x), max(0, box.top - pad_y)
    right, bottom = min(width, box.right + pad_x), min(height, box.bottom + pad_y)
    return image[top:bottom, left:right].copy()


# -- naming, merging, forgetting ------------------------------------------------------------------
#
# Each operation changes the identity index and then the event store. Both are idempotent, so when
# the second half fails (or the process dies) running the same command again completes it: a merged
# id still resolves to the identity it went into, and a forgotten id is still accepted.


@dataclass(frozen=True)
class PersonView:
    """One identity as the CLI and the web app show it."""

    id: str
    name: str | None  # given by the user
    source: str  # "enrolled", "observed" or "voice" (only heard, never seen)
    exemplars: int
    crops: list[Path]
    events: int  # events they appear in
    first_seen: datetime | None  # start of the first such event
    last_seen: datetime | None  # end of the last one
    heard_name: str | None = None  # heard in speech, not confirmed (never set when `name` is)

    @property
    def label(self) -> str:
        return self.name or self.heard_name or self.id

    @property
    def marked_label(self) -> str:
        """The label with what the user should know about it: heard, not confirmed; voice only."""
        notes = [n for n, on in (("voice only", self.source == "voice"), ("heard, not confirmed", bool(self.heard_name))) if on]
        return f"{self.label} ({', '.join(notes)})" if notes else self.label


def resolve_identity(index: IdentityIndex, ref: str, *, follow_merges: bool = True) -> Identity:
    """The identity meant by `ref`: an id (`person-7`, followed through merges) or a current name."""
    ref = str(ref).strip()
    live = index.resolve(ref)
    if live is not None and (follow_merges or live == ref):
        return index.get(live)  # type: ignore[return-value]  # resolve only returns live ids
    if live is not None:
        raise UnknownIdentity(f"{ref} was merged into {live}; to act on that person, use {live}")
    if ref:
        by_name = index.find(ref) or index.find_heard(ref)
        if by_name is not None:
            return by_name
    if index.was_forgotten(ref):
        raise UnknownIdentity(f"{ref} was forgotten")
    raise UnknownIdentity(f"nobody is called or numbered {ref!r}; `egomem people list` shows who egomem knows")


def name_identity(rt: Runtime, identity: str, name: str) -> int:
    """Name or rename someone and relabel every event they are in; the number of events changed."""
    person = resolve_identity(rt.identities, identity)
    named = rt.identities.rename(person.id, name)
    return relabel_person(rt, named.id, {person.id, person.display_name or person.id})


def merge_identities(rt: Runtime, source: str, into: str) -> int:
    """Make `source` and `into` one person (keeping into's id); the number of events changed."""
    index = rt.identities
    target = resolve_identity(index, into)
    source_id = source.strip()
    if index.get(source_id) is None and index.resolve(source_id) == target.id:
        merged = target  # merged before, the event store may not have followed: finish that part
    else:
        source_id = resolve_identity(index, source).id
        merged = index.merge(source_id, target.id)
    return rt.store.relabel_identity(source_id, merged.name, into_id=merged.id, embed=_lazy_embed(rt))


def forget_identity(rt: Runtime, identity: str) -> int:
    """Forget someone everywhere: labels in events, then face samples and crops. Events changed.

    The events go first, so that if this is cut short the person can still be named to retry.
    """
    index = rt.identities
    ref = identity.strip()
    if index.was_forgotten(ref):
        return rt.store.remove_identity(ref, embed=_lazy_embed(rt))
    person = resolve_identity(index, ref, follow_merges=False)  # never delete someone by an old alias
    changed = rt.store.remove_identity(person.id, name=person.name, embed=_lazy_embed(rt))
    index.forget(person.id)
    return changed


def describe_people(rt: Runtime) -> list[PersonView]:
    """Every identity with its crops and where it appears in memory, oldest identity first."""
    seen = rt.store.identity_appearances()
    views = []
    for person in rt.identities.identities():
        where = seen.get(person.id)
        views.append(
            PersonView(
                id=person.id,
                name=person.name,
                source=person.source,
                exemplars=person.exemplars,
                crops=rt.identities.crops(person.id),
                events=where.events if where else 0,
                first_seen=where.first_seen if where else None,
                last_seen=where.last_seen if where else None,
                heard_name=person.heard_name,
            )
        )
    return views


def describe_person(rt: Runtime, identity: str, *, follow_merges: bool = True) -> PersonView:
    person = resolve_identity(rt.identities, identity, follow_merges=follow_merges)
    return next(v for v in describe_people(rt) if v.id == person.id)


def relabel_person(rt: Runtime, identity_id: str, old_labels: Collection[str]) -> int:
    """Show the identity by its display name (its id when it has none) in stored events: people,
    composed captions, and the speaker of quotes that said one of `old_labels`. Events changed.

    Quotes are rewritten in the events the identity is in view in (where attribution put them).
    """
    person = rt.identities.get(identity_id)
    label = (person.display_name if person else None) or identity_id
    changed = rt.store.relabel_identity(identity_id, label, embed=_lazy_embed(rt))
    stale = set(old_labels) - {label}
    events = [e for e in rt.store.events(EventFilter(people=[label])) if identity_id in e.identity_ids] if stale else []
    return max(changed, _respeak(rt, events, {old: label for old in stale}))


def _respeak(rt: Runtime, events: Sequence[Event], speakers: Mapping[str, str]) -> int:
    """Re-store `events` with their quotes' speakers renamed per `speakers`; the number changed."""
    edited = []
    for event in events:
        quotes = [replace(q, speaker=speakers.get(q.speaker, q.speaker)) if q.speaker else q for q in event.quotes]
        if quotes != event.quotes:
            event.quotes = quotes
            edited.append(event)
    if edited:
        rt.store.upsert(edited)  # the document (caption, transcript, text in view) is unchanged: so are the vectors
    return len(edited)


# -- names heard in speech ------------------------------------------------------------------------


def name_from_speech(rt: Runtime, events: list[Event], options: NamingOptions | None = None) -> list[Proposal]:
    """Names heard in one recording's `events` (before they are stored): proposals taken up.

    Face identities get the heard name as their display name (in `events` and, through
    `relabel_person`, in every stored event); mentions that do not agree yet are kept in the
    identity index for later recordings. A named faceless voice becomes a voice-only person and its
    quotes in these events say its name. A name the user gave is never replaced.
    """
    index = rt.identities
    in_view = {i for e in events for i in e.identity_ids}
    people = {i: p for i in in_view if (p := index.get(i)) is not None}
    nameable = {i for i, p in people.items() if p.name is None}
    known = [n for p in index.identities() for n in (p.name, None if p.id in nameable or p.voice_only else p.heard_name) if n]
    options = options or NamingOptions(known_names=known)
    earlier = [Mention(Evidence.from_json(e), identity_id=i) for i in nameable for e in people[i].evidence]
    mentions = find_mentions(events, nameable=nameable, options=options)
    proposals = agree([*earlier, *mentions], rejected={i: index.rejected_names(i) for i in nameable}, options=options)
    taken: list[Proposal] = []
    for proposal in proposals:
        evidence = [e.to_json() for e in proposal.evidence]
        if proposal.identity_id is None:
            voice = index.add_voice(proposal.name, evidence)
            if voice is not None:
                _rename_voice(events, proposal, voice.display_name or proposal.name)
                taken.append(proposal)
            continue
        before = people[proposal.identity_id]
        after = index.propose_name(proposal.identity_id, proposal.name, evidence)
        if after is None:
            continue
        taken.append(proposal)
        old = {before.id, before.display_name or before.id}
        _relabel_in(events, before.id, old, after.display_name or before.id)
        if after.display_name != before.display_name:
            relabel_person(rt, before.id, old)  # earlier recordings
    named = {p.identity_id for p in taken}
    for mention in mentions:  # pending: kept until enough mentions agree, maybe in a later recording
        if mention.identity_id and mention.identity_id not in named:
            index.hear(mention.identity_id, [mention.evidence.to_json()])
    return taken


def _relabel_in(events: Sequence[Event], identity_id: str, old: Collection[str], label: str) -> None:
    for event in events:
        if len(event.people) == len(event.identity_ids):
            people = [label if i == identity_id else p for p, i in zip(event.people, event.identity_ids)]
            if event.caption == compose_caption(event.place, event.people, event.visible_text, event.quotes, event.tags):
                event.caption = compose_caption(event.place, people, event.visible_text, event.quotes, event.tags)
            event.people = people  # (ingest captions after naming; a composed caption is kept in step here)
        if identity_id in event.identity_ids:
            event.quotes = [replace(q, speaker=label) if q.speaker in old else q for q in event.quotes]


def _rename_voice(events: Sequence[Event], proposal: Proposal, label: str) -> None:
    """Every quote of that voice in its recording (voice labels are per recording) says `label`."""
    for event in events:
        if event.recording_id == proposal.recording_id:
            event.quotes = [replace(q, speaker=label) if q.speaker == proposal.voice else q for q in event.quotes]


def confirm_heard_name(rt: Runtime, identity: str) -> Identity:
    """The heard name becomes a real name (its events already show it)."""
    person = resolve_identity(rt.identities, identity)
    confirmed = rt.identities.confirm_name(person.id)
    relabel_person(rt, confirmed.id, {person.id, person.display_name or person.id})
    return confirmed


def reject_heard_name(rt: Runtime, identity: str) -> tuple[Identity, str, int]:
    """Drop a heard name, never to propose it again for them: (identity, the name, events changed)."""
    person = resolve_identity(rt.identities, identity)
    if person.name is not None:
        raise IdentityError(f"{person.id} is called {person.name!r} by you, not by hearing; rename them with `egomem people name`")
    heard = person.heard_name
    after = rt.identities.reject_name(person.id)
    if person.voice_only:  # its quotes go back to the voice's label in each recording
        changed = 0
        heard_in = {e.get("event_id"): e.get("speaker") for e in person.evidence if e.get("speaker")}
        for recording, voice in {(ev.recording_id, heard_in[ev.id]) for ev in rt.store.get(list(heard_in))}:
            changed += _respeak(rt, rt.store.events(EventFilter(recording_id=recording)), {heard or "": voice})
        return after, heard or "", changed
    return after, heard or "", relabel_person(rt, person.id, {heard or "", person.id})


def _lazy_embed(rt: Runtime) -> Callable[[list[str]], np.ndarray]:
    # The text model loads only if some caption actually changes.
    return lambda texts: rt.text_embedder.embed(texts)


# -- command line ---------------------------------------------------------------------------------


def add_people_commands(people: argparse._SubParsersAction) -> None:
    """Add `name`, `merge`, `forget`, `confirm`, `reject`, `show` and `voice` to the `egomem people` sub-commands."""
    name = people.add_parser("name", help="name or rename someone; relabels every moment they are in")
    name.add_argument("identity", metavar="ID", help="person-N, or the name they have now")
    name.add_argument("name")
    name.set_defaults(handler=name_command)

    merge = people.add_parser("merge", help="two identities are one person: move SOURCE into INTO")
    merge.add_argument("source", metavar="SOURCE", help="person-N or name; this id is retired")
    merge.add_argument("into", metavar="INTO", help="person-N or name; this id stays")
    merge.set_defaults(handler=merge_command)

    forget = people.add_parser("forget", help="delete someone's face samples, crops and labels everywhere")
    forget.add_argument("identity", metavar="ID", help="person-N or name")
    forget.add_argument("--yes", action="store_true", help="really delete (without it, only say what would go)")
    forget.set_defaults(handler=forget_command)

    confirm = people.add_parser("confirm", help="the name egomem heard for someone is right: make it their name")
    confirm.add_argument("identity", metavar="ID", help="person-N or the heard name")
    confirm.set_defaults(handler=confirm_command)

    reject = people.add_parser("reject", help="the name egomem heard for someone is wrong: drop it for good")
    reject.add_argument("identity", metavar="ID", help="person-N or the heard name")
    reject.set_defaults(handler=reject_command)

    show = people.add_parser("show", help="one identity: face samples, crops and moments")
    show.add_argument("identity", metavar="ID", help="person-N or name")
    show.set_defaults(handler=show_command)

    voice = people.add_parser("voice", help="what egomem learned of your own voice, per device (or --forget it)")
    voice.add_argument("--device", help="only this device")
    voice.add_argument("--forget", action="store_true", help="delete it; recordings keep the speakers already found")
    voice.add_argument("--yes", action="store_true", help="with --forget: really delete")
    voice.set_defaults(handler=voice_command)


def name_command(rt: Runtime, args: argparse.Namespace) -> int:
    before = resolve_identity(rt.identities, args.identity)
    changed = name_identity(rt, before.id, args.name)
    after = rt.identities.get(before.id)
    what = f"named {before.id}" if before.name is None else f"renamed {before.id} from {before.name!r}"
    print(f"{what} to {after.name if after else args.name!r}; relabelled {_events(changed)}")
    return 0


def merge_command(rt: Runtime, args: argparse.Namespace) -> int:
    target = resolve_identity(rt.identities, args.into)
    changed = merge_identities(rt, args.source, target.id)
    merged = rt.identities.get(target.id)
    label = f"{merged.id} ({merged.name})" if merged and merged.name else target.id
    print(f"merged {args.source} into {label}; relabelled {_events(changed)}")
    return 0


def forget_command(rt: Runtime, args: argparse.Namespace) -> int:
    if rt.identities.was_forgotten(args.identity.strip()):
        changed = forget_identity(rt, args.identity)
        print(f"{args.identity} was already forgotten; removed it from {_events(changed)}")
        return 0
    view = describe_person(rt, args.identity, follow_merges=False)
    what = (
        f"{view.id}{f' ({view.name})' if view.name else ''}: {view.exemplars} face sample{'s' * (view.exemplars != 1)}, "
        f"{len(view.crops)} crop{'s' * (len(view.crops) != 1)}, and the label in {_events(view.events)}"
    )
    if not args.yes:
        print(f"would forget {what}\nnothing deleted; run again with --yes to delete it")
        return 1
    changed = forget_identity(rt, view.id)
    print(f"forgot {what}; {_events(changed)} changed")
    return 0


def confirm_command(rt: Runtime, args: argparse.Namespace) -> int:
    person = confirm_heard_name(rt, args.identity)
    print(f"{person.id} is {person.name}: confirmed")
    return 0


def reject_command(rt: Runtime, args: argparse.Namespace) -> int:
    person, heard, changed = reject_heard_name(rt, args.identity)
    print(f"{person.id} is not {heard}: will not be proposed again; relabelled {_events(changed)}")
    return 0


def show_command(rt: Runtime, args: argparse.Namespace) -> int:
    view = describe_person(rt, args.identity)
    print(f"{view.id}  {view.marked_label if view.name or view.heard_name else '(unnamed)'}  ({view.source})")
    print(f"  face samples: {view.exemplars}")
    if view.first_seen and view.last_seen:
        print(f"  seen in {_events(view.events)}, {view.first_seen:%Y-%m-%d %H:%M} to {view.last_seen:%Y-%m-%d %H:%M}")
    else:
        print("  seen in no stored moment")
    print(f"  crops: {len(view.crops)}")
    for crop in view.crops:
        print(f"    {crop}")
    return 0


def voice_command(rt: Runtime, args: argparse.Namespace) -> int:
    book = rt.wearer_voices
    voices = {d: v for d, v in book.voices().items() if args.device is None or d == args.device}
    if args.forget:
        if not voices:
            print("no voice profile to forget")
            return 0
        if not args.yes:
            print(f"would forget your voice on {', '.join(voices)}\nnothing deleted; run again with --yes to delete it")
            return 1
        print(f"forgot your voice on {', '.join(book.forget(args.device))}")
        return 0
    if not voices:
        print("no voice profile yet: it is learned from recordings where you are clearly the loudest speaker")
        return 0
    from egomem.perception.speakers import WEARER_VOICE_WEIGHT

    for device, v in sorted(voices.items()):
        count = f"{v.utterances}{'+' if v.utterances >= WEARER_VOICE_WEIGHT else ''}"
        pitch = f"{55 * 2 ** (v.pitch_st / 12):.0f} Hz" if v.pitch_st is not None else "unvoiced"
        print(f"{device}: learned from {count} utterances; level {v.level_dbfs:.1f} dBFS, pitch {pitch}")
    return 0


def list_command(rt: Runtime, args: argparse.Namespace) -> int:
    """A fuller `people list` (moments and last seen); the lead may swap it in for today's."""
    for view in describe_people(rt):
        last = f", last seen {view.last_seen:%Y-%m-%d %H:%M}" if view.last_seen else ""
        label = view.marked_label if view.name or view.heard_name else "(unnamed)"
        print(f"{view.id:12} {label:24} {view.exemplars} face samples, {_events(view.events)}{last}")
    return 0


def _events(n: int) -> str:
    return f"{n} event{'s' * (n != 1)}"
