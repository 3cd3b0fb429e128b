"""An optional LLM reader: a language model behind an OpenAI-compatible endpoint reads the evidence
the reasoner planned and writes the answer, citing the moments it used.

It only ever sees the planned moments, and its answer stands only if it cites at least one of them
(and, for multiple choice, picks one of the choices). Anything else (a timeout, prose instead of
JSON, a citation of a moment it was not shown) keeps the rule-based answer and says why in `note`,
so a flaky model never costs an answer and never makes one up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from egomem.chat import ChatEndpoint, ChatFailure
from egomem.reasoning.types import Answer, Evidence

SYSTEM_PROMPT = (
    "You answer questions about the user's own life using only the numbered moments from their memory "
    "that you are given, and the facts read out of them (a later fact replaces an earlier one). "
    "Address the user as 'you'. Reply with one JSON object and nothing else: "
    '{"answer": "<one sentence>", "choice": "<the letter of the best choice, or null when there are no choices>", '
    '"cites": [<numbers of the moments your answer rests on>]}. '
    "Cite at least one moment. Never use knowledge from outside the moments."
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class ReaderError(Exception):
    """The model's reply cannot be used; the message says why."""


class LLMReader:
    def __init__(self, endpoint: ChatEndpoint, *, max_tokens: int = 200) -> None:
        self.endpoint = endpoint
        self.max_tokens = max_tokens

    def describe(self) -> str:
        return f"LLM reader {self.endpoint.model} at {self.endpoint.base_url} (rule-based answer when it fails)"

    def read(self, draft: Answer, at: datetime, choices: Mapping[str, str] | None = None) -> Answer:
        """The model's answer to `draft.question` from `draft.evidence`; the draft itself when it cannot be had."""
        if draft.abstained or not draft.evidence:
            return draft  # nothing to read: abstaining is the rules' call, not the model's
        choices = dict(choices or {})
        try:
            with self.endpoint.session() as client:
                reply = self.endpoint.complete(client, self.request_body(draft, at, choices))
            text, choice, cited = parse_reply(reply, len(draft.evidence), choices)
        except (ChatFailure, ReaderError) as exc:
            reason = exc.reason if isinstance(exc, ChatFailure) else str(exc)
            return replace(draft, note=f"the LLM reader failed ({reason}); this is the rule-based answer")
        evidence = [draft.evidence[i - 1] for i in cited]
        if choice is not None:
            text = f"{choice}. {choices[choice]} — {text}"
        return replace(draft, text=text, choice=choice if choices else None, evidence=evidence, read_by=f"llm:{self.endpoint.model}")

    def request_body(self, draft: Answer, at: datetime, choices: Mapping[str, str]) -> dict[str, Any]:
        lines = [f"Asked at: {at:%A %Y-%m-%d %H:%M %z}", f"Question: {draft.question}"]
        if choices:
            lines.append("Choices: " + "; ".join(f"{key}. {value}" for key, value in choices.items()))
        lines.append("Moments:")
        lines += [f"[{n}] {moment_line(ev)}" for n, ev in enumerate(draft.evidence, 1)]
        numbers = {ev.event_id: n for n, ev in enumerate(draft.evidence, 1)}
        facts = [f for f in draft.facts if f.event_id in numbers]
        if facts:  # what the planner read out of those moments: plans with their target times, requests, prices
            lines.append("Facts (as they stood when asked; each from the moment in brackets):")
            lines += [f"- [{numbers[f.event_id]}] {f.line()}" for f in facts]
        return {
            "model": self.endpoint.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "stream": False,
        }


def moment_line(ev: Evidence) -> str:
    """One moment as the model reads it: when, where, who was there, and what was said or seen."""
    who = f", with {', '.join(ev.people)}" if ev.people else ""
    return f"{ev.start:%A %Y-%m-%d %H:%M}-{ev.end:%H:%M}, at {ev.place or 'an unknown place'}{who}: {ev.quote}"


def parse_reply(reply: str, moments: int, choices: Mapping[str, str]) -> tuple[str, str | None, list[int]]:
    """(answer text, choice, cited moment numbers) from the model's JSON; ReaderError when unusable."""
    try:
        data = json.loads(_FENCE.sub("", reply.strip()))
    except ValueError as exc:
        raise ReaderError(f"the reply is not JSON: {reply[:120]!r}") from exc
    if not isinstance(data, dict):
        raise ReaderError("the reply is not a JSON object")
    text = data.get("answer")
    if not isinstance(text, str) or not text.strip():
        raise ReaderError("the reply has no answer")
    cites = data.get("cites")
    if not isinstance(cites, list) or not cites or not all(isinstance(n, int) and not isinstance(n, bool) for n in cites):
        raise ReaderError("the reply cites no moments")
    unknown = [n for n in cites if not 1 <= n <= moments]
    if unknown:
        raise ReaderError(f"the reply cites moments it was not shown: {unknown}")
    choice = data.get("choice")
    if choices:
        if not isinstance(choice, str) or choice.strip().upper() not in {k.upper() for k in choices}:
            raise ReaderError(f"the reply picks no valid choice: {choice!r}")
        choice = next(k for k in choices if k.upper() == choice.strip().upper())
    else:
        choice = None
    return " ".join(text.split()), choice, list(dict.fromkeys(cites))
