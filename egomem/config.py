"""All of egomem's configuration, in one place.

Values come from, lowest priority first: the defaults below, a TOML file (`$EGOMEM_CONFIG`, else
`$EGOMEM_HOME/config.toml`), then `EGOMEM_<FIELD>` environment variables. `EGOMEM_HOME` picks the
data folder, so several memories can live side by side.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, get_type_hints

from egomem.errors import ConfigError

DEFAULT_HOME = Path("~/.local/share/egomem")


@dataclass(frozen=True)
class Settings:
    home: Path = DEFAULT_HOME
    device: str = "auto"  # "auto", "cpu" or "cuda": where the models run
    # CPU threads for the torch models (text embeddings, CLIP). 0: half the cores, at least one:
    # speech decodes beside them, and OpenMP threads that outnumber free cores spin instead of working
    # (`egomem bench ingest` on 2 cores: embedding 13 events took 2.5 s with 2 threads, 0.6 s with 1; BENCHMARKS.md).
    torch_threads: int = 0
    timezone: str = "local"  # IANA name, or "local" for the machine's zone; used for day boundaries

    # speech
    whisper_model: str = "whisper-base"  # a registry name, or a path to a CTranslate2 model folder
    whisper_compute_type: str = "default"  # "default" picks int8 on CPU, float16 on CUDA
    language: str | None = None  # None: detect it in each 30-s chunk, in the pass that transcribes it
    vad: bool = True
    whisper_beam_size: int = 1  # greedy decoding: about 3x faster than beam 5 for a small accuracy cost
    # 30-s chunks decoded together; 0 picks 4 on CPU (no slower than 8 there, ~300 MB less memory) and 16 on CUDA
    whisper_batch_size: int = 0

    # vision
    frame_rate: float = 1.0  # frames per second sampled for scene changes (keyframes: OCR, thumbnails, CLIP)
    face_rate: float = 0.5  # frames per second searched for faces: people stay in view for seconds
    face_reuse_s: float = 10.0  # while the picture is still, reuse the last faces found for up to this long (0: never)
    face_upsample_below: int = 360  # upsample frames whose shorter side is below this to find small faces (4x slower)
    frame_width: int = 640  # frames are decoded at this width; faces and OCR see this size
    scene_change: float = 0.35  # histogram distance above which a sampled frame becomes a keyframe
    faces: bool = True
    face_detector: str = "hog"  # dlib "hog" (CPU) or "cnn"
    face_match_distance: float = 0.6  # dlib's own threshold for "same person" on 128-d descriptors
    ocr: bool = True
    # text detection sees frames with the shorter side scaled to this; rapidocr's own 736 doubles a
    # 640x360 frame's pixels for no text found more on our tests' signs and screens (BENCHMARKS.md)
    ocr_min_side: int = 480
    clip_model: str = "ViT-B-32"
    clip_pretrained: str | None = None  # an open_clip pretrained tag, e.g. "laion2b_s34b_b79k"
    clip_checkpoint: Path | None = None  # or a local checkpoint file
    clip_vocabulary: Path | None = None  # a TOML/text file extending the zero-shot tag vocabulary
    clip_compile: bool = False  # torch.compile the CLIP image encoder (CUDA only)

    # captions: "composed" (from what was perceived), "clip-tags" (plus zero-shot scene tags),
    # or "openai" (a vision-language model behind an OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp)
    caption_backend: str = "composed"
    caption_url: str | None = None  # base URL including /v1
    caption_model: str | None = None
    caption_api_key: str | None = None
    caption_timeout_s: float = 30.0
    caption_retries: int = 2
    caption_concurrency: int = 4
    caption_max_images: int = 3

    # reasoning: an optional LLM reader behind an OpenAI-compatible endpoint writes answers from the
    # planned evidence and must cite it; unset, answers come from the rules alone
    llm_url: str | None = None  # base URL including /v1
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 60.0

    # memory
    event_gap_s: float = 90.0  # silence-and-stillness longer than this ends an event
    event_max_s: float = 300.0  # no event is longer than this
    event_min_s: float = 4.0  # shorter pieces join their neighbour

    # service
    host: str = "127.0.0.1"
    port: int = 8765
    auth: str | None = None  # "user:password" or a file holding it; required to bind beyond loopback
    upload_max_bytes: int = 8 << 30  # the largest recording a device may upload

    config_file: Path | None = field(default=None, compare=False)

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def thumbnails_dir(self) -> Path:
        return self.home / "thumbnails"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.sqlite3"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read settings from the TOML file and environment; keyword overrides win over both."""
        env = os.environ if env is None else env
        home = Path(overrides.get("home") or env.get("EGOMEM_HOME") or DEFAULT_HOME).expanduser()
        config_file = Path(env["EGOMEM_CONFIG"]).expanduser() if env.get("EGOMEM_CONFIG") else home / "config.toml"

        values: dict[str, Any] = {}
        if config_file.is_file():
            try:
                values.update(tomllib.loads(config_file.read_text()))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{config_file}: {exc}") from exc
        names = {f.name for f in fields(cls)} - {"config_file"}
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"{config_file}: unknown settings {sorted(unknown)}")
        for name in names:
            key = f"EGOMEM_{name.upper()}"
            if key in env:
                values[name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["home"] = home
        return cls(**_coerce(values), config_file=config_file if config_file.is_file() else None)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **_coerce(changes))


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn strings from the environment into the field's type, with a clear error when impossible."""
    hints = get_type_hints(Settings)
    out: dict[str, Any] = {}
    for name, raw in values.items():
        kind = hints.get(name)
        if not isinstance(raw, str) or kind is None:
            out[name] = Path(raw).expanduser() if isinstance(raw, Path) else raw
            continue
        try:
            out[name] = _parse(raw, kind)
        except ValueError as exc:
            raise ConfigError(f"setting {name}={raw!r}: {exc}") from exc
    return out


def _parse(raw: str, kind: Any) -> Any:
    optional = str(kind).endswith("| None")
    if optional and raw.strip().lower() in ("", "none", "null"):
        return None
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is Path or "Path" in str(kind):
        return Path(raw).expanduser()
    return raw
