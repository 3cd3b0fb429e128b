"""Speech to text with faster-whisper, voice activity detection included."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from egomem.perception.records import Utterance, Word

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Transcript:
    language: str | None
    language_probability: float
    utterances: list[Utterance]
    seconds: float  # wall time spent


class SpeechRecognizer:
    """Whisper in CTranslate2 format. Loaded once and reused for every recording."""

    def __init__(self, model_dir: Path, *, device: str = "cpu", compute_type: str = "default", vad: bool = True) -> None:
        from faster_whisper import WhisperModel

        if compute_type == "default":
            # int8 keeps CPU inference fast and small; float16 is the fast path on a GPU.
            compute_type = "float16" if device == "cuda" else "int8"
        self.model_dir = model_dir
        self.device = device
        self.compute_type = compute_type
        self.vad = vad
        self._model = WhisperModel(str(model_dir), device=device, compute_type=compute_type, cpu_threads=0)

    def describe(self) -> str:
        return f"faster-whisper {self.model_dir.name} ({self.compute_type}) on {self.device}, VAD {'on' if self.vad else 'off'}"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None, on_progress: Callable[[float], None] | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio. Silence gives an empty transcript, not an error.

        `on_progress` is called with the audio position (seconds) reached, as segments are decoded.
        """
        started = time.perf_counter()
        if audio.size < SAMPLE_RATE // 10:
            return Transcript(None, 0.0, [], time.perf_counter() - started)
        segments, info = self._model.transcribe(
            audio,
            language=language,
            beam_size=5,
            word_timestamps=True,
            vad_filter=self.vad,
            vad_parameters={"min_silence_duration_ms": 500},
            condition_on_previous_text=False,  # avoids hallucinated repetition across long silences
        )
        utterances: list[Utterance] = []
        for seg in segments:  # a lazy generator: decoding happens as we iterate
            if on_progress is not None:
                on_progress(float(seg.end))
            if not seg.text.strip() or seg.no_speech_prob >= 0.9:
                continue
            words = tuple(Word(float(w.start), float(w.end), w.word.strip(), float(w.probability)) for w in seg.words or ())
            utterances.append(Utterance(float(seg.start), float(seg.end), seg.text.strip(), words))
        return Transcript(info.language, float(info.language_probability), utterances, time.perf_counter() - started)
