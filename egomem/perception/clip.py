"""Image and text embeddings with open_clip, for visual search ("the red door", "a crowded market")
and zero-shot scene tags ("kitchen", "cooking", "coffee cup") that join an event's caption.

Weights are never assumed: a pretrained tag (downloaded by open_clip on first use) or a local
checkpoint must be configured, otherwise the stage reports itself unavailable and the rest runs.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from egomem.errors import ConfigError, ModelUnavailable

log = logging.getLogger(__name__)

TEXT_BATCH = 256  # prompts per text-encoder pass: text is cheap, a vocabulary fits in one or two passes


@dataclass(frozen=True)
class ClipSource:
    model: str  # open_clip architecture name, e.g. "ViT-B-32"
    pretrained: str | None = None  # open_clip pretrained tag
    checkpoint: Path | None = None  # local checkpoint file; wins over the tag

    @property
    def weights(self) -> str | None:
        return str(self.checkpoint) if self.checkpoint else self.pretrained


class ClipEmbedder:
    def __init__(self, source: ClipSource, *, device: str = "cpu", batch_size: int = 16, compile: bool = False) -> None:
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
        # torch.compile only on CUDA: there it fuses the ViT's attention/MLP kernels for a real speed-up
        # on long ingests. On CPU, Inductor needs a C++ toolchain, spends tens of seconds compiling per
        # batch shape, and gains little over eager for the few keyframes per event, so eager is kept.
        self._encode_image: Callable[[Any], Any] = self._model.encode_image
        self._compiled = bool(compile) and device == "cuda"
        if self._compiled:
            self._encode_image = torch.compile(self._model.encode_image, dynamic=True)

    def describe(self) -> str:
        precision = "fp16" if self._half else "fp32"
        compiled = ", compiled" if self._compiled else ""
        return f"open_clip {self.source.model} ({self.source.weights}, {precision}{compiled}) on {self.device}"

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
                features = self._run_image_encoder(pixels).float()
            features = torch.nn.functional.normalize(features, dim=-1)
            rows.append(features.cpu().numpy())
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised text embeddings in the same space as `embed_images`, one row per text."""
        torch = self._torch
        rows: list[np.ndarray] = []
        for i in range(0, len(texts), TEXT_BATCH):
            tokens = self._tokenizer(list(texts[i : i + TEXT_BATCH])).to(self.device)
            with torch.inference_mode():
                features = self._model.encode_text(tokens).float()
            rows.append(torch.nn.functional.normalize(features, dim=-1).cpu().numpy())
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)

    @cached_property
    def _tokenizer(self) -> Callable[[list[str]], Any]:
        import open_clip

        # The architecture's config picks the tokenizer and its context length (77 for the OpenAI ViTs).
        try:
            return open_clip.get_tokenizer(self.source.model)
        except Exception as exc:  # noqa: BLE001 - an HF tokenizer that cannot be fetched offline
            raise ModelUnavailable(f"CLIP tokenizer for {self.source.model} could not be loaded: {exc}") from exc

    def _run_image_encoder(self, pixels: Any) -> Any:
        if not self._compiled:
            return self._encode_image(pixels)
        try:
            return self._encode_image(pixels)
        except Exception as exc:  # noqa: BLE001 - compilation is lazy: no Triton, an unsupported op, ...
            log.warning("torch.compile of the CLIP image encoder failed, running eager: %s", exc)
            self._compiled = False
            self._encode_image = self._model.encode_image
            return self._encode_image(pixels)


# -- zero-shot tags ------------------------------------------------------------------------------

PLACES = (
    "kitchen", "office", "gym", "supermarket", "cafe", "street", "car", "park", "living room", "bedroom",
    "restaurant", "classroom", "bathroom", "bus", "train", "shop", "library", "beach", "forest", "hospital",
    "airport", "meeting room",
)  # fmt: skip
ACTIVITIES = (
    "cooking", "eating", "working at a computer", "reading", "shopping", "exercising", "walking", "driving",
    "talking with people", "watching tv", "cleaning", "doing the dishes", "writing", "playing music",
    "cycling", "on a video call", "drinking coffee", "playing with a child",
)  # fmt: skip
OBJECTS = (
    "laptop", "phone", "book", "coffee cup", "television", "whiteboard", "bicycle", "dog", "cat", "plate of food",
    "shopping cart", "steering wheel", "computer screen", "notebook", "keyboard", "glass of water", "bottle",
    "flowers", "backpack", "document",
)  # fmt: skip
KINDS = ("places", "activities", "objects")

