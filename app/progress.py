"""Progress bars for the terminal, one per recording, counting recorded seconds."""

from __future__ import annotations

from tqdm import tqdm


class _Bar:
    def __init__(self, name: str, total: float) -> None:
        self._bar = tqdm(total=round(total, 1), desc=name[:32], unit="s", bar_format="{desc:32} {percentage:3.0f}%|{bar:30}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]")

    def update(self, seconds: float) -> None:
        if seconds > 0:
            self._bar.update(round(seconds, 3))

    def close(self) -> None:
        self._bar.update(max(0.0, self._bar.total - self._bar.n))
        self._bar.close()


def tqdm_progress(name: str, total: float) -> _Bar:
    return _Bar(name, total)
