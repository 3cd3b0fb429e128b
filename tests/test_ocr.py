"""Text in view: PP-OCRv4 through rapidocr on real and drawn frames."""

from pathlib import Path

import cv2
import numpy as np

from egomem.media.decode import iter_frames
from egomem.perception.ocr import dedupe_texts


def test_small_text_in_a_real_frame_is_read(models, shared_data: Path) -> None:
    # The clip's lower-third caption is ~10 px high at 640x360: small text is what a lower
    # detection size loses first.
    frames = [frame for t_s, frame in iter_frames(shared_data / "media" / "short_hamilton_clip.mp4", 1.0, 640)]
    read = [" ".join(o.text for o in models.ocr.read(frame)).upper() for frame in frames]
    assert sum("GOV" in text for text in read) >= len(frames) - 1


def test_a_drawn_sign_is_read_with_its_box(models) -> None:
    frame = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(frame, (150, 60), (490, 140), (255, 255, 255), -1)
    cv2.putText(frame, "CITY GYM", (180, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4)
    found = models.ocr.read(frame)
    assert [o.text.replace(" ", "") for o in found] == ["CITYGYM"]
    box = found[0].box
    assert 150 <= box.left < box.right <= 490 and 60 <= box.top < box.bottom <= 140
    assert models.ocr.read(np.full((360, 640, 3), 90, np.uint8)) == []  # a blank wall has no text


def test_texts_seen_in_several_frames_are_kept_once() -> None:
    assert dedupe_texts(["CITY GYM", "citygym", "Open 7-19", "OPEN 7-19 ", "!!"]) == ["CITY GYM", "Open 7-19"]
