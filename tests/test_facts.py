"""Facts: extraction from sentences, target times, updates, storage in a real shard, and one real ingest."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from egomem.memory.events import Event, Place, Quote
from egomem.memory.facts import (
    Fact,
    FactKind,
    FactStatus,
    extract_facts,
    find_price,
    read_seen,
    read_sentence,
    reconcile,
    spoken_amount,
)
from egomem.store.base import EventFilter, FactFilter
from egomem.store.edge import EdgeEventStore
from egomem.types import GeoPoint
from pipelines.facts import remember_facts, subject_similarity

TZ = timezone(timedelta(hours=1))
WED = datetime(2026, 3, 4, 9, 30, tzinfo=TZ)  # a Wednesday
NS = uuid.UUID("2a7c4e1f-9b3d-4c5e-8f6a-1b2c3d4e5f60")

K = FactKind


def said(sentence: str, at: datetime = WED) -> Fact | None:
    return read_sentence(sentence, at)


# -- extraction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "kind", "subject_has"),
    [
        # requests, several phrasings
        ("Could you grab batteries on your way home?", K.REQUEST, "batteries"),
        ("Can you please pick up the kids at five?", K.REQUEST, "kids"),
        ("Would you mind calling the landlord?", K.REQUEST, "landlord"),
        ("Don't forget to call the plumber.", K.REQUEST, "plumber"),
        ("Remember to water the plants tomorrow.", K.REQUEST, "plants"),
        ("I need you to sign the form by Friday.", K.REQUEST, "form"),
        ("Please bring the charger tomorrow.", K.REQUEST, "charger"),
        ("Make sure you lock the back door.", K.REQUEST, "door"),
        # promises
        ("I'll send you the photos tonight.", K.PROMISE, "photos"),
        ("I will call her tomorrow.", K.PROMISE, "call"),
        ("OK, I'm going to fix the shelf this weekend.", K.PROMISE, "shelf"),
        ("I promise I'll return the book on Monday.", K.PROMISE, "book"),
        # plans and appointments
        ("The vet on Saturday at ten.", K.APPOINTMENT, "vet"),
        ("I have a dentist appointment on Friday at 3.", K.APPOINTMENT, "dentist"),
        ("The meeting is at 3 pm.", K.APPOINTMENT, "meeting"),
        ("Let's have dinner tomorrow at seven.", K.PLAN, "dinner"),
        ("Let's meet at Cafe Lumiere next Friday.", K.PLAN, "meet"),
        ("We're going to the beach in two days.", K.PLAN, "beach"),
        ("Shall we get lunch on Thursday?", K.PLAN, "lunch"),
        # purchases and prices
        ("I'll take the blue one.", K.PURCHASE, "blue one"),
        ("I bought oat milk at the market.", K.PURCHASE, "oat milk"),
        ("I'd like a large cappuccino, please.", K.PURCHASE, "cappuccino"),
        ("That's twelve fifty.", K.PURCHASE, "purchase"),
        ("The repair will be around two hundred dollars.", K.PRICE, "repair"),
        ("It costs 180 euros.", K.PRICE, "price"),
        # decisions and recommendations
        ("We decided to paint the kitchen blue.", K.DECISION, "kitchen"),
        ("Let's go with the green sofa.", K.DECISION, "green sofa"),
        ("You should try the ramen at Ippudo.", K.RECOMMENDATION, "ramen"),
        ("I highly recommend the new museum.", K.RECOMMENDATION, "museum"),
        ("That bakery is definitely worth a visit.", K.RECOMMENDATION, "bakery"),
        # put, left, lent
        ("I left the spare key under the blue pot.", K.PLACEMENT, "key"),
        ("I've put my passport in the top drawer.", K.PLACEMENT, "passport"),
        ("I lent my drill to Sam.", K.PLACEMENT, "drill"),
    ],
)  # fmt: skip
def test_sentences_of_each_kind(sentence: str, kind: FactKind, subject_has: str) -> None:
    fact = said(sentence)
    assert fact is not None, sentence
    assert fact.kind == kind, (sentence, fact)
    assert subject_has in fact.subject, (sentence, fact.subject)
    assert fact.text == sentence and fact.status == FactStatus.OPEN


@pytest.mark.parametrize(
    "sentence",
    [
        "Can you believe it?", "Would you believe the price of eggs?", "I can't believe he said that.",
        "Nice weather today, isn't it?", "How are you doing?", "Thanks, see you later.", "Hello, what can I get you?",
        "Cabbage, milk and eggs, please.", "Right, I will.", "I will not go.", "We should really.", "I have a cold.",
        "Did you buy the milk?", "I'm going to the kitchen.", "Would you like some tea?", "I didn't call him.",
        "Could you imagine living there?", "Great, see you there on Friday.", "",
    ],
)  # fmt: skip
def test_questions_and_small_talk_are_not_facts(sentence: str) -> None:
    assert said(sentence) is None


def test_details_items_places_prices_and_target_times() -> None:
    vet = said("The vet on Saturday at ten.")
    assert vet.target_start == datetime(2026, 3, 7, 10, 0, tzinfo=TZ) and vet.target_end == vet.target_start + timedelta(hours=1)
    dinner = said("Let's have dinner tomorrow at seven.")
    assert dinner.target_start == datetime(2026, 3, 5, 19, 0, tzinfo=TZ)
    assert said("Let's meet at Cafe Lumiere next Friday.").where == "Cafe Lumiere"
    assert said("See you at the gym, let's train on Monday morning.").target_start == datetime(2026, 3, 9, 5, tzinfo=TZ)
    assert said("Could you grab batteries on your way home?").item == "batteries"
    key = said("I left the spare key under the blue pot.")
    assert (key.item, key.where) == ("spare key", "under the blue pot")
    lent = said("I lent my drill to Sam.")
    assert (lent.item, lent.where) == ("drill", "Sam")
    twelve = said("That's twelve fifty.")
    assert (twelve.price, twelve.target_start) == (12.5, None)  # a price is no clock time
    repair = said("The repair will be around two hundred dollars.")
    assert (repair.price, repair.currency, repair.item) == (200.0, "USD", "repair")
    assert said("Your total is $18.50.").price == 18.5
    assert said("Can you please pick up the kids at five?").target_start == datetime(2026, 3, 4, 17, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("$18.50", 18.5, "USD"), ("it was 7 euros", 7.0, "EUR"), ("that's twelve fifty", 12.5, None),
     ("two hundred dollars", 200.0, "USD"), ("£3.20", 3.2, "GBP"), ("that'll be five ninety-nine", 5.99, None),
     ("a hundred and twenty euros", 120.0, "EUR"), ("I have two kids", None, None)],
)  # fmt: skip
def test_prices_spoken_and_written(text: str, amount: float | None, currency: str | None) -> None:
    found = find_price(text)
    assert (found[0], found[1]) == (amount, currency) if amount is not None else found is None


def test_spoken_amounts() -> None:
    assert [spoken_amount(w) for w in ("twelve fifty", "two hundred", "a hundred and twenty", "forty-five", "three thousand")] == [
        12.5, 200.0, 120.0, 45.0, 3000.0,
    ]


def test_prices_seen_on_receipts_and_signs() -> None:
    receipt = read_seen("TOTAL $18.50", WED)
    assert (receipt.kind, receipt.price, receipt.source) == (K.PURCHASE, 18.5, "seen")
    menu = read_seen("Espresso 2.50", WED)
    assert (menu.kind, menu.item, menu.price) == (K.PRICE, "espresso", 2.5)
    assert read_seen("OPEN 9-17", WED) is None


def ev(name: str, start: datetime, quotes: list[tuple[str, str | None]], people: list[str] | None = None, **fields) -> Event:
    return Event(
        id=str(uuid.uuid5(NS, name)), recording_id=f"rec-{name}", source=f"/media/{name}.mp4", start=start,
        end=start + timedelta(minutes=10), place=Place("home", GeoPoint(48.85, 2.35)), people=people or [],
        quotes=[Quote(start + timedelta(seconds=30 * i), start + timedelta(seconds=30 * i + 5), text, who) for i, (text, who) in enumerate(quotes)],
        **fields,
    )  # fmt: skip


def test_extract_facts_fills_who_where_and_the_evidence() -> None:
    event = ev("kitchen", WED, [("Good morning. Could you buy oat milk on your way home?", "ana"),
                                ("Sure, I'll pick it up after work.", "me"), ("What a lovely day.", None)],
               people=["ana"], visible_text=["Oat milk 2.49", "FRESH BREAD"])  # fmt: skip
    facts = extract_facts(event)
    ask, promise, seen = facts
    assert (ask.kind, ask.speaker, ask.addressee, ask.people, ask.place) == (K.REQUEST, "ana", "me", ["ana"], "home")
    assert ask.text == "Could you buy oat milk on your way home?" and ask.said_at == event.quotes[0].start
    assert (promise.kind, promise.speaker, promise.addressee) == (K.PROMISE, "me", "ana")
    assert (seen.kind, seen.source, seen.price) == (K.PRICE, "seen", 2.49)
    assert all(f.event_id == event.id and f.recording_id == event.recording_id for f in facts)
    assert extract_facts(event)[0].id == ask.id  # deterministic: a re-ingest replaces


# -- updates --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def similar(models):
    return subject_similarity(models.text_embedder.embed)


def fact_at(sentence: str, at: datetime, recording: str = "rec-a") -> Fact:
    fact = said(sentence, at)
    assert fact is not None, sentence
    fact.id, fact.recording_id, fact.event_id = str(uuid.uuid5(NS, f"{sentence}{at}")), recording, "e"
    return fact


def test_a_moved_dinner_latest_wins_and_history_is_kept(similar) -> None:
    first = fact_at("Let's have dinner tomorrow at seven.", WED)
    other = fact_at("Could you buy oat milk?", WED + timedelta(minutes=5))
    moved = fact_at("Can we move dinner to eight?", WED + timedelta(hours=3))
    out = reconcile([moved, other, first], similar)
    assert [f.id for f in out] == [first.id, other.id, moved.id]  # oldest said first
    assert first.status == FactStatus.SUPERSEDED and first.valid_to == moved.said_at
    assert moved.status == FactStatus.OPEN and moved.supersedes == first.id
    assert moved.target_start == datetime(2026, 3, 5, 20, 0, tzinfo=TZ)  # the new hour on the planned day
    assert other.status == FactStatus.OPEN


def test_done_and_cancelled(similar) -> None:
    batteries = fact_at("Could you grab batteries on your way home?", WED)
    plumber = fact_at("Don't forget to call the plumber.", WED + timedelta(minutes=1))
    dentist = fact_at("I have a dentist appointment on Friday at 3.", WED + timedelta(minutes=2))
    picnic = fact_at("Let's have a picnic on Saturday.", WED + timedelta(minutes=3))
    got = fact_at("I picked up the batteries.", WED + timedelta(hours=8))
    called = fact_at("I already called the plumber.", WED + timedelta(hours=9))
    off = fact_at("The dentist is cancelled.", WED + timedelta(days=1))
    saturday = fact_at("Forget about Saturday.", WED + timedelta(days=1, hours=1))
    reconcile([batteries, plumber, dentist, picnic, got, called, off, saturday], similar)
    assert (batteries.status, got.supersedes) == (FactStatus.DONE, batteries.id)
    assert (plumber.status, called.supersedes) == (FactStatus.DONE, plumber.id)
    assert (dentist.status, dentist.valid_to, off.supersedes) == (FactStatus.CANCELLED, off.said_at, dentist.id)
    assert picnic.status == FactStatus.CANCELLED and saturday.supersedes == picnic.id
    assert got.status == FactStatus.DONE and off.status == FactStatus.CANCELLED  # what they said, kept


def test_unrelated_facts_do_not_update_each_other(similar) -> None:
    a = fact_at("Could you grab batteries on your way home?", WED)
    b = fact_at("Please call the bank tomorrow.", WED + timedelta(hours=1))
    c = fact_at("Let's have dinner tomorrow at seven.", WED + timedelta(hours=2))
    d = fact_at("The meeting is at 3 pm.", WED + timedelta(hours=3))
    reconcile([a, b, c, d], similar)
    assert all(f.status == FactStatus.OPEN and f.supersedes is None for f in (a, b, c, d))


def test_out_of_order_arrival_gives_the_same_history(similar) -> None:
    sentences = [("Let's have dinner tomorrow at seven.", 0), ("Can we move dinner to eight?", 3), ("Dinner is cancelled.", 6)]
    def run(order: list[int]) -> list[tuple[str, str | None]]:
        facts = [fact_at(s, WED + timedelta(hours=h)) for s, h in sentences]
        first = reconcile([facts[i] for i in order[:2]], similar)  # ingested in two goes, any order
        out = reconcile([*first, facts[order[2]]], similar)
        return [(f.status.value, f.supersedes) for f in out]
    assert run([0, 1, 2]) == run([2, 0, 1]) == run([1, 2, 0])
    assert [s for s, _ in run([2, 1, 0])] == ["superseded", "cancelled", "cancelled"]


# -- storage --------------------------------------------------------------------------------------


def test_facts_in_a_real_shard(tmp_path: Path, models) -> None:
    embed = models.text_embedder.embed
    monday = ev("monday", WED - timedelta(days=2), [("Could you grab batteries on your way home?", "ana"),
                                                     ("Let's have dinner at Luigi's on Saturday at seven.", "ana")], people=["ana"])
    wednesday = ev("wednesday", WED, [("Can we move dinner to eight?", "bob"), ("I lent my drill to Sam.", "me")], people=["bob"])
    events = [monday, wednesday]
    for e, v in zip(events, embed([e.document for e in events])):
        e.text_vector = v.tolist()
    with EdgeEventStore(tmp_path / "store") as store:
        store.upsert(events)
        remember_facts(store, embed, [wednesday])  # the later recording first: out of order
        remember_facts(store, embed, [monday])
        everything = store.facts(FactFilter(include_superseded=True))
        assert [f.text for f in everything] == [
            "Could you grab batteries on your way home?", "Let's have dinner at Luigi's on Saturday at seven.",
            "Can we move dinner to eight?", "I lent my drill to Sam.",
        ]
        dinner, moved = everything[1], everything[2]
        assert dinner.status == FactStatus.SUPERSEDED and moved.supersedes == dinner.id and dinner.valid_to == moved.said_at
        assert moved.target_start == datetime(2026, 3, 7, 20, 0, tzinfo=TZ) and dinner.where == "Luigi's"
        assert dinner.said_at.utcoffset() == timedelta(hours=1) and len(dinner.text_vector) == 384

        # filters
        assert [f.text for f in store.facts()] == [everything[i].text for i in (0, 2, 3)]  # superseded left out
        asked_tuesday = store.facts(FactFilter(said_before=WED - timedelta(days=1)))
        assert dinner.id in [f.id for f in asked_tuesday]  # as it stood before it was moved
        assert [f.kind for f in store.facts(FactFilter(kinds=[K.PLACEMENT]))] == [K.PLACEMENT]
        on_saturday = store.facts(FactFilter(target_after=datetime(2026, 3, 7, tzinfo=TZ), target_before=datetime(2026, 3, 8, tzinfo=TZ)))
        assert [f.id for f in on_saturday] == [moved.id]
        assert [f.text for f in store.facts(FactFilter(people=["ana"]))] == ["Could you grab batteries on your way home?"]
        assert len(store.facts(FactFilter(statuses=[FactStatus.SUPERSEDED], include_superseded=True))) == 1
        assert {f.recording_id for f in store.facts(FactFilter(recording_id="rec-monday", include_superseded=True))} == {"rec-monday"}
        (best, score), *_ = store.search_facts(embed(["when is dinner"])[0].tolist(), FactFilter(), 3)
        assert best.id == moved.id and score > 0.3

        # event queries never see facts
        assert store.count() == 2 and len(store.events()) == 2 and store.stats()["events"] == 2
        assert store.stats()["recordings"] == 2
        vector = embed(["dinner at Luigi's"])[0].tolist()
        assert {h.event.id for h in store.search_text(vector, limit=10)} == {monday.id, wednesday.id}
        assert {h.event.id for h in store.search_keywords("drill dinner batteries", limit=10)} <= {monday.id, wednesday.id}
        assert store.get([f.id for f in everything]) == [] and store.count(EventFilter(recording_id="rec-monday")) == 1

        # forgetting a person takes their name out of facts; deleting a recording deletes its facts
        store._forget_in_facts({"ana"})
        assert store.facts(FactFilter(people=["ana"])) == [] and store.facts(FactFilter(include_superseded=True))[0].speaker is None
        store.delete_recording("rec-monday")
        assert [f.recording_id for f in store.facts(FactFilter(include_superseded=True))] == ["rec-wednesday", "rec-wednesday"]
    with EdgeEventStore(tmp_path / "store") as store:  # reopened: indexes and facts persist
        assert len(store.facts(FactFilter(include_superseded=True))) == 2 and store.count() == 1


# -- ingest ---------------------------------------------------------------------------------------


def test_ingesting_a_life_stores_its_facts(life_memory, generated_life) -> None:
    rt, results = life_memory
    _, spec = generated_life
    facts = rt.store.facts(FactFilter(include_superseded=True))
    assert facts, "no facts stored"
    assert all(r.stages and any(s.stage == "facts" and s.ran for s in r.stages) for r in results if r.outcome.value == "ingested")
    texts = " ".join(f.text.lower() for f in facts)
    for task in spec.tasks:  # by its last word: Whisper may hear "call the landlord" as "call for landlord"
        assert task.what.split()[-1].lower() in texts, f"{task.kind} {task.what!r} not stored as a fact"
    kinds = {f.kind for f in facts}
    assert K.REQUEST in kinds and (K.PLAN in kinds or K.APPOINTMENT in kinds)
    plans = [f for f in facts if f.kind in (K.PLAN, K.APPOINTMENT) and f.target_start is not None]
    assert all(f.target_start.date() >= f.said_at.date() for f in plans)
    assert rt.store.count() == sum(len(r.events) for r in results)  # no fact counted as an event


# -- shown to the user ----------------------------------------------------------------------------


def test_the_day_summary_and_the_day_view_list_the_days_facts(tmp_path: Path, models) -> None:
    from app.web import facts_markdown
    from pipelines.daily_summary import render_markdown, summarize_day

    embed = models.text_embedder.embed
    monday = ev("mon", WED - timedelta(days=2), [("Let's have dinner at Luigi's on Wednesday at seven.", "ana"),
                                                 ("Could you grab batteries on your way home?", "ana")], people=["ana"])
    wednesday = ev("wed", WED, [("I picked up the batteries.", "me"), ("Can we move dinner to eight?", "bob")], people=["bob"])
    for e, v in zip([monday, wednesday], embed([monday.document, wednesday.document])):
        e.text_vector = v.tolist()
    with EdgeEventStore(tmp_path / "store") as store:
        store.upsert([monday, wednesday])
        remember_facts(store, embed, [monday])
        remember_facts(store, embed, [wednesday])
        summary = summarize_day(store, WED.date(), TZ)
    md = render_markdown(summary, "../thumbnails")
    section = md.split("## Requests and plans", 1)[1].split("## ", 1)[0]
    assert "“Let's have dinner at Luigi's on Wednesday at seven.”" in section
    dinner = next(line for line in section.splitlines() if "Luigi's" in line)
    assert "for Wed 4 Mar 19:00" in dinner and "said Mon 2 Mar" in dinner and "changed later" in dinner and dinner.startswith("- [~]")
    moved = next(line for line in section.splitlines() if "move dinner" in line)
    assert "for Wed 4 Mar 20:00" in moved and moved.startswith("- [ ]")
    assert next(line for line in section.splitlines() if "picked up" in line).startswith("- [x] 09:30 done:")  # the report itself
    shown = facts_markdown(summary.open_items)
    assert "**Requests and plans**" in shown and "move dinner to eight" in shown and "\u21bb" in shown
