"""The reasoner's logic on a small hand-made memory: counting, ordering, constraints, speech.

The events are written by hand (so each test knows the one right answer) into a real Qdrant Edge
shard with real all-MiniLM vectors: these tests check how an answer is worked out (which events,
in which order, under which filters), over the same store and ranking the product uses.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from egomem.memory.events import Event, Place, Quote
from egomem.reasoning.answer import Reasoner, _time_match
from egomem.reasoning.question import Kind, analyse
from egomem.reasoning.timeexpr import Order
from egomem.store.edge import EdgeEventStore
from egomem.types import GeoPoint

GYM = GeoPoint(48.8420, 2.3210)
CAFE = GeoPoint(48.8606, 2.3376)
HOME = GeoPoint(48.8530, 2.3499)
AT = datetime.fromisoformat("2026-03-04T21:30:00+01:00")  # Wednesday evening


@pytest.fixture(scope="module")
def remember(models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Reasoner]]:
    """A reasoner over the given events, written to a real Qdrant Edge shard with real text vectors."""
    stores: list[EdgeEventStore] = []

    def build(events: list[Event], names: Sequence[str]) -> Reasoner:
        vectors = models.text_embedder.embed([e.document for e in events])
        for e, vector in zip(events, vectors):
            e.text_vector = vector.tolist()
        store = EdgeEventStore(tmp_path_factory.mktemp("reasoning") / "store")
        store.upsert(events)
        stores.append(store)
        return Reasoner(store, models.text_embedder, lambda: list(names))

    yield build
    for store in stores:
        store.close()


def event(
    when: str, point: GeoPoint, people: Sequence[str] = (), said: str = "", signs: Sequence[str] = (), seconds: int = 12,
    speaker: str | None = None,
) -> Event:
    start = datetime.fromisoformat(f"2026-03-{when}:00+01:00")
    quotes = [Quote(start, start + timedelta(seconds=seconds), said, speaker)] if said else []
    return Event(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, when)), recording_id=when, source=f"{when}.mp4", start=start, end=start + timedelta(seconds=seconds),
        place=Place(None, point), people=list(people), quotes=quotes, visible_text=list(signs),
    )  # fmt: skip


@pytest.fixture(scope="module")
def reasoner(remember: Callable[..., Reasoner]) -> Reasoner:
    events = [
        event("02T07:50", HOME, ["bob"], "Good morning. Can you buy some bread on your way home?", ["HOME SWEET HOME"]),
        event("02T12:30", CAFE, ["alice"], "Please bring the camera tomorrow.", ["CAFE CENTRAL"]),
        event("02T18:40", GYM, ["carol"], "Let's meet at Cafe Central on Friday. Great, see you at home.", ["CITY GYM"]),
        event("02T18:43", GYM, [], "", ["CITY GYM"], seconds=0),  # a photo minutes later: the same visit
        event("03T08:05", HOME, ["alice"], "Good morning. Can you buy some rice on your way home?", ["HOME"]),  # sign half read
        event("03T16:10", CAFE, ["bob"], "Remember to call the bank today.", ["CAFE CENTRAL"]),
        event("03T18:20", GYM, ["bob"], "Hello again.", []),  # the sign was not read, the position says where
        event("04T07:40", HOME, ["carol"], "Good morning.", ["HOME SWEET HOME"]),
    ]
    return remember(events, ["alice", "bob", "carol"])


def counts(n: int) -> dict[str, str]:
    return {letter: str(value) for letter, value in zip("ABCD", range(max(1, n - 1), max(1, n - 1) + 4))}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many times did I see Bob?", 3),
        ("How many times did I go to City Gym?", 2),  # a visit without its sign read counts; the photo does not add one
        ("How many times was I at home?", 3),
        ("How many times did I see Bob on Tuesday?", 2),
    ],
)
def test_how_many_counts_distinct_occasions_that_satisfy_the_question(reasoner: Reasoner, question: str, expected: int) -> None:
    choices = counts(expected)
    answer = reasoner.ask(question, AT, choices)
    assert choices[answer.choice] == str(expected), answer.text  # type: ignore[index]


def test_last_time_is_the_latest_match_before_the_question(reasoner: Reasoner) -> None:
    choices = {"A": "Monday morning", "B": "Tuesday morning", "C": "Wednesday morning", "D": "Tuesday evening"}
    assert reasoner.ask("When was I last at home?", AT, choices).choice == "C"
    asked_tuesday_noon = datetime.fromisoformat("2026-03-03T12:00:00+01:00")
    assert reasoner.ask("When was I last at home?", asked_tuesday_noon, choices).choice == "B"


def test_who_was_there_skips_moments_with_nobody_in_view(reasoner: Reasoner) -> None:
    choices = {"A": "alice", "B": "bob", "C": "carol"}
    monday_night = datetime.fromisoformat("2026-03-02T22:00:00+01:00")  # the latest gym moment is the empty photo
    answer = reasoner.ask("Who was with me the last time I went to City Gym?", monday_night, choices)
    assert answer.choice == "C"
    assert reasoner.ask("Who was with me the last time I went to City Gym?", AT, choices).choice == "B"


def test_a_place_named_aloud_is_not_where_i_was(reasoner: Reasoner) -> None:
    choices = {"A": "City Gym", "B": "Cafe Central", "C": "Home", "D": "Riverside Park"}
    answer = reasoner.ask("Where did Carol suggest we meet?", AT, choices)
    assert answer.choice == "B", answer.text
    assert reasoner.ask("Where was I when Carol suggested we meet?", AT, choices).choice == "A"


def test_a_reminder_is_found_among_the_same_persons_requests(reasoner: Reasoner) -> None:
    choices = {"A": "buy bread", "B": "call the bank", "C": "bring the camera", "D": "buy rice"}
    answer = reasoner.ask("What did Bob remind me to do?", AT, choices)
    assert answer.choice == "B", answer.text


def test_who_said_it_is_the_speaker_among_the_people_in_view(remember: Callable[..., Reasoner]) -> None:
    events = [
        event("02T12:00", CAFE, ["alice", "bob"], "Remember to call the bank today.", ["CAFE CENTRAL"], speaker="bob"),
        event("03T12:00", CAFE, ["alice"], "Please bring the camera.", ["CAFE CENTRAL"], speaker="alice"),
    ]
    reasoner = remember(events, ["alice", "bob"])
    answer = reasoner.ask("Who reminded me to call the bank?", AT, {"A": "alice", "B": "bob", "C": "carol"})
    assert answer.choice == "B", answer.choice_scores


def test_an_open_request_is_answered_with_the_sentence_that_holds_it(reasoner: Reasoner) -> None:
    asked = datetime.fromisoformat("2026-03-03T10:30:00+01:00")
    answer = reasoner.ask("What did Alice ask me to buy this morning?", asked)
    assert "rice" in answer.text and "bread" not in answer.text


def test_arrival_is_the_first_moment_of_the_visit(reasoner: Reasoner) -> None:
    choices = {"A": "18:40", "B": "18:43", "C": "12:30", "D": "16:10"}
    assert reasoner.ask("What time did I get to City Gym on Monday?", AT, choices).choice == "A"


def test_the_most_precise_time_words_win() -> None:
    lunch = datetime.fromisoformat("2026-03-03T12:30:00+01:00")
    assert _time_match("Tuesday midday", lunch, AT) > _time_match("Tuesday afternoon", lunch, AT) > 0
    assert _time_match("Monday midday", lunch, AT) == 0


@pytest.mark.parametrize(
    ("question", "kind", "places", "said_place", "order"),
    [
        ('Who said "let\'s meet at Cafe Central"?', Kind.WHO, (), False, None),  # a quoted place is what was said
        ("Who was with me at Cafe Central on Monday?", Kind.WHO, ("Cafe Central",), False, None),
        ("Where did Bob suggest we meet?", Kind.WHERE, (), True, None),
        ("Where was I when Bob asked me to bring the camera?", Kind.WHERE, (), False, None),
        ("What time did I get to City Gym on Monday?", Kind.WHEN, ("City Gym",), False, Order.EARLIEST),
        ("Which place did I go to first after lunch on Tuesday?", Kind.WHERE, (), False, Order.EARLIEST),
        ("How many times was I at home?", Kind.COUNT, ("home",), False, None),
    ],
)
def test_question_analysis(question: str, kind: Kind, places: tuple[str, ...], said_place: bool, order: Order | None) -> None:
    q = analyse(question, AT, ["bob"])
    assert (q.kind, q.places, q.said_place, q.time.order) == (kind, places, said_place, order)


def test_speech_acts_search_for_the_words_people_use() -> None:
    q = analyse("What did Bob remind me to do?", AT, ["bob"])
    assert "remember" in q.keywords and "bob" not in q.keywords
    assert "place" not in analyse("Which place did I go to first?", AT).keywords


# -- the optional LLM reader, against a fake OpenAI-compatible server ------------------------------


class FakeLLM:
    """`/{mode}/v1/chat/completions`: answers as a model would, or misbehaves as `mode` says."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{mode}/v1/chat/completions")
        async def chat(mode: str, request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"mode": mode, "body": body, "auth": request.headers.get("authorization")})
            prompt = body["messages"][-1]["content"]
            moments = re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M)
            choices = dict(re.findall(r"([A-D])\. ([^;\n]+)", prompt.split("Choices:", 1)[1].split("\n", 1)[0])) if "Choices:" in prompt else {}
            # The "model": the first moment that mentions a choice, and that choice.
            cited, picked = moments[0], None
            for key, value in choices.items():
                hit = next((m for m in moments if value.split()[-1].lower() in m[1].lower()), None)
                if hit:
                    cited, picked = hit, key
                    break
            reply = {"answer": f"It was on {cited[1][:40]}.", "choice": picked, "cites": [int(cited[0])]}
            content = {
                "good": json.dumps(reply),
                "fenced": "```json\n" + json.dumps(reply) + "\n```",
                "prose": "I think it was Bob, probably.",
                "made-up": json.dumps({**reply, "cites": [int(cited[0]), 99]}),
                "no-cites": json.dumps({**reply, "cites": []}),
            }.get(mode)
            if mode == "slow":
                await asyncio.sleep(2.0)
                content = json.dumps(reply)
            return JSONResponse({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})

        return app


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[tuple[FakeLLM, str]]:
    from tests.serving import serving

    fake = FakeLLM()
    with serving(fake.app(), lifespan="off", timeout_graceful_shutdown=1) as url:
        yield fake, url


