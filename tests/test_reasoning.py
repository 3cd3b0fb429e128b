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
from egomem.reasoning.compose import time_match as _time_match
from egomem.reasoning.reasoner import Reasoner
from egomem.reasoning.question import Kind, analyse
from egomem.timeexpr import Order
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


# -- understanding: every kind of question in several wordings --------------------------------------

PARAPHRASES: dict[Kind, tuple[str, ...]] = {
    Kind.WHO: ("Who was I with at the cafe?", "who'd I have lunch with on Tuesday", "Which friend came along to the gym?",
               "So who was it that asked me to call the bank?"),
    Kind.WHERE: ("Where was I around half past three?", "where'd I leave the spare key", "Which shop did I go to after the bank?",
                 "What place did Bob say he comes from?"),
    Kind.WHEN: ("When is the vet visit?", "what time did I get to the gym", "Remind me, when's dinner with Ana?",
                "Which day did I go swimming?"),
    Kind.COUNT: ("How many times did I go to the pool?", "how often have I seen Bob this week", "Number of visits to the gym?"),
    Kind.HOW_MUCH: ("How much did the bike repair cost?", "how much was it at the market", "What was the total at the bakery?",
                    "What did the plumber say it would cost?"),
    Kind.YES_NO: ("Did I go to the gym on Friday?", "did I end up calling the bank", "Was Bob at the party?"),
    Kind.WHAT: ("What did Alice ask me to buy?", "what was I supposed to bring on Saturday", "What did the sign at the cafe say?"),
}  # fmt: skip


@pytest.mark.parametrize(("kind", "question"), [(k, q) for k, qs in PARAPHRASES.items() for q in qs])
def test_what_is_asked_does_not_depend_on_the_wording(kind: Kind, question: str) -> None:
    assert analyse(question, AT, ["bob", "alice"]).kind is kind


@pytest.mark.parametrize(
    "question", ["When is the vet visit?", "remind me, when's the dentist", "What do I need to take on Saturday?",
                 "Where are we meeting for dinner?", "What time is the meeting tomorrow?"],
)  # fmt: skip
def test_questions_about_what_lies_ahead_look_at_plans_not_the_past(question: str) -> None:
    q = analyse(question, AT)
    assert q.future and q.time.window is None


def test_a_plan_day_in_the_question_is_read_forwards() -> None:
    q = analyse("What do I need to take on Saturday?", AT)  # asked on Wednesday: the coming Saturday
    assert q.target is not None and q.target.start.date().isoformat() == "2026-03-07"


@pytest.mark.parametrize(
    ("question", "relation", "anchor"),
    [("Where did I go after the bank?", "after", "the bank"), ("where'd I head right after leaving the bakery yesterday", "after", "the bakery"),
     ("Which place did I visit just before the gym?", "before", "the gym")],
)  # fmt: skip
def test_sequence_questions_name_their_anchor(question: str, relation: str, anchor: str) -> None:
    q = analyse(question, AT)
    assert q.sequence is not None and (q.sequence.relation, q.sequence.anchor) == (relation, anchor)
    assert analyse("Where was I before lunch on Tuesday?", AT).sequence is None  # a time, not a place


def test_a_clock_time_narrows_the_window_around_it() -> None:
    q = analyse("Where was I at half past three yesterday?", AT)
    assert q.clock is not None and (q.clock.day, q.clock.hour, q.clock.minute) == (3, 15, 30)
    assert q.time.window is not None and q.time.window.start < q.clock < q.time.window.end


def test_known_places_are_found_in_lowercase_questions() -> None:
    q = analyse("how many times did I go to the pool?", AT, [], ["Swimming Pool", "Central Library", "Cafe Central"])
    assert q.places == ("Swimming Pool",)
    assert analyse("was I at the library on Monday", AT, [], ["Central Library", "Cafe Central"]).places == ("Central Library",)


def test_a_place_someone_comes_from_is_said_not_where_i_was() -> None:
    assert analyse("Where did Bob say he comes from?", AT, ["bob"]).said_place
    assert analyse("Where is Ines from?", AT).said_place
    assert not analyse("Where was I on Monday?", AT).said_place


# -- answering: none of these, negation, amounts, yes/no, clock times, sequences --------------------


@pytest.fixture(scope="module")
def errands(remember: Callable[..., Reasoner]) -> Reasoner:
    bank, bakery, park = GeoPoint(40.7128, -74.0060), GeoPoint(40.7200, -74.0000), GeoPoint(40.7300, -73.9900)
    events = [
        event("02T09:00", bank, [], "I'd like to deposit this cheque.", ["FIRST HARBOR BANK"]),
        event("02T09:40", bakery, ["alice"], "Two croissants please. That's six fifty.", ["SUNRISE BAKERY"]),
        event("02T15:30", park, ["bob"], "The repair will be around two hundred dollars.", []),
        event("03T10:00", bank, [], "Just checking my balance.", []),  # no sign read: the position says it is the bank
        event("03T10:30", park, ["carol"], "Nice weather for a walk.", []),
        event("03T17:00", bakery, ["bob"], "A loaf of rye, please. That comes to $4.20.", ["SUNRISE BAKERY"]),
    ]
    return remember(events, ["alice", "bob", "carol"])


