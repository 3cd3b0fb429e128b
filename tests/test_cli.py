"""The `egomem` command as a person runs it: enrol a face, ingest a photo, ask, check status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = egomem(tmp_path, "ask", "Who?", "--choices", "nonsense")
    assert bad.returncode == 1 and bad.stderr.startswith("egomem: a choice must look like KEY=TEXT")
    missing = egomem(tmp_path, "ingest", "--quiet", str(tmp_path / "nope.mp4"))
    assert missing.returncode == 1 and "file not found" in missing.stdout
