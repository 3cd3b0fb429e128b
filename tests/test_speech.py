"""Whisper base (packaged, CTranslate2) on real speech."""

import subprocess
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


def test_the_language_is_detected_in_the_pass_that_transcribes(models, tmp_path: Path) -> None:
    wav = tmp_path / "fr.wav"
    sentence = "Bonjour, je voudrais acheter du pain et du fromage pour le dîner de ce soir avec mes amis."
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav), sentence], check=True)
    transcript = models.speech.transcribe(load_audio(wav))
    assert transcript.language == "fr" and transcript.language_probability > 0.5
    assert "bonjour" in " ".join(u.text for u in transcript.utterances).lower()  # French words, not a translation
    # A language given up front is kept, not detected.
    assert models.speech.transcribe(load_audio(wav), language="fr").language == "fr"


def test_silence_gives_no_words(models) -> None:
    assert models.speech.transcribe(np.zeros(16_000 * 3, np.float32)).utterances == []
    assert models.speech.transcribe(np.zeros(100, np.float32)).utterances == []


def test_the_model_is_described_with_its_device(models) -> None:
    description = models.speech.describe()
    assert "whisper-base" in description and models.device in description


def test_long_audio_goes_through_in_windows_cut_in_silence(models, shared_data: Path, monkeypatch) -> None:
    from egomem.perception import speech

    jfk = load_audio(shared_data / "media" / "jfk.flac")
    gap = np.zeros(16_000 * 4, np.float32)
    audio = np.concatenate([jfk, gap, jfk, gap, jfk])  # three speeches, 4 s of silence between them
    starts = [0.0, (jfk.size + gap.size) / 16_000, 2 * (jfk.size + gap.size) / 16_000]

    bounds = speech.window_bounds(audio, 14 * 16_000, search=3 * 16_000)
    assert len(bounds) >= 2 and bounds[0][0] == 0 and bounds[-1][1] == audio.size
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, nothing lost or read twice
    for cut, _ in bounds[1:]:
        assert np.abs(audio[cut - 800 : cut + 800]).max() < 0.01  # cut in the quiet, not inside a word

    monkeypatch.setattr(speech, "WINDOW_S", 14)  # windows of ~14 s instead of 10 minutes
    transcript = models.speech.transcribe(audio)
    assert transcript.language == "en"
    found = [u for u in transcript.utterances if "ask not what your country" in u.text.lower()]
    assert len(found) == 3  # each speech once, none cut in two at a window's edge
    for utterance, start in zip(found, starts):
        assert start - 0.5 <= utterance.start_s <= start + 11.0  # times are positions in the whole recording
        assert all(start - 0.5 <= w.start_s <= start + 11.5 for w in utterance.words)
