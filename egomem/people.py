"""Teaching egomem faces from labelled photos: `egomem people enroll NAME PHOTO...` and a life
folder's `people/NAME/*.jpg`.

An enrolment photo must show exactly one face: with several, nothing says which one is NAME, and
guessing wrong would put a name on someone else for good. Such photos are skipped with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from egomem.errors import EgomemError
from egomem.perception.faces import FaceAnalyzer
from egomem.store.identities import IdentityIndex, normalize_name

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
        result.used.append(photo)
    if descriptors:
        before = index.find(display)
        result.identity_id = index.enroll(display, descriptors, source="enrolled")
        after = index.get(result.identity_id)
        result.added = (after.exemplars if after else 0) - (before.exemplars if before else 0)
    return result
