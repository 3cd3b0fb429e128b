"""Whisper base (packaged, CTranslate2) on real speech."""

from pathlib import Path

import numpy as np

from egomem.media.decode import load_audio


def test_real_speech_is_transcribed_with_word_times(models, shared_data: Path) -> None:
    audio = load_audio(shared_data / "media" / "jfk.flac")
    transcript = models.speech.transcribe(audio)
    text = " ".join(u.text for u in transcript.utterances).lower()
    assert transcript.language == "en"
    for phrase in ("my fellow americans", "ask not what your country can do for you", "what you can do for your country"):
        assert phrase in text
    words = [w for u in transcript.utterances for w in u.words]
    assert len(words) >= 20
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))
    assert 0.0 <= words[0].start_s < 1.5 and 9.0 < words[-1].end_s <= 11.5


def test_silence_gives_no_words(models) -> None:
    assert models.speech.transcribe(np.zeros(16_000 * 3, np.float32)).utterances == []
    assert models.speech.transcribe(np.zeros(100, np.float32)).utterances == []


def test_the_model_is_described_with_its_device(models) -> None:
    description = models.speech.describe()
    assert "whisper-base" in description and models.device in description
