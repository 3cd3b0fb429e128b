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

    def __init__(
        self, model_dir: Path, *, device: str = "cpu", compute_type: str = "default", vad: bool = True, beam_size: int = 1, batch_size: int = 8
    ) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        if compute_type == "default":
            # int8 keeps CPU inference fast and small; float16 is the fast path on a GPU.
            compute_type = "float16" if device == "cuda" else "int8"
        self.model_dir = model_dir
        self.device = device
        self.compute_type = compute_type
        self.vad = vad
        self.beam_size = beam_size
        self.batch_size = batch_size
        self._model = WhisperModel(str(model_dir), device=device, compute_type=compute_type, cpu_threads=0)
        # Batched decoding of VAD-cut chunks is several times faster than the sequential decoder
        # on long recordings, on a CPU as on a GPU; it needs VAD to find the chunks.
        self._batched = BatchedInferencePipeline(self._model) if vad else None

    def describe(self) -> str:
        mode = f"batched x{self.batch_size}, VAD on" if self._batched else "sequential, VAD off"
        return f"faster-whisper {self.model_dir.name} ({self.compute_type}, beam {self.beam_size}, {mode}) on {self.device}"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None, on_progress: Callable[[float], None] | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio. Silence gives an empty transcript, not an error.

        `on_progress` is called with the audio position (seconds) reached, as segments are decoded.
        """
        started = time.perf_counter()
        if audio.size < SAMPLE_RATE // 10:
            return Transcript(None, 0.0, [], time.perf_counter() - started)
        if self._batched is not None:
            segments, info = self._batched.transcribe(
                audio, language=language, beam_size=self.beam_size, batch_size=self.batch_size, word_timestamps=True,
                vad_parameters={"min_silence_duration_ms": 500},
            )
        else:
            segments, info = self._model.transcribe(
                audio,
                language=language,
                beam_size=self.beam_size,
                word_timestamps=True,
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
