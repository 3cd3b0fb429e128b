"""Image embeddings with open_clip, for visual search ("the red door", "a crowded market").

Weights are never assumed: a pretrained tag (downloaded by open_clip on first use) or a local
checkpoint must be configured, otherwise the stage reports itself unavailable and the rest runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from egomem.errors import ModelUnavailable


@dataclass(frozen=True)
class ClipSource:
    model: str  # open_clip architecture name, e.g. "ViT-B-32"
    pretrained: str | None = None  # open_clip pretrained tag
    checkpoint: Path | None = None  # local checkpoint file; wins over the tag

    @property
    def weights(self) -> str | None:
        return str(self.checkpoint) if self.checkpoint else self.pretrained


class ClipEmbedder:
    def __init__(self, source: ClipSource, *, device: str = "cpu", batch_size: int = 16) -> None:
        if source.weights is None:
            raise ModelUnavailable(
                f"no CLIP weights configured for {source.model}: set EGOMEM_CLIP_PRETRAINED (an open_clip tag) "
                "or EGOMEM_CLIP_CHECKPOINT (a local file)"
            )
        if source.checkpoint and not source.checkpoint.is_file():
            raise ModelUnavailable(f"CLIP checkpoint {source.checkpoint} does not exist")
        import open_clip
        import torch

        try:
            model, _, preprocess = open_clip.create_model_and_transforms(source.model, pretrained=source.weights, device=device)
        except Exception as exc:  # noqa: BLE001 - unknown tag, no network, bad file: all mean "not loaded"
            raise ModelUnavailable(f"CLIP {source.model} with weights {source.weights!r} could not be loaded: {exc}") from exc
        self.source = source
        self.device = device
        self.batch_size = batch_size
        self._torch = torch
        self._model = model.eval()
        self._preprocess = preprocess
        self._half = device == "cuda"  # fp16 halves memory and roughly doubles throughput on GPUs
        if self._half:
            self._model = self._model.half()
        self.dim = int(model.visual.output_dim)

    def describe(self) -> str:
        precision = "fp16" if self._half else "fp32"
        return f"open_clip {self.source.model} ({self.source.weights}, {precision}) on {self.device}"

    def embed_images(self, frames_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised embeddings, one row per frame."""
        from PIL import Image

        torch = self._torch
        rows: list[np.ndarray] = []
        for i in range(0, len(frames_bgr), self.batch_size):
            batch = [self._preprocess(Image.fromarray(np.ascontiguousarray(f[:, :, ::-1]))) for f in frames_bgr[i : i + self.batch_size]]
            pixels = torch.stack(batch).to(self.device)
            if self._half:
                pixels = pixels.half()
            with torch.inference_mode():
                features = self._model.encode_image(pixels).float()
            features = torch.nn.functional.normalize(features, dim=-1)
            rows.append(features.cpu().numpy())
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)
