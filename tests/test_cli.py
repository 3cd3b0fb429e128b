"""The `egomem` command as a person runs it: enrol a face, ingest a photo, ask, check status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def egomem(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EGOMEM_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    train = shared_data / "faces" / "train" / "obama"
    enrolled = egomem(home, "people", "enroll", "Barack Obama", *map(str, sorted(train.iterdir())))
    assert enrolled.returncode == 0, enrolled.stderr
    ingested = egomem(home, "ingest", "--quiet", str(shared_data / "faces" / "test" / "obama1.jpg"))
    assert ingested.returncode == 0, ingested.stderr
    return home


def test_people_list_shows_the_enrolled_name(home: Path) -> None:
    listed = egomem(home, "people", "list")
    assert "Barack Obama" in listed.stdout


def test_a_photo_becomes_an_event_with_the_person_in_it(home: Path) -> None:
    asked = egomem(home, "ask", "Who did I see?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["abstained"]
    assert "Barack Obama" in answer["evidence"][0]["people"]
    assert "Barack Obama" in answer["text"]


def test_status_names_models_devices_and_contents(home: Path) -> None:
    status = egomem(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    stages = {m["stage"]: m for m in report["models"]}
    assert stages["speech"]["loaded"] and "whisper-base" in stages["speech"]["detail"]
    assert stages["faces"]["loaded"] and "dlib" in stages["faces"]["detail"]
    assert not stages["clip"]["loaded"] and "no CLIP weights" in stages["clip"]["detail"]
    assert report["device"] in ("cpu", "cuda")
    assert report["store"]["events"] == 1 and report["recordings"] == 1
    assert report["wearer_voice_devices"] == []  # a photo has no voice to learn from


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = egomem(tmp_path, "ask", "Who?", "--choices", "nonsense")
    assert bad.returncode == 1 and bad.stderr.startswith("egomem: a choice must look like KEY=TEXT")
    missing = egomem(tmp_path, "ingest", "--quiet", str(tmp_path / "nope.mp4"))
    assert missing.returncode == 1 and "file not found" in missing.stdout


def test_people_voice_shows_and_forgets_the_wearers_voice(tmp_path: Path) -> None:
    from egomem.perception.speakers import VoicePrint
    from egomem.store.voices import WearerVoiceBook

    home = tmp_path / "home"
    assert "no voice profile yet" in egomem(home, "people", "voice").stdout
    prints = [VoicePrint(-20.0, 12.0, np.full(12, 0.5, np.float32), 80), VoicePrint(-22.0, 12.0, np.full(12, 0.7, np.float32), 90)]
    WearerVoiceBook(home / "wearer_voice.json").learn("glasses-01", prints)

    shown = egomem(home, "people", "voice")
    assert shown.returncode == 0 and "glasses-01: learned from 2 utterances; level -21.0 dBFS, pitch 110 Hz" in shown.stdout, shown.stdout
    asked = egomem(home, "people", "voice", "--forget")
    assert asked.returncode == 1 and "nothing deleted" in asked.stdout
    assert WearerVoiceBook(home / "wearer_voice.json").get("glasses-01") is not None
    forgot = egomem(home, "people", "voice", "--forget", "--yes")
    assert forgot.returncode == 0 and "forgot your voice on glasses-01" in forgot.stdout
    assert WearerVoiceBook(home / "wearer_voice.json").voices() == {}
