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
