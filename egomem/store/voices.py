"""The wearer's voice, one summary per recording device, kept in one JSON file.

Learned during ingest from the recordings where the wearer stood out by level, and used for the
recordings where nobody did (a voice memo, a call on speaker). It describes the owner of this memory
only; `egomem people voice --forget` deletes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from egomem.errors import StoreError
from egomem.files import write_atomic
from egomem.perception.speakers import VoicePrint, WearerVoice

UNKNOWN_DEVICE = "unknown device"  # recordings that came without a device name share one profile


class WearerVoiceBook:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._voices: dict[str, WearerVoice] = {}
        if self.path.is_file():
            try:
                raw = json.loads(self.path.read_text())
                self._voices = {device: WearerVoice(**{**v, "timbre": tuple(v["timbre"])}) for device, v in raw.items()}
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                raise StoreError(f"the wearer's voice file {self.path} cannot be read ({exc}); delete it to learn the voice afresh") from None

    def get(self, device: str | None) -> WearerVoice | None:
        return self._voices.get(device or UNKNOWN_DEVICE)

    def voices(self) -> dict[str, WearerVoice]:
        return dict(self._voices)

    def learn(self, device: str | None, prints: Sequence[VoicePrint]) -> WearerVoice | None:
        """Fold new prints of the wearer into this device's profile and save it."""
        if not prints:
            return self.get(device)
        key = device or UNKNOWN_DEVICE
        with self._lock:
            self._voices[key] = updated = WearerVoice.learned(self._voices.get(key), prints)
            self._save()
        return updated

    def forget(self, device: str | None = None) -> list[str]:
        """Delete one device's profile, or all of them; the devices whose profile went."""
        with self._lock:
            gone = [d for d in self._voices if device is None or d == device]
            for d in gone:
                del self._voices[d]
            self._save()
        return gone

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({d: asdict(v) for d, v in self._voices.items()}, indent=2))
