"""Keyframes and the stillness gate that lets a still picture reuse its faces."""

from __future__ import annotations

import cv2
import numpy as np

from egomem.perception.scene import SceneChangeDetector, StillnessGate


def _room(person_x: int | None, noise_seed: int = 0) -> np.ndarray:
    """A grey room; a dark 'person' block at `person_x` (None: nobody); a little sensor noise."""
    frame = np.full((360, 640, 3), 170, np.uint8)
    cv2.rectangle(frame, (0, 250), (640, 360), (90, 120, 140), -1)
    if person_x is not None:
        cv2.rectangle(frame, (person_x, 80), (person_x + 120, 360), (40, 40, 60), -1)
    noise = np.random.default_rng(noise_seed).integers(-4, 5, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def test_a_still_picture_reuses_and_movement_searches_again() -> None:
    gate = StillnessGate(max_reuse_s=10.0)
    assert not gate.is_still(0.0, _room(100))  # nothing searched yet
    assert gate.is_still(2.0, _room(100, noise_seed=1))  # sensor noise is not movement
    assert not gate.is_still(4.0, _room(None, noise_seed=2))  # the person walked out of view
    assert gate.is_still(6.0, _room(None, noise_seed=3))


def test_reuse_is_bounded_in_time_and_can_be_forced_off() -> None:
    gate = StillnessGate(max_reuse_s=5.0)
    assert not gate.is_still(0.0, _room(100))
    assert gate.is_still(4.0, _room(100))
    assert not gate.is_still(5.0, _room(100))  # searched again after max_reuse_s, however still
    assert not gate.is_still(6.0, _room(100), force_search=True)  # a keyframe is always searched
    never = StillnessGate(max_reuse_s=0.0)
    assert not never.is_still(0.0, _room(100)) and not never.is_still(1.0, _room(100))


def test_keyframes_mark_scene_changes_and_a_long_still_scene_now_and_then() -> None:
    detector = SceneChangeDetector(threshold=0.35, max_interval_s=60.0)
    red, blue = np.zeros((90, 160, 3), np.uint8), np.zeros((90, 160, 3), np.uint8)
    red[..., 2], blue[..., 0] = 220, 220
    marks = [detector.update(t, frame)[0] for t, frame in [(0, red), (1, red), (2, blue), (3, blue), (63, blue)]]
    assert marks == [True, False, True, False, True]
