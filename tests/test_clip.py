"""The real open_clip loading path, exercised with a small randomly initialised architecture.

No pretrained CLIP weights can be fetched here, so the test saves random weights as a local
checkpoint and loads them the way a user's checkpoint is loaded.
"""

from pathlib import Path

import numpy as np
import pytest

from egomem.errors import ModelUnavailable
from egomem.perception.clip import ClipEmbedder, ClipSource


def _frames() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    red = np.zeros((90, 160, 3), np.uint8)
    red[..., 2] = 220
    return [red, red.copy(), rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)]


def test_checkpoint_loads_and_embeds_batches(tiny_checkpoint: Path) -> None:
    embedder = ClipEmbedder(ClipSource("egomem-tiny-vit", checkpoint=tiny_checkpoint), batch_size=2)
    vectors = embedder.embed_images(_frames())
    assert vectors.shape == (3, 32) and embedder.dim == 32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > 0.999  # identical frames, across a batch boundary
    assert vectors[0] @ vectors[2] < 0.999
    assert "egomem-tiny-vit" in embedder.describe() and "cpu" in embedder.describe()


def test_the_checkpoint_weights_are_the_ones_used(tiny_checkpoint: Path, tmp_path: Path) -> None:
    import torch

    first = ClipEmbedder(ClipSource("egomem-tiny-vit", checkpoint=tiny_checkpoint)).embed_images(_frames())
    state = torch.load(tiny_checkpoint)["state_dict"]
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v for k, v in state.items()}}, other)
    second = ClipEmbedder(ClipSource("egomem-tiny-vit", checkpoint=other)).embed_images(_frames())
    assert not np.allclose(first, second, atol=1e-3)


def test_without_weights_the_stage_says_so() -> None:
    with pytest.raises(ModelUnavailable, match="no CLIP weights configured"):
        ClipEmbedder(ClipSource("ViT-B-32"))
    with pytest.raises(ModelUnavailable, match="does not exist"):
        ClipEmbedder(ClipSource("ViT-B-32", checkpoint=Path("/nonexistent/clip.pt")))


def test_an_unreachable_pretrained_tag_is_reported_not_hidden() -> None:
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        ClipEmbedder(ClipSource("egomem-tiny-vit", pretrained="no-such-tag"))


def test_ingest_stores_image_vectors_and_scene_tags_when_clip_is_loaded(tiny_checkpoint: Path, tmp_path: Path, shared_data: Path) -> None:
    """The whole stage in the pipeline: keyframes embedded, events searchable by image, tags in the caption."""
    from egomem.config import Settings
    from egomem.runtime import Runtime
    from pipelines.ingest import Ingestor, Outcome

    settings = Settings.load(
        env={}, home=tmp_path, clip_model="egomem-tiny-vit", clip_checkpoint=tiny_checkpoint, caption_backend="clip-tags", faces=False
    )
    with Runtime(settings) as rt:
        [result] = Ingestor(rt).ingest([shared_data / "faces" / "test" / "obama1.jpg"])
        assert result.outcome is Outcome.INGESTED
        [event] = rt.store.events()
        assert event.image_vector is not None and len(event.image_vector) == 32
        assert event.tags and "Scene:" in event.caption
        hits = rt.store.search_image(event.image_vector, limit=3)
        assert hits[0].event.id == event.id
        statuses = {c.name: c for c in rt.component_status()}
        assert statuses["clip"].loaded and "egomem-tiny-vit" in statuses["clip"].detail
        assert statuses["captioner"].loaded and "zero-shot tags" in statuses["captioner"].detail
