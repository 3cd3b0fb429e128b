"""Which device a model runs on. One answer for every stage, from `Settings.device`."""

from __future__ import annotations

from egomem.errors import ConfigError


def cuda_available() -> bool:
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return True
    except Exception:  # noqa: BLE001 - a broken CUDA install simply means "no GPU"
        pass
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def configure_torch_threads(requested: int) -> int:
    """Set torch's intra-op thread count for this process (0: half the cores, at least one); returns it."""
    import os

    import torch

    threads = requested if requested > 0 else max(1, (os.cpu_count() or 2) // 2)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def resolve_device(setting: str) -> str:
    """Turn "auto" | "cpu" | "cuda" into "cpu" or "cuda", refusing "cuda" when there is none."""
    setting = setting.lower()
    if setting == "auto":
        return "cuda" if cuda_available() else "cpu"
    if setting == "cpu":
        return "cpu"
    if setting == "cuda":
        if not cuda_available():
            raise ConfigError("EGOMEM_DEVICE=cuda but no CUDA device is visible")
        return "cuda"
    raise ConfigError(f"device must be auto, cpu or cuda, not {setting!r}")