def _with_reader(reasoner: Reasoner, url: str, mode: str, timeout_s: float = 10.0) -> Reasoner:
    from egomem.chat import ChatEndpoint
    from egomem.reasoning.reader import LLMReader

    endpoint = ChatEndpoint(f"{url}/{mode}/v1", "fake-llm", "sk-test", timeout_s=timeout_s, retries=0)
    return Reasoner(reasoner.store, reasoner.embedder, reasoner.known_people, LLMReader(endpoint))


REMIND = ("What did Bob remind me to do?", {"A": "buy bread", "B": "call the bank", "C": "bring the camera", "D": "buy rice"})


@pytest.mark.parametrize("mode", ["good", "fenced"])
def test_the_llm_reader_answers_from_the_planned_moments_and_cites_them(reasoner: Reasoner, fake_llm, mode: str) -> None:
    fake, url = fake_llm
    rules = reasoner.ask(*REMIND[:1], AT, REMIND[1])
    answer = _with_reader(reasoner, url, mode).ask(REMIND[0], AT, REMIND[1])
    assert answer.read_by == "llm:fake-llm" and answer.note is None
    assert answer.choice == "B" and answer.text.startswith("B. call the bank")
    assert len(answer.evidence) == 1 and answer.evidence[0] in rules.evidence  # only moments it was shown
    sent = fake.requests[-1]
    prompt = sent["body"]["messages"][-1]["content"]
    assert sent["auth"] == "Bearer sk-test" and sent["body"]["model"] == "fake-llm"
    assert "Question: What did Bob remind me to do?" in prompt and "B. call the bank" in prompt
    assert "Remember to call the bank today." in prompt and "Asked at: Wednesday 2026-03-04 21:30" in prompt