# Prompt ensembling: averaging a label's embedding over a few phrasings makes zero-shot scores less
# sensitive to wording; the first-person phrasing matches what a wearable camera sees.
PROMPTS = (
    "a photo of {}.",
    "a first-person photo of {}.",
    "a picture of {}.",
    "a blurry photo of {}.",
)


@dataclass(frozen=True)
class Vocabulary:
    """The labels zero-shot tagging can choose from, by kind. Users extend it from a file."""

    places: tuple[str, ...] = PLACES
    activities: tuple[str, ...] = ACTIVITIES
    objects: tuple[str, ...] = OBJECTS

    @classmethod
    def default(cls) -> "Vocabulary":
        return cls()

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label once, places first, in a stable order (the row order of the tagger's matrix)."""
        return tuple(dict.fromkeys(label for kind in KINDS for label in getattr(self, kind)))

    def kind_of(self, label: str) -> str:
        for kind in KINDS:
            if label in getattr(self, kind):
                return kind
        raise KeyError(label)

    @classmethod
    def load(cls, path: Path | str, base: "Vocabulary | None" = None) -> "Vocabulary":
        """Extend `base` (the built-in vocabulary by default) from a user file.

        TOML (`.toml`): a table per kind with `extra` (added) and `remove` (dropped) lists,
            [places]
            extra = ["climbing gym", "grandma's garden"]
            remove = ["hospital"]
        Anything else is plain text, one label per line, `#` comments; `place:`, `activity:` or
        `object:` before a label picks its kind, otherwise it is an object.
        """
        path = Path(path).expanduser()
        base = base or cls()
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"vocabulary file {path}: {exc}") from exc
        extra: dict[str, list[str]] = {k: [] for k in KINDS}
        remove: dict[str, list[str]] = {k: [] for k in KINDS}
        if path.suffix.lower() == ".toml":
            _read_toml_vocabulary(path, raw, extra, remove)
        else:
            _read_text_vocabulary(raw, extra)
        kept = {k: [x for x in (*getattr(base, k), *extra[k]) if x not in remove[k]] for k in KINDS}
        return cls(**{k: tuple(dict.fromkeys(v)) for k, v in kept.items()})


def _clean(label: object, where: str) -> str:
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"{where}: labels must be non-empty strings, not {label!r}")
    return " ".join(label.split()).lower()  # CLIP's tokenizer lower-cases anyway; this also dedupes "Gym"/"gym"


def _read_toml_vocabulary(path: Path, raw: str, extra: dict[str, list[str]], remove: dict[str, list[str]]) -> None:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"vocabulary file {path}: {exc}") from exc
    unknown = set(data) - set(KINDS)
    if unknown:
        raise ConfigError(f"vocabulary file {path}: unknown sections {sorted(unknown)}; expected {list(KINDS)}")
    for kind, table in data.items():
        if isinstance(table, list):  # `places = [...]` is shorthand for `[places] extra = [...]`
            table = {"extra": table}
        if not isinstance(table, dict) or set(table) - {"extra", "remove"}:
            raise ConfigError(f"vocabulary file {path}: [{kind}] takes only `extra` and `remove` lists")
        for key, target in (("extra", extra), ("remove", remove)):
            values = table.get(key, [])
            if not isinstance(values, list):
                raise ConfigError(f"vocabulary file {path}: [{kind}] {key} must be a list")
            target[kind] += [_clean(v, f"vocabulary file {path} [{kind}] {key}") for v in values]


def _read_text_vocabulary(raw: str, extra: dict[str, list[str]]) -> None:
    prefixes = {"place": "places", "places": "places", "activity": "activities", "activities": "activities",
                "object": "objects", "objects": "objects"}  # fmt: skip
    for line in raw.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        head, sep, rest = line.partition(":")
        kind = prefixes.get(head.strip().lower()) if sep else None
        if kind and rest.strip():
            extra[kind].append(_clean(rest, "vocabulary file"))
        else:
            extra["objects"].append(_clean(line, "vocabulary file"))


