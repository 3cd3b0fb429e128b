from datetime import datetime

import pytest

from egomem.timeexpr import Order, names_day, parse_clock, resolve, resolve_ahead

AT = datetime.fromisoformat("2026-03-04T18:30:00+01:00")  # a Wednesday evening


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What did Alice ask me yesterday afternoon?", "2026-03-03T12:00", "2026-03-03T18:00"),
        ("Where was I this morning?", "2026-03-04T05:00", "2026-03-04T12:00"),
        ("Who was with me at lunch on Tuesday?", "2026-03-03T11:30", "2026-03-03T14:30"),
        ("What did I do two days ago?", "2026-03-02T00:00", "2026-03-03T00:00"),
        ("What did I eat before lunch today?", "2026-03-04T00:00", "2026-03-04T11:30"),
        ("What happened last week?", "2026-02-23T00:00", "2026-03-02T00:00"),
        ("Who did I meet on March 3?", "2026-03-03T00:00", "2026-03-04T00:00"),
        ("What did I buy on 2026-03-02?", "2026-03-02T00:00", "2026-03-03T00:00"),
        ("What did I do last night?", "2026-03-03T20:00", "2026-03-04T05:00"),
        ("Where was I today?", "2026-03-04T00:00", "2026-03-04T18:30"),  # clipped at the asking time
        ("What did I hear on Monday evening?", "2026-03-02T17:00", "2026-03-02T23:00"),
        ("What did I do in the past 3 days?", "2026-03-01T00:00", "2026-03-04T18:30"),
        ("Who did I see on Tuesday?", "2026-03-03T00:00", "2026-03-04T00:00"),
        ("Where was I on Monday morning?", "2026-03-02T05:00", "2026-03-02T12:00"),
        ("Where was I before lunch on Tuesday?", "2026-03-03T00:00", "2026-03-03T11:30"),
        ("Which place did I go to first after lunch on Tuesday?", "2026-03-03T14:30", "2026-03-04T00:00"),
        ("Who was with me at lunch today?", "2026-03-04T11:30", "2026-03-04T14:30"),
        ("What did Bob ask me to buy this morning?", "2026-03-04T05:00", "2026-03-04T12:00"),
        ("When did I last go to the gym yesterday?", "2026-03-03T00:00", "2026-03-04T00:00"),
        ("What did I buy on March 2nd?", "2026-03-02T00:00", "2026-03-03T00:00"),
        ("What did I buy on 2 March?", "2026-03-02T00:00", "2026-03-03T00:00"),
        ("What did I do on Wednesday?", "2026-03-04T00:00", "2026-03-04T18:30"),  # today, so far
        ("What did I do last Wednesday?", "2026-02-25T00:00", "2026-02-26T00:00"),
    ],
)
def test_windows(question: str, start: str, end: str) -> None:
    window = resolve(question, AT).window
    assert window is not None
    assert window.start == datetime.fromisoformat(start + "+01:00")
    assert window.end == datetime.fromisoformat(end + "+01:00")


@pytest.mark.parametrize(
    ("question", "order"),
    [
        ("When did I last go to the gym?", Order.LATEST),
        ("When was the last time I saw Bob?", Order.LATEST),
        ("When did I first meet Carol?", Order.EARLIEST),
        ("When was I last at home?", Order.LATEST),
        ("When did I last go to Riverside Park?", Order.LATEST),
        ("Who was with me the last time I went to the pool?", Order.LATEST),
        ("Who was at the cafe?", None),
        ("How many times did I see Alice?", None),
    ],
)
def test_order_words(question: str, order: Order | None) -> None:
    constraint = resolve(question, AT)
    assert constraint.order is order
    assert constraint.window is None


def test_a_window_never_reaches_past_the_asking_time() -> None:
    window = resolve("What did I do this evening?", AT).window
    assert window is not None and window.end == AT


def test_an_absolute_date_later_this_year_means_last_year() -> None:
    window = resolve("Who did I meet on December 24?", AT).window
    assert window is not None and window.start == datetime.fromisoformat("2025-12-24T00:00+01:00")


