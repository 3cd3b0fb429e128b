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


@pytest.fixture(scope="session")
def generated_life(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """A two-day synthetic life with real media (espeak-ng, OpenCV, ffmpeg), made once per session."""
    from pipelines.lifegen import generate_life

    folder = tmp_path_factory.mktemp("life") / "life"
    spec = generate_life(folder, faces_dir=shared_data / "faces", seed=7, days=2)
    return folder, spec


@pytest.fixture(scope="session")
def life_memory(models, generated_life, tmp_path_factory: pytest.TempPathFactory):
    """The generated life ingested into its own memory with the real models, once per session."""
    from egomem.config import Settings
    from egomem.runtime import Runtime
    from pipelines.ingest import Ingestor

    folder, _ = generated_life
    rt = Runtime(Settings.load(env={}, home=tmp_path_factory.mktemp("life-memory")), models)
    results = Ingestor(rt).ingest([folder])
    yield rt, results
    rt.close()


# A randomly initialised small CLIP: no pretrained open_clip weights can be had offline, so the real
# loading path (a local checkpoint) is exercised with this one.
TINY_CLIP = "egomem-tiny-vit"
TINY_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint file of the `egomem-tiny-vit` architecture (registered with open_clip)."""
    import json

    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("clip")
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CLIP_CONFIG))
    open_clip.add_model_config(folder / f"{TINY_CLIP}.json")
    torch.manual_seed(0)
    checkpoint = folder / "tiny.pt"
    torch.save({"state_dict": open_clip.create_model(TINY_CLIP, pretrained=None).state_dict()}, checkpoint)
    return checkpoint