@dataclass(frozen=True)
class Tag:
    label: str
    kind: str  # "places" | "activities" | "objects"
    score: float  # cosine similarity above the vocabulary's mean for this image


class ZeroShotTagger:
    """Scene tags by comparing image embeddings with the vocabulary's (prompt-ensembled) text embeddings.

    A label is kept when its similarity beats the image's mean similarity over the whole vocabulary by
    `margin`: raw CLIP cosines sit in a narrow band (~0.15-0.35) whose level varies from image to image,
    so the distance from the mean is what says "this label stands out", not the absolute value.
    """

    def __init__(
        self,
        embedder: ClipEmbedder,
        vocabulary: Vocabulary | None = None,
        *,
        prompts: Sequence[str] = PROMPTS,
        margin: float = 0.03,
        top_k: int = 3,
        max_per_kind: int | None = 1,  # one place, one activity, one object reads best in a caption
    ) -> None:
        self.embedder = embedder
        self.vocabulary = vocabulary or Vocabulary.default()
        self.labels = self.vocabulary.labels
        if not self.labels:
            raise ConfigError("the zero-shot vocabulary is empty")
        self.prompts = tuple(prompts)
        self.margin = margin
        self.top_k = top_k
        self.max_per_kind = max_per_kind
        self._kinds = tuple(self.vocabulary.kind_of(label) for label in self.labels)

    def describe(self) -> str:
        return f"zero-shot tags over {len(self.labels)} labels x {len(self.prompts)} prompts ({self.embedder.describe()})"

    @cached_property
    def text_embeddings(self) -> np.ndarray:
        """(labels, dim): each label's prompts embedded, averaged and re-normalised. Computed once."""
        texts = [prompt.format(label) for label in self.labels for prompt in self.prompts]
        per_prompt = self.embedder.encode_texts(texts).reshape(len(self.labels), len(self.prompts), -1)
        mean = per_prompt.mean(axis=1)
        return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)

    def rank(self, image_embeddings: np.ndarray) -> list[list[Tag]]:
        """The chosen tags per row of L2-normalised image embeddings, best first, with their scores."""
        vectors = np.atleast_2d(np.asarray(image_embeddings, np.float32))
        sims = vectors @ self.text_embeddings.T
        margins = sims - sims.mean(axis=1, keepdims=True)
        return [self._choose(row) for row in margins]

    def tag_embeddings(self, image_embeddings: np.ndarray) -> list[list[str]]:
        return [[t.label for t in tags] for tags in self.rank(image_embeddings)]

    def tag_images(self, frames_bgr: Sequence[np.ndarray]) -> list[list[str]]:
        """Tags per image."""
        if not frames_bgr:
            return []
        return self.tag_embeddings(self.embedder.embed_images(frames_bgr))

    def tag_scene(self, frames_bgr: Sequence[np.ndarray] = (), image_embeddings: np.ndarray | None = None) -> list[str]:
        """Tags for a set of keyframes (one event): tagged by their mean direction, like the event's image vector.

        Pass `image_embeddings` when the frames were already embedded, to skip the image encoder.
        """
        if image_embeddings is None or len(image_embeddings) == 0:
            if not frames_bgr:
                return []
            image_embeddings = self.embedder.embed_images(frames_bgr)
        mean = np.asarray(image_embeddings, np.float32).reshape(-1, self.text_embeddings.shape[1]).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return self.tag_embeddings(mean / norm)[0] if norm > 0 else []

    def _choose(self, margins: np.ndarray) -> list[Tag]:
        chosen: list[Tag] = []
        per_kind: dict[str, int] = {}
        for index in np.argsort(-margins, kind="stable"):  # stable: ties break by vocabulary order
            score = float(margins[index])
            if score <= self.margin or len(chosen) >= self.top_k:
                break
            kind = self._kinds[index]
            if self.max_per_kind is not None and per_kind.get(kind, 0) >= self.max_per_kind:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            chosen.append(Tag(self.labels[index], kind, score))
        return chosen
