"""Teaching egomem faces from labelled photos: `egomem people enroll NAME PHOTO...` and a life
folder's `people/NAME/*.jpg`.

An enrolment photo must show exactly one face: with several, nothing says which one is NAME, and
guessing wrong would put a name on someone else for good. Such photos are skipped with a reason.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from egomem.errors import EgomemError
from egomem.perception.faces import FaceAnalyzer
from egomem.perception.records import Box
from egomem.store.identities import Identity, IdentityIndex, UnknownIdentity, normalize_name

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
    name: str | None
    source: str  # "enrolled" or "observed"
    exemplars: int
    crops: list[Path]
    events: int  # events they appear in
    first_seen: datetime | None  # start of the first such event
    last_seen: datetime | None  # end of the last one

    @property
    def label(self) -> str:
        return self.name or self.id


def resolve_identity(index: IdentityIndex, ref: str, *, follow_merges: bool = True) -> Identity:
    """The identity meant by `ref`: an id (`person-7`, followed through merges) or a current name."""
    ref = str(ref).strip()
    live = index.resolve(ref)
    if live is not None and (follow_merges or live == ref):
        return index.get(live)  # type: ignore[return-value]  # resolve only returns live ids
    if live is not None:
        raise UnknownIdentity(f"{ref} was merged into {live}; to act on that person, use {live}")
    if ref:
        by_name = index.find(ref)
        if by_name is not None:
            return by_name
    if index.was_forgotten(ref):
        raise UnknownIdentity(f"{ref} was forgotten")
    raise UnknownIdentity(f"nobody is called or numbered {ref!r}; `egomem people list` shows who egomem knows")


def name_identity(rt: Runtime, identity: str, name: str) -> int:
    """Name or rename someone and relabel every event they are in; the number of events changed."""
    person = resolve_identity(rt.identities, identity)
    named = rt.identities.rename(person.id, name)
    return rt.store.relabel_identity(named.id, named.name, embed=_lazy_embed(rt))


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
            )
        )
    return views


def describe_person(rt: Runtime, identity: str, *, follow_merges: bool = True) -> PersonView:
    person = resolve_identity(rt.identities, identity, follow_merges=follow_merges)
    return next(v for v in describe_people(rt) if v.id == person.id)


def _lazy_embed(rt: Runtime) -> Callable[[list[str]], np.ndarray]:
    # The text model loads only if some caption actually changes.
    return lambda texts: rt.text_embedder.embed(texts)


# -- command line ---------------------------------------------------------------------------------


def add_people_commands(people: argparse._SubParsersAction) -> None:
    """Add `name`, `merge`, `forget`, `show` and `voice` to the `egomem people` sub-commands."""
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


def show_command(rt: Runtime, args: argparse.Namespace) -> int:
    view = describe_person(rt, args.identity)
    print(f"{view.id}  {view.name or '(unnamed)'}  ({view.source})")
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
        print(f"{view.id:12} {view.name or '(unnamed)':24} {view.exemplars} face samples, {_events(view.events)}{last}")
    return 0


def _events(n: int) -> str:
    return f"{n} event{'s' * (n != 1)}"
