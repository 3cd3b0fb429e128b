"""The exceptions egomem raises at its boundaries.

Each carries a message a person can act on; callers catch the base class to keep a batch going.
"""

from __future__ import annotations

from pathlib import Path


class EgomemError(Exception):
    """Base class for every error egomem raises on purpose."""


class ConfigError(EgomemError):
    """A setting has a value egomem cannot use."""


class MediaError(EgomemError):
    """A recording could not be read: corrupt, empty, or not media at all."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelUnavailable(EgomemError):
    """A model's weights are not where the registry expects them."""


class StoreError(EgomemError):
    """The memory store could not be opened, read or written."""


class StoreLocked(StoreError):
    """Another process holds the store for writing."""