@pytest.mark.parametrize(
    ("question", "order"),
    [
        ("Which place did I go to first after lunch on Tuesday?", Order.EARLIEST),
        ("When did I last go to the gym yesterday?", Order.LATEST),
    ],
)
def test_order_words_combine_with_a_window(question: str, order: Order) -> None:
    constraint = resolve(question, AT)
    assert constraint.order is order and constraint.window is not None


def test_last_night_and_last_week_are_windows_not_an_order() -> None:
    assert resolve("What did I do last night?", AT).order is None
    assert resolve("What happened last week?", AT).order is None


# -- forwards: clock times and the target of a plan ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("at ten", (10, 0)), ("10 am", (10, 0)), ("10 a.m.", (10, 0)), ("the meeting is at 3 pm", (15, 0)),
        ("half past three", (15, 30)), ("quarter to five", (16, 45)), ("quarter past 9 in the morning", (9, 15)),
        ("ten past eight", (8, 10)), ("3:30", (15, 30)), ("at 10:15pm", (22, 15)), ("18:45", (18, 45)),
        ("seven thirty", (7, 30)), ("noon", (12, 0)), ("midnight", (0, 0)), ("dinner at seven", (19, 0)),
        ("seven in the evening", (19, 0)), ("at 8 tonight", (20, 0)), ("by 11", (11, 0)), ("12 am", (0, 0)),
        ("I have 3 kids", None), ("at 5 dollars", None), ("it costs $3.30", None), ("in two days", None), ("", None),
    ],
)  # fmt: skip
def test_parse_clock(text: str, clock: tuple[int, int] | None) -> None:
    assert parse_clock(text) == clock


WEDNESDAY = datetime.fromisoformat("2026-03-04T09:30+01:00")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("the vet on Saturday at ten", "2026-03-07T10:00", "2026-03-07T11:00"),
        ("dinner tomorrow at seven", "2026-03-05T19:00", "2026-03-05T20:00"),
        ("next Friday", "2026-03-13T00:00", "2026-03-14T00:00"),
        ("on Friday", "2026-03-06T00:00", "2026-03-07T00:00"),
        ("see you Wednesday", "2026-03-11T00:00", "2026-03-12T00:00"),  # said on a Wednesday: the next one
        ("in two days", "2026-03-06T00:00", "2026-03-07T00:00"),
        ("the meeting is at 3 pm", "2026-03-04T15:00", "2026-03-04T16:00"),
        ("at 9", "2026-03-05T09:00", "2026-03-05T10:00"),  # 9:00 has passed: tomorrow's
        ("tonight", "2026-03-04T17:00", "2026-03-05T00:00"),
        ("lunch on Friday", "2026-03-06T11:30", "2026-03-06T14:30"),
        ("this weekend", "2026-03-07T00:00", "2026-03-09T00:00"),
        ("next week", "2026-03-09T00:00", "2026-03-16T00:00"),
        ("on March 10 at noon", "2026-03-10T12:00", "2026-03-10T13:00"),
        ("on March 1", "2027-03-01T00:00", "2027-03-02T00:00"),  # passed this year: next year's
        ("in two hours", "2026-03-04T11:30", "2026-03-04T12:30"),
        ("Let's meet at the cafe on Friday.", "2026-03-06T00:00", "2026-03-07T00:00"),
    ],
)
def test_resolve_ahead(text: str, start: str, end: str) -> None:
    window = resolve_ahead(text, WEDNESDAY)
    assert window is not None
    assert (window.start, window.end) == (datetime.fromisoformat(start + "+01:00"), datetime.fromisoformat(end + "+01:00"))


def test_resolve_ahead_without_a_time_and_names_day() -> None:
    assert resolve_ahead("could you grab batteries", WEDNESDAY) is None
    assert names_day("dinner on Friday at 8") and not names_day("move dinner to eight")


def test_since_a_day_runs_up_to_the_asking_moment() -> None:
    window = resolve("How many times have I been to the gym since Monday?", AT).window
    assert window is not None and (window.start.isoformat(), window.end) == ("2026-03-02T00:00:00+01:00", AT)
