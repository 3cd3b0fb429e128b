"""Measure ingest: recorded hours, wall time, real-time factor, peak memory, per-stage throughput."""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from egomem.runtime import Runtime
from pipelines.ingest import Ingestor, Outcome


@dataclass
class StageTotal:
    seconds: float = 0.0
    items: int = 0
    errors: int = 0
    devices: set[str] = field(default_factory=set)

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


@dataclass
class IngestBenchmark:
    recordings: int
    failed: int
    recorded_s: float
    wall_s: float
    peak_rss_mb: float
    stored_bytes: int
    stages: dict[str, StageTotal]

    @property
    def realtime_factor(self) -> float:
        return self.recorded_s / self.wall_s if self.wall_s else 0.0

    def table(self) -> str:
        hours = self.recorded_s / 3600
        lines = [
            f"recordings        {self.recordings} ({self.failed} failed)",
            f"recorded          {self.recorded_s:.1f} s ({hours:.3f} h)",
            f"wall time         {self.wall_s:.1f} s",
            f"real-time factor  {self.realtime_factor:.2f}x",
            f"peak RSS          {self.peak_rss_mb:.0f} MB",
            f"stored            {self.stored_bytes / 1e6:.1f} MB ({self.stored_bytes / 1e6 / hours if hours else 0:.0f} MB per recorded hour)",
            "",
            f"{'stage':10} {'device':7} {'seconds':>8} {'items':>7} {'items/s':>8} {'errors':>6}",
        ]
        for name, s in self.stages.items():
            lines.append(f"{name:10} {','.join(sorted(s.devices)):7} {s.seconds:8.1f} {s.items:7d} {s.per_second:8.1f} {s.errors:6d}")
        lines.append("(stages overlap: speech runs beside vision, so their seconds add up to more than the wall time)")
        return "\n".join(lines)


def bench_ingest(rt: Runtime, paths: Sequence[Path]) -> IngestBenchmark:
    # Load models first: the figure is about ingesting, not about starting up.
    for model in ("speech", "text_embedder", "faces", "ocr", "clip"):
        getattr(rt, model)
    started = time.perf_counter()
    results = Ingestor(rt, force=True).ingest(paths)
    wall = time.perf_counter() - started
    stages: dict[str, StageTotal] = defaultdict(StageTotal)
    for result in results:
        for report in result.stages:
            total = stages[report.stage]
            total.seconds += report.seconds
            total.items += report.items
            total.errors += report.errors
            total.devices.add(report.device)
    ingested = [r for r in results if r.outcome is Outcome.INGESTED]
    return IngestBenchmark(
        recordings=len(results),
        failed=sum(r.outcome is Outcome.FAILED for r in results),
        recorded_s=sum(r.recording.duration_s for r in ingested if r.recording),
        wall_s=wall,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        stored_bytes=rt.store.stats()["disk_bytes"] + _folder_bytes(rt.settings.thumbnails_dir),
        stages=dict(stages),
    )


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
