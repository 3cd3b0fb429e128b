"""`egomem bench ingest|qa`: the figures that go into BENCHMARKS.md."""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from datetime import date
from pathlib import Path

from egomem.errors import EgomemError
from egomem.runtime import Runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser("bench", help="measure ingest speed or question-answering accuracy").add_subparsers(metavar="WHAT")

    ingest = bench.add_parser("ingest", help="ingest recordings into a fresh memory and report speed and memory")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--json", action="store_true")
    ingest.set_defaults(handler=_bench_ingest)

    qa = bench.add_parser("qa", help="ask a life's questions at their query times and score the answers")
    qa.add_argument("life", type=Path, help="a life folder (specs/life-benchmark.md)")
    qa.add_argument("--questions", type=Path, help="questions file (default LIFE/questions.jsonl; EgoLifeQA JSON works too)")
    qa.add_argument("--day1", type=date.fromisoformat, help="the date of DAY1 for EgoLifeQA questions")
    qa.add_argument("--out", type=Path, help="write predictions here (JSONL)")
    qa.add_argument("--json", action="store_true")
    qa.set_defaults(handler=_bench_qa)


def _bench_ingest(rt: Runtime, args: argparse.Namespace) -> int:
    from pipelines.ingest_benchmark import bench_ingest

    with tempfile.TemporaryDirectory(prefix="egomem-bench-") as home:
        with Runtime(rt.settings.replace(home=Path(home)), rt.models) as fresh:
            result = bench_ingest(fresh, args.paths)
    if args.json:
        print(json.dumps({**vars(result), "realtime_factor": result.realtime_factor,
                          "stages": {k: {**vars(v), "devices": sorted(v.devices)} for k, v in result.stages.items()}}, indent=2))
    else:
        print(result.table())
    return 0


def _bench_qa(rt: Runtime, args: argparse.Namespace) -> int:
    from pipelines.ingest import Ingestor, Outcome
    from pipelines.qa_benchmark import read_questions, run

    questions_path = args.questions or args.life / "questions.jsonl"
    if not questions_path.is_file():
        raise EgomemError(f"no questions at {questions_path}")
    questions = read_questions(questions_path, day1=args.day1)
    # Each life gets its own memory under the data folder, reused on later runs (ingest skips known files).
    key = hashlib.sha256(str(args.life.resolve()).encode()).hexdigest()[:12]
    with Runtime(rt.settings.replace(home=rt.settings.home / "bench" / key), rt.models) as life:
        results = Ingestor(life).ingest([args.life])
        failed = [r for r in results if r.outcome is Outcome.FAILED]
        for r in failed:
            print(f"failed {r.path}: {r.message}")
        scores = run(life.reasoner, questions, args.out)
    if args.json:
        print(json.dumps(scores, indent=2))
        return 0
    print(f"{'type':14} {'n':>4} {'accuracy':>9} {'R@1':>6} {'R@5':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in scores.items():
        print(f"{name:14} {row['n']:4d} {row['accuracy']:9.1%} {row['recall@1']:6.1%} {row['recall@5']:6.1%} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f}")
    return 0