def test_none_of_these_wins_when_no_choice_is_supported(errands: Reasoner) -> None:
    choices = {"A": "alice", "B": "bob", "C": "carol", "D": "none of these"}
    answer = errands.ask("Who asked me to water the plants?", AT, choices)
    assert answer.choice == "D", answer.choice_scores
    assert errands.ask("Who was with me at Sunrise Bakery on Monday?", AT, choices).choice == "A"


def test_amounts_are_read_from_what_was_said_and_seen(errands: Reasoner) -> None:
    choices = {"A": "$4.20", "B": "$6.50", "C": "$200", "D": "$20"}
    for question, expected in [("How much did the croissants cost?", "B"), ("what did they say the repair would come to?", "C"),
                               ("How much was the rye loaf?", "A")]:
        answer = errands.ask(question, AT, choices)
        assert answer.choice == expected, (question, answer.text, answer.choice_scores)


def test_yes_no_weighs_the_evidence(errands: Reasoner) -> None:
    yes_no = {"A": "Yes", "B": "No"}
    assert errands.ask("Did I go to Sunrise Bakery on Tuesday?", AT, yes_no).choice == "A"
    assert errands.ask("Did I go to Sunrise Bakery on Wednesday?", AT, yes_no).choice == "B"


def test_where_after_and_at_a_clock_time(errands: Reasoner) -> None:
    places = {"A": "First Harbor Bank", "B": "Sunrise Bakery", "C": "the park", "D": "home"}
    monday_night = datetime.fromisoformat("2026-03-02T22:00:00+01:00")
    assert errands.ask("Where did I go right after the bank?", monday_night, places).choice == "B"
    answer = errands.ask("Where was I at half past nine this morning?", monday_night.replace(hour=12), places)
    assert answer.choice == "B", answer.text


def test_an_open_answer_leads_with_the_answer(errands: Reasoner) -> None:
    answer = errands.ask("What did they say about the repair?", AT)
    assert answer.text.lower().startswith("the repair will be around two hundred dollars")
    assert all(e.quote for e in answer.evidence)  # no filler moments


# -- plans and facts: what lies ahead, and the latest word on it -----------------------------------


@pytest.fixture(scope="module")
def plans(remember: Callable[..., Reasoner], models) -> Reasoner:
    from pipelines.facts import remember_facts

    events = [
        event("02T08:00", HOME, ["alice"], "The vet is on Saturday at ten, don't forget the cat's papers.", speaker="alice"),
        event("02T12:30", CAFE, ["bob"], "Let's have dinner at Luigi's on Friday at seven.", speaker="bob"),
        event("03T18:00", GYM, ["bob"], "Small change, dinner is moved to Saturday at eight.", speaker="bob"),
        event("03T19:00", GYM, ["carol"], "The plumber said the repair will be around two hundred dollars.", speaker="carol"),
    ]
    reasoner = remember(events, ["alice", "bob", "carol"])
    remember_facts(reasoner.store, models.text_embedder.embed, reasoner.store.events())  # type: ignore[arg-type]
    return reasoner


def test_a_plan_is_answered_by_its_target_time_not_when_it_was_said(plans: Reasoner) -> None:
    choices = {"A": "Saturday at 10:00", "B": "Monday at 8:00", "C": "Friday at 19:00", "D": "Saturday at 20:00"}
    for wording in ("When is the vet visit?", "remind me, when's the vet", "What time is the cat's vet appointment?"):
        answer = plans.ask(wording, AT, choices)
        assert answer.choice == "A", (wording, answer.text, answer.choice_scores)
        assert answer.text.split("—", 1)[1].strip().startswith("Sat 07 Mar 2026 10:00") and answer.facts


def test_a_changed_plan_answers_with_the_latest_version_as_it_stood_when_asked(plans: Reasoner) -> None:
    choices = {"A": "Friday at 7 pm", "B": "Saturday at 8 pm", "C": "Sunday at noon", "D": "Thursday at 6 pm"}
    assert plans.ask("When is dinner with Bob?", AT, choices).choice == "B"
    monday_night = datetime.fromisoformat("2026-03-02T22:00:00+01:00")  # before it was moved
    assert plans.ask("When is dinner with Bob?", monday_night, choices).choice == "A"


def test_the_llm_reader_is_given_the_facts_it_may_cite(plans: Reasoner, fake_llm) -> None:
    fake, url = fake_llm
    _with_reader(plans, url, "good").ask("When is the vet visit?", AT, {"A": "Saturday at 10:00", "B": "Monday at 8:00"})
    prompt = fake.requests[-1]["body"]["messages"][-1]["content"]
    facts = prompt.split("Facts", 1)[1]
    assert "for Sat 07 Mar 10:00" in facts and "The vet is on Saturday at ten" in facts


@pytest.mark.parametrize("question", ["Team lunch location, please.", "Green Market receipt total?", "Friday night caller?",
                                      "What did José say about the café?"])  # fmt: skip
def test_terse_english_is_not_taken_for_another_language(question: str) -> None:
    assert analyse(question, AT).language_ok


def test_choices_that_say_yes_and_no_make_a_yes_no_question(errands: Reasoner) -> None:
    answer = errands.ask("Sunrise Bakery on Wednesday: yes or no?", AT, {"A": "Yes, with Alice", "B": "No"})
    assert answer.choice == "B", answer.text
