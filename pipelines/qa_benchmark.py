"""Score egomem on a life's questions (specs/life-benchmark.md): accuracy, evidence recall, latency.

Each question is asked at its `query_time` against memory that may only show what was recorded
before it. Predictions are written one line per question in the spec's format.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Iterable

from egomem.errors import EgomemError
from egomem.reasoning.reasoner import Reasoner
from egomem.reasoning.types import Answer

EVIDENCE_SLACK = timedelta(seconds=30)  # the spec allows 30 s either side when matching spans


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    type: str
    question: str
    query_time: datetime
    choices: dict[str, str] | None
    answer: str
    evidence: list[tuple[datetime, datetime]]


@dataclass
class Score:
    total: int = 0
    correct: int = 0
    recall_at_1: int = 0
    recall_at_5: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, correct: bool, r1: bool, r5: bool, latency_ms: float) -> None:
        self.total += 1
        self.correct += correct
        self.recall_at_1 += r1
        self.recall_at_5 += r5
        self.latencies_ms.append(latency_ms)

    def row(self) -> dict[str, float]:
        lat = sorted(self.latencies_ms) or [0.0]
        return {
            "n": self.total,
            "accuracy": self.correct / self.total if self.total else 0.0,
            "recall@1": self.recall_at_1 / self.total if self.total else 0.0,
            "recall@5": self.recall_at_5 / self.total if self.total else 0.0,
            "p50_ms": statistics.median(lat),
            "p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))],
        }


def read_questions(path: Path, *, day1: date | None = None, tz: tzinfo | None = None) -> list[BenchQuestion]:
    """Questions in the spec's JSONL, or EgoLifeQA's own JSON/JSONL (DAY1 is mapped to `day1`)."""
    text = path.read_text()
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    questions = []
    for number, raw in enumerate(rows, 1):
        try:
            questions.append(_spec_question(raw) if isinstance(raw.get("query_time"), str) else _egolife_question(raw, number, day1, tz))
        except (KeyError, ValueError, TypeError) as exc:
            raise EgomemError(f"{path}: question {number}: {exc}") from exc
    return questions


def _spec_question(raw: dict) -> BenchQuestion:
    return BenchQuestion(
        id=str(raw["id"]), type=raw["type"], question=raw["question"],
        query_time=_aware(datetime.fromisoformat(raw["query_time"])), choices=raw.get("choices"), answer=raw["answer"],
        evidence=[(_aware(datetime.fromisoformat(e["start"])), _aware(datetime.fromisoformat(e["end"]))) for e in raw.get("evidence", [])],
    )


def _egolife_question(raw: dict, number: int, day1: date | None, tz: tzinfo | None) -> BenchQuestion:
    """EgoLifeQA: choice_a..choice_d, query_time {"date": "DAY3", "time": "11210217"} (HHMMSSFF)."""
    if day1 is None:
        raise ValueError("EgoLifeQA questions name days as DAY1, DAY2...: give the date of DAY1 (--day1 YYYY-MM-DD)")
    zone = tz or timezone.utc

    def moment(stamp: dict) -> datetime:
        day = int(str(stamp["date"]).upper().removeprefix("DAY"))
        clock = str(stamp["time"]).zfill(8)
        base = datetime.combine(day1 + timedelta(days=day - 1), datetime.min.time(), tzinfo=zone)
        return base + timedelta(hours=int(clock[0:2]), minutes=int(clock[2:4]), seconds=int(clock[4:6]) + int(clock[6:8]) / 20)

    choices = {letter.upper(): raw[f"choice_{letter}"] for letter in "abcd" if raw.get(f"choice_{letter}")}
    targets = raw.get("target_time") or []
    targets = targets if isinstance(targets, list) else [targets]
    evidence = [(moment(t), moment(t) + timedelta(seconds=1)) for t in targets if isinstance(t, dict) and "date" in t]
    return BenchQuestion(
        id=str(raw.get("ID", raw.get("id", number))), type=str(raw.get("type", "unknown")), question=raw["question"],
        query_time=moment(raw["query_time"]), choices=choices or None, answer=str(raw["answer"]).strip(), evidence=evidence,
    )


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"time {t.isoformat()} has no UTC offset")
    return t


def run(reasoner: Reasoner, questions: Iterable[BenchQuestion], predictions: Path | None = None) -> dict[str, dict[str, float]]:
    scores: dict[str, Score] = defaultdict(Score)
    lines = []
    for q in questions:
        started = time.perf_counter()
        answer = reasoner.ask(q.question, q.query_time, q.choices)
        latency_ms = (time.perf_counter() - started) * 1000
        correct = _is_correct(q, answer)
        spans = [(e.start, e.end) for e in answer.evidence]
        r1, r5 = _hit(spans[:1], q.evidence), _hit(spans[:5], q.evidence)
        for key in ("overall", q.type):
            scores[key].add(correct, r1, r5, latency_ms)
        lines.append({
            "id": q.id, "answer": answer.choice, "text": answer.text, "correct": correct,
            "evidence": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in spans], "latency_ms": round(latency_ms, 1),
        })
    if predictions is not None:
        predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return {key: score.row() for key, score in sorted(scores.items(), key=lambda kv: kv[0] != "overall")}


def _is_correct(q: BenchQuestion, answer: Answer) -> bool:
    if q.choices:
        return answer.choice == q.answer
    # Open questions: the reference's content words must all appear in the answer text.
    words = [w for w in q.answer.lower().replace(",", " ").split() if w not in {"the", "a", "an", "at", "to", "on"}]
    return bool(words) and all(w in answer.text.lower() for w in words)


def _hit(predicted: list[tuple[datetime, datetime]], truth: list[tuple[datetime, datetime]]) -> bool:
    return any(ps <= te + EVIDENCE_SLACK and ts - EVIDENCE_SLACK <= pe for ps, pe in predicted for ts, te in truth)
