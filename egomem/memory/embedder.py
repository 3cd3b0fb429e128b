"""Text embeddings for events and questions (all-MiniLM-L6-v2, 384-d, from a local folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np


class TextEmbedder:
    def __init__(self, model_dir: Path, *, name: str | None = None, device: str = "cpu") -> None:
        # The weights are local; never let a library reach for a hub it cannot see.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # one model load is not worth a progress bar

        self.model_dir = model_dir
        self.name = name or model_dir.name
        self.device = device
        self._model = SentenceTransformer(str(model_dir), device=device)
        self.dim = int(self._model.get_embedding_dimension() or 384)

    def describe(self) -> str:
        return f"sentence-transformers {self.name} ({self.dim}-d) from {self.model_dir} on {self.device}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows; empty input gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32)
