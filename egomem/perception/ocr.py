"""Text in view, read with PP-OCRv4 (rapidocr, ONNX Runtime)."""

from __future__ import annotations

import re

import numpy as np

from egomem.perception.records import Box, TextObservation


class TextReader:
    def __init__(self, *, min_confidence: float = 0.6, min_side: int = 480) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.min_confidence = min_confidence
        self.min_side = min_side
        # The detector's cost grows with pixels; "min" scales the shorter side to min_side, up or down.
        self._engine = RapidOCR(det_limit_type="min", det_limit_side_len=min_side)

    def describe(self) -> str:
        return f"rapidocr PP-OCRv4 (onnxruntime, CPU; text found at {self.min_side} px on the shorter side)"

    def read(self, frame_bgr: np.ndarray) -> list[TextObservation]:
        if frame_bgr is None or frame_bgr.size == 0:
            return []
        # No angle classifier: it only fixes text turned upside down, which a head-worn camera or an
        # upright (EXIF-corrected) photo rarely shows, and it adds a model run per line of text.
        result, _ = self._engine(frame_bgr, use_cls=False)
        found: list[TextObservation] = []
        for quad, text, score in result or []:
            text = text.strip()
            if float(score) < self.min_confidence or not _is_meaningful(text):
                continue
            xs = [int(p[0]) for p in quad]
            ys = [int(p[1]) for p in quad]
            found.append(TextObservation(text, float(score), Box(min(xs), min(ys), max(xs), max(ys))))
        return found


def _is_meaningful(text: str) -> bool:
    """Drop single characters and punctuation runs that OCR finds in textures."""
    return len(re.findall(r"[^\W_]", text)) >= 2


def dedupe_texts(texts: list[str]) -> list[str]:
    """Unique texts in first-seen order, ignoring case and spacing differences between frames."""
    seen: set[str] = set()
    unique: list[str] = []
    for text in texts:
        key = re.sub(r"\W+", "", text).lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(text)
    return unique
