"""Records perception emits. Times are offsets in seconds from the recording's start.

They are plain data so that stages can run in other threads or processes and the memory layer
can consume them without knowing which model produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Word:
    start_s: float
    end_s: float
    text: str
    probability: float


@dataclass(frozen=True)
class Utterance:
    """One transcribed speech segment."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None  # attribution is refined by later stages; None means unknown


@dataclass(frozen=True)
class Box:
    """A pixel rectangle in the frame it was found in."""

    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class FaceObservation:
    """A face seen in one frame, with its identity if the face index knows it."""

    box: Box
    descriptor: np.ndarray  # 128-d dlib ResNet descriptor, float32
    identity_id: str | None = None  # stable id of a known or clustered identity
    name: str | None = None  # set only when the identity belongs to an enrolled/named person
    distance: float | None = None  # distance to the matched identity, lower is closer


@dataclass(frozen=True)
class TextObservation:
    """Text read in a frame by OCR."""

    text: str
    confidence: float
    box: Box | None = None


@dataclass
class FrameObservation:
    """What was seen at one sampled frame."""

    t_s: float
    is_keyframe: bool  # a scene change (or the first frame): OCR and thumbnails run on these
    change: float  # visual change from the previous sampled frame, 0..1
    faces: list[FaceObservation] = field(default_factory=list)
    texts: list[TextObservation] = field(default_factory=list)
    image_embedding: np.ndarray | None = None  # CLIP, when weights are loaded
    thumbnail: str | None = None  # path relative to the thumbnails folder, keyframes only


@dataclass
class StageReport:
    """What one perception stage did with one recording, for `status`, ingest reports and benchmarks."""

    stage: str
    ran: bool
    detail: str = ""
    seconds: float = 0.0  # wall time spent in the stage
    items: int = 0  # what it processed: frames, keyframes, seconds of audio, events
    device: str = "cpu"
    errors: int = 0  # items the stage failed on and skipped
