"""What the reasoner returns: the answer, the moments and facts it rests on, and the reader protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol

NO_MEMORY = "I don't have a memory of that."


@dataclass(frozen=True)
class Evidence:
    """One moment an answer cites."""

    event_id: str
    start: datetime
    end: datetime
    place: str | None
    people: list[str]
    quote: str
    keyframe: str | None
    relevance: float


@dataclass(frozen=True)
class FactEvidence:
    """One fact an answer rests on (a plan, request, purchase...), with the moment it was heard or seen in."""

    kind: str
    text: str  # the sentence as said or read
    said_at: datetime
    event_id: str
    status: str
    speaker: str | None = None
    target: datetime | None = None  # when a plan is for
    item: str | None = None
    where: str | None = None
    price: str | None = None

    def line(self) -> str:
        parts = [f"{self.kind} ({self.status})", f"said {self.said_at:%a %d %b %H:%M}"]
        if self.speaker:
            parts.append(f"by {self.speaker}")
        if self.target:
            parts.append(f"for {self.target:%a %d %b %H:%M}")
        return f"{', '.join(parts)}: \"{self.text}\""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # first line: the answer itself; then the moments it rests on
    evidence: list[Evidence]
    choice: str | None = None
    choice_scores: dict[str, float] = field(default_factory=dict)
    abstained: bool = False
    read_by: str = "rules"  # "rules", or "llm:MODEL" when the LLM reader wrote it
    note: str | None = None  # what the person should know about how it was answered (a reader that failed)
    facts: list[FactEvidence] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The answer as `egomem ask --json` prints it and `POST /v1/ask` returns it."""
        return {
            "answer": self.choice,
            "text": self.text,
            "abstained": self.abstained,
            "read_by": self.read_by,
            "note": self.note,
            "choice_scores": {key: float(score) for key, score in self.choice_scores.items()},
            "evidence": [
                {"event_id": e.event_id, "start": e.start.isoformat(), "end": e.end.isoformat(), "place": e.place,
                 "people": e.people, "quote": e.quote, "keyframe": e.keyframe}
                for e in self.evidence
            ],
            "facts": [
                {"kind": f.kind, "text": f.text, "said_at": f.said_at.isoformat(), "event_id": f.event_id, "status": f.status,
                 "speaker": f.speaker, "target": f.target.isoformat() if f.target else None}
                for f in self.facts
            ],
        }  # fmt: skip


class Reader(Protocol):
    """Writes the final answer from the rule-based draft's moments and facts (an LLM behind an API).

    It must return the draft (with a note) when it cannot do better, and may only cite the draft's moments."""

    def describe(self) -> str: ...

    def read(self, draft: Answer, at: datetime, choices: Mapping[str, str] | None = None) -> Answer: ...
