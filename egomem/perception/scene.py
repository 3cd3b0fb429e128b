"""Scene-change detection on sampled frames: decides which frames are keyframes.

Keyframes are where the expensive, slowly-changing work happens (OCR, thumbnails, CLIP), so a
static minute of video costs one keyframe, not sixty.
"""

from __future__ import annotations

import cv2
import numpy as np


def colour_signature(frame_bgr: np.ndarray) -> np.ndarray:
    """A normalised hue-saturation histogram: cheap, and robust to small motion and noise."""
    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [30, 32], [0, 180, 0, 256])
    cv2.normalize(hist, hist, alpha=1.0, norm_type=cv2.NORM_L1)
    return hist


class SceneChangeDetector:
    """Marks a frame as a keyframe when it differs enough from the last keyframe.

    `threshold` is a Bhattacharyya distance (0 same, 1 disjoint). A keyframe is also forced every
    `max_interval_s`, so a long unchanging scene still gets its text read now and then.
    """

    def __init__(self, threshold: float = 0.35, max_interval_s: float = 60.0) -> None:
        self.threshold = threshold
        self.max_interval_s = max_interval_s
        self._last_key: np.ndarray | None = None
        self._last_key_t = float("-inf")
        self._previous: np.ndarray | None = None

    def update(self, t_s: float, frame_bgr: np.ndarray) -> tuple[bool, float]:
        """Return (is_keyframe, change from the previous sampled frame)."""
        signature = colour_signature(frame_bgr)
        change = 0.0 if self._previous is None else _distance(self._previous, signature)
        self._previous = signature
        if self._last_key is None:
            is_key = True
        else:
            is_key = _distance(self._last_key, signature) > self.threshold or t_s - self._last_key_t >= self.max_interval_s
        if is_key:
            self._last_key, self._last_key_t = signature, t_s
        return is_key, change


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


class StillnessGate:
    """Says when a frame must be searched for faces again, and when the last result still holds.

    Faces are the costliest per-frame stage. When the picture has not moved since the last frame
    that was searched (a phone on a table, the wearer sitting still), searching again finds the
    same people, so their result is reused. Motion is the mean absolute difference of tiny
    grayscale copies: unlike the colour histogram it sees a person walking out of view. A search
    is still forced every `max_reuse_s`, so someone who left very slowly is not kept forever.
    """

    SIZE = (64, 36)

    def __init__(self, threshold: float = 3.0, max_reuse_s: float = 10.0) -> None:
        self.threshold = threshold  # mean grey-level difference (0-255) below which nothing moved
        self.max_reuse_s = max_reuse_s  # 0 disables reuse
        self._last: np.ndarray | None = None
        self._last_t = float("-inf")

    def is_still(self, t_s: float, frame_bgr: np.ndarray, *, force_search: bool = False) -> bool:
        """True when the last searched frame's faces may stand for this one (never with `force_search`)."""
        tiny = cv2.resize(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY), self.SIZE, interpolation=cv2.INTER_AREA).astype(np.int16)
        still = (
            not force_search
            and self._last is not None
            and self.max_reuse_s > 0
            and t_s - self._last_t < self.max_reuse_s
            and float(np.abs(tiny - self._last).mean()) < self.threshold
        )
        if not still:
            self._last, self._last_t = tiny, t_s
        return still
