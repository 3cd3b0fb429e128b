"""The questions of lifegen3's held-out life: every answer and evidence span is read off the story.

Each question has four wordings (the first is asked, the rest go to paraphrases.jsonl) and a few
``kinds`` (knowledge-update, two-moment, none-of-these, future, yes-no, count, ...) so coverage can
be counted. Choices are dealt by the seed; distractors are things that happen elsewhere in the life.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from pipelines.lifegen3 import (
    ME,
    NONE_OF_THESE,
    PLACES,
    Life,
    Question,
    Recording,
    at,
    dollars,
    when,
    written_clock,
)

LETTERS = "ABCD"
VISIT_GAP = timedelta(minutes=60)  # recordings at one place closer than this are one visit


def choices(rng: random.Random, answer: str, distractors: list[str], none: bool = False) -> tuple[dict[str, str], str]:
    """Four choices (two for yes/no); with ``none`` the last reads "none of these" and is the answer."""
    others = [d for d in dict.fromkeys(distractors) if d != answer]
    if answer in ("Yes", "No"):
        return {"A": "Yes", "B": "No"}, "A" if answer == "Yes" else "B"
    if none:
        picked = rng.sample(others, 3)
        return {**dict(zip(LETTERS, picked)), "D": NONE_OF_THESE}, "D"
    picked = [answer, *rng.sample(others, 3)]
    rng.shuffle(picked)
    return dict(zip(LETTERS, picked)), LETTERS[picked.index(answer)]


def visits(life: Life, place: str, until: datetime) -> list[list[Recording]]:
    out: list[list[Recording]] = []
    for rec in sorted(life.recordings, key=lambda r: r.start):
        if rec.place is None or rec.start >= until:
            continue
        if rec.place.key == place and out and out[-1][-1].place.key == place and rec.start - out[-1][-1].end < VISIT_GAP:  # type: ignore[union-attr]
            out[-1].append(rec)
        elif rec.place.key == place:
            out.append([rec])
    return [v for v in out if v[0].place.key == place]  # type: ignore[union-attr]


def stops(life: Life) -> list[Recording]:
    """Recordings with a place, in time order, one per change of place."""
    out: list[Recording] = []
    for rec in sorted((r for r in life.recordings if r.place is not None), key=lambda r: r.start):
        if not out or out[-1].place != rec.place:
            out.append(rec)
    return out


def next_stop(life: Life, place: str, day: int) -> Recording:
    seq = stops(life)
    for a, b in zip(seq, seq[1:]):
        if a.place.key == place and a.start.date() == at(day, 0).date():  # type: ignore[union-attr]
            return b
    raise LookupError(place)


def ask(life: Life, rng: random.Random) -> list[Question]:
    f = life.facts
    end = max(r.end for r in life.recordings) + timedelta(hours=2)
    qs: list[Question] = []

    def q(type_: str, wordings: tuple[str, ...], qt: datetime, answer: str, distractors: list[str] | None, evidence, *kinds: str, none: bool = False) -> None:
        if distractors is None:  # open question: the reference text is the answer
            qs.append(Question("", type_, wordings, qt, answer, evidence, None, ("open", *kinds)))
            return
        ch, letter = choices(rng, answer, distractors, none)
        qs.append(Question("", type_, wordings, qt, letter, evidence, ch, kinds))

    names = lambda *keys: [PLACES[k].name for k in keys]
    span = life.span
    truck1, truck2 = f["truck"]
    dinner1, dinner2 = f["dinner"]
    doc1, doc2 = f["doctor"]
    class1, class2 = f["pottery"]
    sat_evening, fri_evening = at(1, 21, 0), at(0, 20, 0)

    # -- TaskMaster ---------------------------------------------------------------------------
    q("TaskMaster", (
        "so what was it Sam wanted me to pick up for him?",
        "What item did Sam request that I purchase?",
        "sam asked me to grab something, what was it",
        "Sam's request - which thing?",
    ), end, "bubble wrap", ["an old towel", "packing tape", "a paint roller", "a doormat"], span("sam_request"), "request")
    q("TaskMaster", (
        "what time are the movers turning up tomorrow?",
        "At what time is the moving truck scheduled to arrive on Sunday?",
        "when's the truck coming again?",
        "Truck arrival time Sunday?",
    ), sat_evening, when(truck2), [when(truck1), "Sunday at 10 am", "Sunday at 1 pm", when(dinner2)], span("truck2"), "knowledge-update", "future")
    q("TaskMaster", (
        "hey, when is the removal truck supposed to show up?",
        "Could you tell me when the movers' truck is due?",
        "truck - when's it getting here?",
        "When do the movers arrive?",
    ), fri_evening, when(truck1), [when(truck2), "Saturday at 9 am", "Sunday at 10 am", when(dinner1)], span("truck1"), "future", "asked-before-change")
    q("TaskMaster", (
        "when's the dinner with Grace happening now?",
        "On which day and at what time is the dinner with my sister currently planned?",
        "dinner w/ grace - when is it these days?",
        "Grace dinner: day and time?",
    ), at(1, 21, 30), when(dinner2), [when(dinner1), "Friday at 7 pm", when(truck2)], span("dinner2"), "knowledge-update", "future")
    q("TaskMaster", (
        "remind me, when am I seeing the doctor?",
        "What is the date and time of my medical appointment?",
        "doctor's appointment, when is it again?",
        "Doctor: when?",
    ), at(1, 18, 0), when(doc2), [when(doc1), "Monday at 2 pm", "Sunday at 9:30 am"], span("doc2"), "knowledge-update", "future")
    q("TaskMaster", (
        "what time's my doctor thing on Monday?",
        "At what time is my appointment with the doctor scheduled?",
        "when do i have to be at the doctor",
        "Doctor appointment time?",
    ), fri_evening, when(doc1), [when(doc2), "Monday at 2 pm", "Saturday at 10 am"], span("doc1"), "future", "asked-before-change")
    q("TaskMaster", (
        "when's my next pottery class?",
        "When will the next pottery session take place?",
        "pottery this week - which day and what time?",
        "Next clay class: when?",
    ), end, when(class2), [when(class1), "Saturday at 11 am", "Wednesday at 9:30 am"], span("class2"), "knowledge-update", "future")
    q("TaskMaster", (
        "what did I tell Ben I'd do for him?",
        "Which commitment did I make to Ben?",
        "i promised ben something, what was it",
        "My promise to Ben?",
    ), end, "send him photos of the cups", ["bring his van on Sunday", "pay the driver by card", "get bubble wrap"], span("my_promise"), "promise")
    q("TaskMaster", (
        "what does Ben need me to bring along to class?",
        "What item did Ben ask me to bring next time?",
        "ben wanted me to bring something to pottery - what?",
        "Ben's request?",
    ), end, "an old towel", ["bubble wrap", "my old X-rays", "the green umbrella", "a paint roller"], span("ben_request"), "request")
    q("TaskMaster", (
        "did Frank want me to do anything for him?",
        "Which of the following did the building manager ask of me?",
        "what did frank ask me to do",
        "Frank's request?",
    ), end, NONE_OF_THESE, ["bring an old towel", "grab some bubble wrap", "bring my old X-rays"], span("r13"), "none-of-these", "request", none=True)
    q("TaskMaster", (
        "when can I go and get my bike back?",
        "When will my bicycle be ready for collection?",
        "bike - when can i pick it up",
        "Bike pickup: when?",
    ), at(0, 12, 0), "Monday after 2 pm", ["Sunday after 2 pm", when(doc2), "Saturday at 11 am"], span("bike_pickup"), "future")
    q("TaskMaster", (
        "what did Grace say she'd send me?",
        "What did my sister promise to send me?",
        "grace is gonna send me something tonight, what?",
        "Grace promised to send: what?",
    ), at(2, 19, 0), "photos of the move", None, span("grace_promise"), "promise")
    q("TaskMaster", (
        "the guy who told me to try the banana bread - what did he say he'd bring on Sunday?",
        "What did the person who recommended the banana bread promise to bring on Sunday?",
        "whoever said the banana bread was the best, what's he bringing sunday?",
        "Banana bread recommender's Sunday promise?",
    ), at(1, 20, 0), "his van", ["photos of the move", "an old towel", "bubble wrap", "a plant"], span("sam_bread", "sam_promise"), "two-moment", "promise")

    # -- EntityLog ----------------------------------------------------------------------------
    q("EntityLog", (
        "where's the spare key at the moment?",
        "Where is the spare key currently kept?",
        "spare key - where'd i put it?",
        "Spare key location?",
    ), end, f["key"][1], [f["key"][0], "in the kitchen, next to the fridge", "in the kitchen cupboard"], span("key2"), "knowledge-update")
    q("EntityLog", (
        "how much did the bike repair end up coming to?",
        "What was the final cost of repairing my bicycle?",
        "bike fix, what did it cost in the end?",
        "Bike repair final price?",
    ), end, dollars(f["bike_cost"][1]), [dollars(f["bike_cost"][0]), dollars(f["plumber_quote"]), dollars(f["hw1_total"])], span("bike_final"), "knowledge-update", "price")
    q("EntityLog", (
        "how much was that little vase from the pottery place?",
        "What price did I pay for the small vase at Clay Studio?",
        "the blue vase - how much?",
        "Vase price?",
    ), end, dollars(f["vase"]), [dollars(f["hw2_total"]), dollars(f["cafe_totals"][0]), dollars(f["consult"]), "$15"], span("vase_price"), "price")
    q("EntityLog", (
        "what did the price board at the market say for mangoes?",
        "According to the sign at the Food Market, what were mangoes priced at?",
        "mangoes on the board, how much were they?",
        "Mango price shown?",
    ), end, "3 for $6", ["2 for $5", "3 for $15", "$14 each"], span("r08"), "seen", "price")
    q("EntityLog", (
        "going by the note on my fridge, when was the truck meant to come?",
        "What arrival time for the truck was written on the fridge note?",
        "fridge note said the truck comes when?",
        "Truck time on the note?",
    ), end, when(truck1), [when(truck2), "Sunday at 10 am", "Saturday at 9 am"], span("r07"), "seen")
    q("EntityLog", (
        "what did I buy the first time at the market Sam told me to take Grace to?",
        "At the market that Sam suggested for Grace, what did I purchase on my first visit?",
        "that market sam recommended - what'd i get there first time?",
        "First purchase at Sam's recommended market?",
    ), end, "three mangoes", ["a loaf of bread", "banana bread", "a doormat", "a blue vase"], span("sam_recommends", "buy_mangoes"), "two-moment")
    q("EntityLog", (
        "which of these did I actually buy at the Food Market on Saturday?",
        "Among the following, which item did I purchase at the market on Saturday?",
        "sat market - did i get any of these?",
        "Saturday market purchase?",
    ), end, NONE_OF_THESE, ["honey", "avocados", "flowers"], span("r08"), "none-of-these", none=True)
    q("EntityLog", (
        "what did the clinic receipt say the consult cost?",
        "What amount for the consultation was printed on the Park Clinic receipt?",
        "doctor's receipt - how much?",
        "Consult price on receipt?",
    ), end, dollars(f["consult"]), [dollars(f["vase"]), dollars(f["dinner_bill"]), dollars(f["bike_cost"][0])], span("r23"), "seen", "price")
    after_bike = next_stop(life, "cycles", 0)
    q("EntityLog", (
        "what did I pick up at the shop I went to straight after the bike place on Friday?",
        "Which items did I buy at the store I visited immediately after the bicycle shop on Friday?",
        "friday, after the bike shop i bought stuff somewhere - what?",
        "Purchases at the stop after City Cycles, Friday?",
    ), end, "bubble wrap, a paint roller and screws", ["packing tape and a doormat", "three mangoes", "banana bread and two cappuccinos"], span(after_bike.key), "two-moment")
    q("EntityLog", (
        "how much are the movers charging me?",
        "What is the price quoted by Swift Movers?",
        "movers, what's the damage?",
        "Movers' price?",
    ), at(0, 12, 0), dollars(f["movers_price"]), None, span("movers_price"), "price", "heard-only")
    q("EntityLog", (
        "where's my green umbrella now?",
        "Where can I currently find my green umbrella?",
        "the green umbrella - where is it?",
        "Green umbrella location?",
    ), end, "in the kitchen cupboard", ["with Grace", f["key"][0], f["key"][1]], span("umbrella_back"), "knowledge-update")

    # -- EventRecall --------------------------------------------------------------------------
    clinic = visits(life, "clinic", end)[0][0]
    monday_others = [r for r in stops(life) if r.start.date() == clinic.start.date() and r is not clinic]
    q("EventRecall", (
        "what time did I get to the clinic on Monday?",
        "At what time did I arrive at Park Clinic on Monday?",
        "monday, clinic - when'd i get there",
        "Clinic arrival time?",
    ), end, written_clock(clinic.start), [written_clock(r.start) for r in monday_others] + ["10 am"], span(clinic.key), "time")
    r13 = life.rec("r13")
    around = r13.start.replace(minute=0, second=0) + timedelta(minutes=15 * round((r13.start.minute + r13.start.second / 60) / 15))
    sat_places = [r.place.name for r in stops(life) if r.start.date() == r13.start.date() and r.place is not r13.place]  # type: ignore[union-attr]
    q("EventRecall", (
        f"where was I around {written_clock(around)} on Saturday?",
        f"What was my location at approximately {written_clock(around)} on Saturday?",
        f"saturday {written_clock(around)}-ish, where was i?",
        f"Location, Saturday about {written_clock(around)}?",
    ), end, r13.place.name, sat_places, span("r13"), "place", "time")  # type: ignore[union-attr]
    q("EventRecall", (
        "where did I head right after the bike shop on Friday?",
        "Which place did I go to directly after City Cycles on Friday?",
        "after the bike shop friday, where'd i go?",
        "Next stop after the bike shop, Friday?",
    ), end, after_bike.place.name, names("cafe", "old", "market", "clinic"), span(after_bike.key), "place", "order")  # type: ignore[union-attr]
    after_market = next_stop(life, "market", 1)
    q("EventRecall", (
        "where did Grace and I go after the market on Saturday?",
        "Following the Saturday market, which place did I visit next?",
        "sat after the market we went where?",
        "After Saturday market: where?",
    ), end, after_market.place.name, names("studio", "new", "tools", "thai"), span(after_market.key), "place", "order", "no-sign")  # type: ignore[union-attr]
    sunday_cafe = [v for v in visits(life, "cafe", end) if v[0].start.date() == at(2, 0).date()]
    q("EventRecall", (
        "did I end up going to Sunrise Cafe on Sunday?",
        "Did I visit the Sunrise Cafe on Sunday?",
        "was i at sunrise cafe sunday?",
        "Sunrise Cafe, Sunday: yes or no?",
    ), end, "Yes" if sunday_cafe else "No", [], span(*(r.key for v in sunday_cafe for r in v)), "yes-no", "no-sign")
    sunday_tools = [v for v in visits(life, "tools", end) if v[0].start.date() == at(2, 0).date()]
    q("EventRecall", (
        "did I make it to Tool Barn on Sunday?",
        "Was I at the Tool Barn hardware store at any point on Sunday?",
        "tool barn sunday - did i go?",
        "Tool Barn on Sunday?",
    ), end, "Yes" if sunday_tools else "No", [], span(*(r.key for v in visits(life, "tools", end) for r in v)), "yes-no")
    came = life.tag("movers_came")[0]
    q("EventRecall", (
        "which day did the movers actually come?",
        "On what day did the removal company carry out the move?",
        "the move happened what day?",
        "Moving day?",
    ), end, f"{came.start:%A}", ["Saturday", "Friday", "Monday"], span("movers_came"), "day")
    arrival = life.rec("r06")
    part = lambda d: f"{d:%A} " + ("morning" if d.hour < 12 else "afternoon" if d.hour < 18 else "evening")
    q("EventRecall", (
        "when did Grace show up?",
        "When did my sister arrive?",
        "grace got here when?",
        "Grace's arrival?",
    ), end, part(arrival.start), ["Friday morning", "Saturday morning", "Saturday afternoon", "Friday evening"], span("r06"), "time", "no-gps")
    mary_call = life.tag("mary_name")[0]
    q("EventRecall", (
        "where was I when Mary from the clinic rang?",
        "What was my location when the clinic receptionist phoned me?",
        "mary called - where was i at the time?",
        "Location during Mary's call?",
    ), end, mary_call.place.name, names("old", "market", "cafe", "new"), span("doc2"), "two-moment", "place", "heard-only")  # type: ignore[union-attr]

    # -- HabitInsight -------------------------------------------------------------------------
    cafe_visits = visits(life, "cafe", end)
    q("HabitInsight", (
        "how many times have I been to Sunrise Cafe this week?",
        "How many separate visits did I make to the Sunrise Cafe?",
        "sunrise cafe - how many times did i go?",
        "Sunrise Cafe visit count?",
    ), end, str(len(cafe_visits)), [str(n) for n in range(1, 6)], span(*(v[0].key for v in cafe_visits)), "count", "no-sign")
    tool_visits = visits(life, "tools", end)
    q("HabitInsight", (
        "how many trips to Tool Barn did I make?",
        "How many times did I go to the hardware store?",
        "tool barn, how many visits?",
        "Tool Barn trips?",
    ), end, str(len(tool_visits)), [str(n) for n in range(1, 6)], span(*(v[0].key for v in tool_visits)), "count")
    seen = Counter(n for r in life.recordings for n in r.seen)
    top = seen.most_common(1)[0][0]
    q("HabitInsight", (
        "who do I see the most?",
        "Which person did I spend time with most often over these days?",
        "who'd i hang out with most?",
        "Most frequent companion?",
    ), end, top, [n for n, _ in seen.most_common() if n != top], span(*(r.key for r in life.recordings if top in r.seen)), "count", "people")
    orders = Counter()
    for tag in ("cafe1_order", "cafe2_order", "cafe3_order"):
        text = life.tag(tag)[1].text.lower()
        orders.update(item for item in ("cappuccino", "banana bread", "hot chocolate") if item in text)
    usual = orders.most_common(1)[0][0]
    q("HabitInsight", (
        "what do I usually order at Sunrise Cafe?",
        "What is my typical order at the Sunrise Cafe?",
        "my usual at sunrise cafe?",
        "Usual Sunrise Cafe order?",
    ), end, f"a {usual}", [f"a {o}" for o in orders if o != usual] + ["a plate of dumplings", "a fried rice"], span("cafe1_order", "cafe2_order", "cafe3_order"), "habit", "no-sign")
    per_place = {k: len(visits(life, k, end)) for k in PLACES}
    most = max(per_place, key=per_place.get)  # type: ignore[arg-type]
    q("HabitInsight", (
        "which place did I go to most often?",
        "What location did I visit the greatest number of times?",
        "where did i end up most?",
        "Most visited place?",
    ), end, PLACES[most].name, [PLACES[k].name for k in sorted(per_place, key=per_place.get, reverse=True) if k != most], span(*(v[0].key for v in visits(life, most, end))), "count", "place")  # type: ignore[arg-type]
    mover_calls = [r for r in life.recordings if r.kind == "audio" and r.lines and r.lines[0].speaker == "Paula"]
    q("HabitInsight", (
        "how many times did the movers phone me?",
        "How many calls did I receive from Swift Movers?",
        "movers called me how many times?",
        "Number of calls from the movers?",
    ), end, str(len(mover_calls)), [str(n) for n in range(1, 6)], span(*(r.key for r in mover_calls)), "count", "heard-only")
    market_visits = visits(life, "market", end)
    q("HabitInsight", (
        "how often did I go to the Food Market?",
        "How many times did I visit the Food Market in total?",
        "market trips - how many?",
        "Food Market visits?",
    ), end, str(len(market_visits)), [str(n) for n in range(1, 6)], span(*(v[0].key for v in market_visits)), "count", "sign-sometimes")

    # -- RelationMap --------------------------------------------------------------------------
    people = ["Grace", "Sam", "Ben", "Frank", "Leo", "Kim"]
    market_sat = market_visits[0][0]
    q("RelationMap", (
        "who came along to the market with me on Saturday?",
        "Which person accompanied me to the Food Market on Saturday?",
        "sat market, who was with me?",
        "Saturday market companion?",
    ), end, market_sat.seen[0], [p for p in people if p not in market_sat.seen], span(market_sat.key), "people")
    quoter = life.tag("bike_quote")[1].speaker
    q("RelationMap", (
        f"who was it that said the repair would be around {dollars(f['bike_cost'][0])}?",
        f"Which person estimated the repair at approximately {dollars(f['bike_cost'][0])}?",
        f"who quoted me {dollars(f['bike_cost'][0])} for the repair?",
        f"Who said '{dollars(f['bike_cost'][0])} repair'?",
    ), end, quoter, [p for p in people if p != quoter], span("bike_quote"), "who-said", "named-by-speech")
    q("RelationMap", (
        "what's the name of the guy who manages the new building?",
        "What is the building manager's name?",
        "building manager's name again?",
        "Building manager: name?",
    ), end, life.tag("frank_keys")[1].speaker, None, span("frank_keys"), "named-by-speech")
    q("RelationMap", (
        "who was it that told me to try the banana bread?",
        "Who recommended the banana bread to me?",
        "banana bread tip came from who?",
        "Banana bread recommendation: who?",
    ), end, life.tag("sam_bread")[1].speaker, ["Grace", "Ben", "Leo", "Frank"], span("sam_bread"), "who-said", "recommendation")
    q("RelationMap", (
        "who rang to say the truck was running late?",
        "Which person phoned to tell me about the truck's delay?",
        "who called about the truck being late",
        "Caller re: late truck?",
    ), end, life.tag("truck2")[1].speaker, ["Mary", "Ben", "Grace", "Frank"], span("truck2"), "heard-only", "who-said")
    keys_rec = life.tag("frank_keys")[0]
    with_me = [n for n in keys_rec.seen if n != life.tag("frank_keys")[1].speaker]
    q("RelationMap", (
        "who else was there when I got the keys to the new flat?",
        "Apart from the person handing them over, who was with me when I received the keys to the new flat?",
        "when i got the new keys, who was with me?",
        "Companion at key handover?",
    ), end, with_me[0], ["Sam", "Ben", "Leo", "Kim"], span("frank_keys"), "two-moment", "people")
    q("RelationMap", (
        "who called to move my doctor's appointment?",
        "Which person rang to reschedule my appointment with the doctor?",
        "who phoned about changing the doctor time?",
        "Appointment change caller?",
    ), end, life.tag("doc2")[1].speaker, ["Paula", "Kim", "Grace", "Frank"], span("mary_name", "doc2"), "heard-only", "who-said")
    q("RelationMap", (
        "did any of these people come with me to the doctor's on Monday?",
        "Which of these people accompanied me to my Monday medical appointment?",
        "who came to the clinic with me?",
        "Clinic companion, Monday?",
    ), end, NONE_OF_THESE, [p for p in ("Grace", "Sam", "Ben") if p not in clinic.seen], span(clinic.key), "none-of-these", "people", none=True)
    sunday_cafe_rec = sunday_cafe[0][0]
    q("RelationMap", (
        "who did I bump into at Sunrise Cafe on Sunday?",
        "Whom did I meet at the Sunrise Cafe on Sunday afternoon?",
        "sunday at sunrise cafe, who'd i run into?",
        "Sunday cafe: who?",
    ), end, sunday_cafe_rec.seen[0], [p for p in people if p not in sunday_cafe_rec.seen], span(sunday_cafe_rec.key), "people", "no-sign")
    movers = life.tag("movers_came")[0]
    q("RelationMap", (
        "who was with me when the movers showed up?",
        "Which friend was present when the moving truck arrived?",
        "movers came - who was around?",
        "Present when movers arrived?",
    ), end, movers.seen[0], [p for p in people if p not in movers.seen and p != "Kim"], span("movers_came"), "two-moment", "people")

    for i, question in enumerate(qs, 1):
        question.id = f"q{i:02d}"
        assert all(e <= question.query_time for _, e in question.evidence), question.id
    assert ME not in {q.answer for q in qs}
    return qs
