"""Speech to text with faster-whisper, voice activity detection included."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from egomem.perception.records import Utterance, Word

SAMPLE_RATE = 16_000
WINDOW_S = 600  # long audio is transcribed in windows of about this many seconds


@dataclass(frozen=True)
class Transcript:
    language: str | None
    language_probability: float
    utterances: list[Utterance]
    seconds: float  # wall time spent


class SpeechRecognizer:
    """Whisper in CTranslate2 format. Loaded once and reused for every recording."""

    def __init__(
        self, model_dir: Path, *, device: str = "cpu", compute_type: str = "default", vad: bool = True, beam_size: int = 1, batch_size: int = 0
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
        # On a CPU, 8 chunks at once are no faster than 4 and hold ~300 MB more (BENCHMARKS.md).
        self.batch_size = batch_size or (16 if device == "cuda" else 4)
        self._model = WhisperModel(str(model_dir), device=device, compute_type=compute_type, cpu_threads=0)
        self._languages = _LanguageTap(self._model.model)
        self._model.model = self._languages
        self._lock = threading.Lock()  # the tap's notes belong to one transcription at a time
        # Batched decoding of VAD-cut chunks is several times faster than the sequential decoder
        # on long recordings, on a CPU as on a GPU; it needs VAD to find the chunks.
        self._batched = BatchedInferencePipeline(self._model) if vad else None

    def describe(self) -> str:
        mode = f"batched x{self.batch_size}, VAD on" if self._batched else "sequential, VAD off"
        return f"faster-whisper {self.model_dir.name} ({self.compute_type}, beam {self.beam_size}, {mode}) on {self.device}"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None, on_progress: Callable[[float], None] | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio. Silence gives an empty transcript, not an error.

        Long audio goes through in windows of about WINDOW_S, cut at the quietest moment near each
        boundary: the decoder's working memory then stays bounded however long the recording (an
        hour in one pass is several hundred MB more at the peak), and the language detected in the first
        window is kept for the rest. `on_progress` gets the audio position (seconds) reached.
        """
        started = time.perf_counter()
        if audio.size < SAMPLE_RATE // 10:
            return Transcript(None, 0.0, [], time.perf_counter() - started)
        utterances: list[Utterance] = []
        detected: tuple[str | None, float] = (language, 1.0 if language else 0.0)
        for begin, end in window_bounds(audio, WINDOW_S * SAMPLE_RATE):
            offset = begin / SAMPLE_RATE
            progress = (lambda t, o=offset: on_progress(o + t)) if on_progress is not None else None
            with self._lock:
                found, heard = self._transcribe_window(audio[begin:end], detected[0], progress)
            utterances += [_shifted(u, offset) for u in found]
            if detected[0] is None and found:  # a window without speech says nothing about the language
                detected = heard
        return Transcript(detected[0], detected[1], utterances, time.perf_counter() - started)

    def _transcribe_window(
        self, audio: np.ndarray, language: str | None, on_progress: Callable[[float], None] | None
    ) -> tuple[list[Utterance], tuple[str | None, float]]:
        """Utterances of one window and the language heard in it (language, probability)."""
        self._languages.heard.clear()
        if self._batched is not None:
            # With no language given, each chunk's language is read off the encoder pass that also
            # transcribes it (faster-whisper's multilingual mode) instead of a pass of its own: on
            # ~10-second clips that extra pass is a third of Whisper's time. "en" only fills the
            # prompt's language slot, which multilingual mode rewrites per chunk.
            segments, info = self._batched.transcribe(
                audio, language=language or "en", multilingual=language is None, beam_size=self.beam_size,
                batch_size=self.batch_size, word_timestamps=True, vad_parameters={"min_silence_duration_ms": 500},
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
        if language is not None:
            return utterances, (language, 1.0)
        if self._languages.heard:
            return utterances, self._languages.most_heard()
        return utterances, (info.language, float(info.language_probability))  # no chunk had speech to detect on


class _LanguageTap:
    """Wraps the CTranslate2 Whisper model inside faster-whisper and notes each language it detects,
    so that the batched pipeline's per-chunk detection can also say which language was heard."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.heard: list[tuple[str, float]] = []  # (language, probability), one per chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def detect_language(self, *args: Any, **kwargs: Any) -> Any:
        results = self._model.detect_language(*args, **kwargs)
        self.heard += [(token.strip("<|>"), float(p)) for token, p in (ranked[0] for ranked in results)]
        return results

    def most_heard(self) -> tuple[str, float]:
        """The language of most chunks (the first such on a tie) and its mean probability."""
        language = Counter(lang for lang, _ in self.heard).most_common(1)[0][0]
        probabilities = [p for lang, p in self.heard if lang == language]
        return language, sum(probabilities) / len(probabilities)


def window_bounds(audio: np.ndarray, window: int, search: int = 15 * SAMPLE_RATE, step: int = SAMPLE_RATE // 10) -> list[tuple[int, int]]:
    """(begin, end) sample ranges of about `window` samples covering `audio`, each cut at the quietest
    `step` within `search` samples of its nominal end, so that no word is cut in two."""
    search = min(search, window // 4)  # a cut never moves a window by more than a quarter of its length
    bounds: list[tuple[int, int]] = []
    begin = 0
    while audio.size - begin > window + window // 5:  # a short tail joins the last window
        lo, hi = begin + window - search, min(audio.size, begin + window + search)
        cut = lo + int(np.argmin(block_energy(audio[lo:hi], step))) * step + step // 2
        bounds.append((begin, cut))
        begin = cut
    bounds.append((begin, audio.size))
    return bounds


def block_energy(audio: np.ndarray, size: int) -> np.ndarray:
    """Sum of squares of each whole `size`-sample block of `audio` (a part block at the end is left out).

    einsum over a reshaped view: no squared copy of the audio, however long.
    """
    blocks = audio[: audio.size // size * size].reshape(-1, size)
    return np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64)


def _shifted(u: Utterance, offset: float) -> Utterance:
    if not offset:
        return u
    words = tuple(Word(w.start_s + offset, w.end_s + offset, w.text, w.probability) for w in u.words)
    return Utterance(u.start_s + offset, u.end_s + offset, u.text, words, u.speaker)
