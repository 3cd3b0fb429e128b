"""Shared fixtures: real data from ../shared, and models loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data is missing: expected {SHARED_DATA} (the project's ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory):
    """The real models, loaded once for the whole session and shared by every memory under test."""
    from egomem.config import Settings
    from egomem.runtime import Models

    return Models(Settings.load(env={}, home=tmp_path_factory.mktemp("models-home")))


@pytest.fixture
def make_runtime(models):
    """Open a fresh memory (its own data folder) that reuses the session's models."""
    from egomem.config import Settings
    from egomem.runtime import Runtime

    opened: list[Runtime] = []

    def make(home: Path, **overrides) -> Runtime:
        rt = Runtime(Settings.load(env={}, home=home, **overrides), models)
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()
