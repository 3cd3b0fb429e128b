from pathlib import Path

import pytest

from egomem.config import Settings
from egomem.errors import ConfigError


def test_environment_beats_file_beats_defaults(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('frame_rate = 2.5\nocr = false\nlanguage = "en"\n')
    settings = Settings.load(env={"EGOMEM_HOME": str(tmp_path), "EGOMEM_FRAME_RATE": "4"})
    assert settings.home == tmp_path
    assert settings.frame_rate == 4.0  # environment wins
    assert settings.ocr is False and settings.language == "en"  # from the file
    assert settings.face_match_distance == 0.6  # default
    assert settings.config_file == tmp_path / "config.toml"
    assert settings.store_dir == tmp_path / "store"


def test_two_homes_are_two_memories(tmp_path: Path) -> None:
    a = Settings.load(env={"EGOMEM_HOME": str(tmp_path / "a")})
    b = Settings.load(env={"EGOMEM_HOME": str(tmp_path / "b")})
    assert a.store_dir != b.store_dir and a.catalog_path != b.catalog_path


def test_bad_values_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="frame_rate"):
        Settings.load(env={"EGOMEM_HOME": str(tmp_path), "EGOMEM_FRAME_RATE": "fast"})
    with pytest.raises(ConfigError, match="true or false"):
        Settings.load(env={"EGOMEM_HOME": str(tmp_path), "EGOMEM_OCR": "maybe"})
    (tmp_path / "config.toml").write_text("frame_rat = 2\n")
    with pytest.raises(ConfigError, match="unknown settings"):
        Settings.load(env={"EGOMEM_HOME": str(tmp_path)})