@pytest.mark.parametrize(
    ("mode", "why"),
    [("prose", "not JSON"), ("made-up", "not shown: [99]"), ("no-cites", "cites no moments"), ("slow", "timed out")],
)
def test_an_llm_reply_that_cannot_be_trusted_keeps_the_rule_based_answer(reasoner: Reasoner, fake_llm, mode: str, why: str) -> None:
    _, url = fake_llm
    rules = reasoner.ask(REMIND[0], AT, REMIND[1])
    answer = _with_reader(reasoner, url, mode, timeout_s=0.5).ask(REMIND[0], AT, REMIND[1])
    assert answer.read_by == "rules" and answer.note is not None and why in answer.note
    assert (answer.choice, answer.text, answer.evidence) == (rules.choice, rules.text, rules.evidence)


def test_with_nothing_to_read_the_llm_is_not_asked(reasoner: Reasoner, fake_llm) -> None:
    fake, url = fake_llm
    before = len(fake.requests)
    answer = _with_reader(reasoner, url, "good").ask("What did the dentist say about my wisdom teeth?", AT)
    assert answer.abstained and answer.read_by == "rules" and len(fake.requests) == before


def test_the_reader_is_configured_in_one_place(models, tmp_path) -> None:
    from egomem.config import Settings
    from egomem.errors import ConfigError
    from egomem.reasoning.reader import LLMReader
    from egomem.runtime import Models, Runtime

    settings = Settings.load(env={"EGOMEM_LLM_URL": "http://127.0.0.1:9/v1", "EGOMEM_LLM_MODEL": "qwen"}, home=tmp_path)
    reader = Models(settings).llm_reader
    assert isinstance(reader, LLMReader) and "qwen" in reader.describe()
    with pytest.raises(ConfigError, match="EGOMEM_LLM_MODEL"):
        Models(settings.replace(llm_model=None)).llm_reader  # noqa: B018
    with Runtime(Settings.load(env={}, home=tmp_path), models) as rt:
        assert rt.reasoner.reader is None  # the default needs no LLM
        assert any(c.name == "llm_reader" and not c.loaded for c in rt.component_status())
