"""The web app: its data-shaping helpers and login rules, then the real thing in headless Chromium.

The browser tests serve `create_app` with the UI mounted over a copy of the generated, really
ingested life (naming someone must not change the session's shared memory), and drive it with
Playwright and Debian's Chromium. Expected answers come from the life's questions.jsonl.
Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import base64
import re
import shutil
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.auth import Credentials, check_bind, install_auth, is_loopback, parse_auth, resolve_auth
from egomem.errors import ConfigError, EgomemError
from egomem.memory.events import DAY_SUMMARY_RECORDING, Event, Place, Quote
from egomem.store.base import ScoredEvent
from egomem.types import GeoPoint
from tests.serving import serving

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 60_000
UTC = timezone.utc
CET = timezone(timedelta(hours=1))


# -- binding and login ------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"])
def test_loopback_binds_need_no_login(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "10.0.0.1", "my-laptop.lan", "128.0.0.1"])
def test_other_binds_refuse_to_start_without_a_login(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(EgomemError, match="EGOMEM_AUTH"):
        check_bind(host, None)
    check_bind(host, Credentials("me", "secret"))
    check_bind(host, "me:secret")


def test_auth_is_user_colon_password_or_a_file_holding_it(tmp_path: Path) -> None:
    assert parse_auth(None) is None and parse_auth("  ") is None
    creds = parse_auth("alice:pa:ss word")
    assert creds == Credentials("alice", "pa:ss word")
    assert "pa:ss" not in repr(creds)
    secret = tmp_path / "auth"
    secret.write_text("\n  bob:hunter2  \n")
    assert parse_auth(str(secret)) == Credentials("bob", "hunter2")
    for bad in ("nocolon", ":nouser", "user:", str(tmp_path / "missing"), "~/no/such/file"):
        with pytest.raises(ConfigError):
            parse_auth(bad)
    assert resolve_auth(SimpleNamespace(auth=None), {"EGOMEM_AUTH": "a:b"}) == Credentials("a", "b")
    assert resolve_auth(SimpleNamespace(auth="c:d"), {"EGOMEM_AUTH": "a:b"}) == Credentials("c", "d")
    assert resolve_auth(None, {}) is None


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_json_api_asks_for_basic_auth_but_device_uploads_keep_their_tokens_and_the_ui_its_login_page() -> None:
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.auth import gradio_auth

    app = FastAPI()
    app.get("/healthz")(lambda: {"ok": True})
    app.get("/v1/status")(lambda: {"status": "fine"})
    app.get("/v1/recordings/{upload_id}")(lambda upload_id: {"device": "token checked by the route"})
    app.post("/v1/jobs/{job_id}")(lambda job_id: {"job": job_id})
    app.get("/thumbnails/{rec}/{name}")(lambda rec, name: {"jpeg": name})
    assert install_auth(app, SimpleNamespace(auth=None), {"EGOMEM_AUTH": "me:s3cret"}) == Credentials("me", "s3cret")
    with gr.Blocks() as ui:
        gr.Markdown("hello")
    gr.mount_gradio_app(app, ui, path="/ui", auth=gradio_auth(Credentials("me", "s3cret")))
    app.get("/v1/added-later")(lambda: {"also": "guarded"})

    client = TestClient(app)
    for path in ("/v1/status", "/thumbnails/r/0.jpg", "/v1/added-later", "/docs", "/openapi.json"):
        denied = client.get(path)
        assert denied.status_code == 401, path
        assert denied.headers["www-authenticate"].startswith("Basic")
        assert client.get(path, headers=_basic("me", "wrong")).status_code == 401
        assert client.get(path, headers=_basic("you", "s3cret")).status_code == 401
        assert client.get(path, headers=_basic("me", "s3cret")).status_code == 200, path
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/recordings/abc").status_code == 200  # the route checks its bearer token itself
    assert client.post("/v1/jobs/j1").status_code == 200
    # The UI is Gradio's to guard: its page loads (the login form), its config needs the login.
    assert client.get("/ui/").status_code == 200
    assert client.get("/ui/config").status_code == 401
    assert client.post("/ui/login", data={"username": "me", "password": "s3cret"}).status_code == 200
    assert client.get("/ui/config").status_code == 200


def test_without_a_login_nothing_is_installed() -> None:
    from fastapi import FastAPI

    app = FastAPI()
    assert install_auth(app, SimpleNamespace(auth=None), {}) is None
    assert not app.user_middleware


# -- data shaping ------------------------------------------------------------------------------------


def _event(i: int, start: datetime, *, place: Place | None = None, people=(), quotes=(), visible=(), keyframes=(), rec="rec1", caption="") -> Event:
    return Event(
        id=f"00000000-0000-0000-0000-{i:012d}", recording_id=rec, source="x.mp4", start=start, end=start + timedelta(minutes=2),
        place=place, people=list(people), quotes=list(quotes), visible_text=list(visible), keyframes=list(keyframes), caption=caption,
    )  # fmt: skip


HOME = Place(None, GeoPoint(48.853, 2.3499))
SHOP = Place("Corner Shop", GeoPoint(48.8583, 2.37))


def test_days_with_memories_come_from_the_catalog_in_the_configured_zone() -> None:
    from app.web import memory_days, neighbour_day

    def entry(start: str, end: str | None, status: str = "done", events: int = 1) -> SimpleNamespace:
        return SimpleNamespace(start=start, end=end, status=SimpleNamespace(value=status), events=events)

    entries = [
        entry("2026-03-02T23:30:00+00:00", "2026-03-03T00:10:00+00:00"),  # crosses midnight in UTC
        entry("2026-03-05T10:00:00+01:00", None),  # a photo
        entry("2026-03-09T10:00:00+01:00", "2026-03-09T10:05:00+01:00", status="failed"),
        entry("2026-03-10T10:00:00+01:00", "2026-03-10T10:05:00+01:00", events=0),
    ]
    assert memory_days(entries, UTC) == [date(2026, 3, 5), date(2026, 3, 3), date(2026, 3, 2)]
    assert memory_days(entries, CET) == [date(2026, 3, 5), date(2026, 3, 3)]  # 00:30 and 01:10 local
    days = [date(2026, 3, 5), date(2026, 3, 3), date(2026, 3, 2)]
    assert neighbour_day(days, date(2026, 3, 3), -1) == date(2026, 3, 2)
    assert neighbour_day(days, date(2026, 3, 3), +1) == date(2026, 3, 5)
    assert neighbour_day(days, date(2026, 3, 4), -1) == date(2026, 3, 3)  # from a day with nothing
    assert neighbour_day(days, date(2026, 3, 2), -1) == date(2026, 3, 2)  # stays at the first
    assert neighbour_day(days, None, -1) == date(2026, 3, 5) and neighbour_day([], None, 1) is None


def test_timeline_rows_carry_time_place_people_signs_and_a_picture_and_escape_what_was_read(tmp_path: Path) -> None:
    from app.web import render_timeline, timeline_rows

    (tmp_path / "rec1").mkdir()
    (tmp_path / "rec1" / "000001000.jpg").write_bytes(b"jpeg")
    t0 = datetime(2026, 3, 2, 7, 46, tzinfo=CET)
    events = [
        _event(2, t0 + timedelta(hours=8), place=SHOP, people=["person-6", "obama"], visible=["<b>CORNER</b>", "SHOP"],
               keyframes=["../../etc/passwd"]),  # fmt: skip
        _event(1, t0, place=HOME, people=["kit_harington", "me"], quotes=[Quote(t0, t0, "Can you buy cereal?", "kit_harington")],
               visible=["HOME SWEET HOME"], keyframes=["rec1/000001000.jpg"]),  # fmt: skip
    ]
    rows = timeline_rows(events, UTC, tmp_path)
    assert [r.start.hour for r in rows] == [6, 14]  # oldest first, in the configured zone
    assert rows[0].place == "48.85300,2.34990" and rows[1].place == "Corner Shop"
    assert rows[0].keyframe == (tmp_path / "rec1" / "000001000.jpg").resolve()
    assert rows[1].keyframe is None  # outside the thumbnails folder: never served
    assert rows[0].snippet == "Can you buy cereal?"
    page = render_timeline(rows, selected=events[1].id)
    assert "06:46" in page and "with kit_harington" in page and ">me<" not in page
    assert "someone unrecognised (person-6), obama" in page
    assert "&lt;b&gt;CORNER&lt;/b&gt; · SHOP" in page and "<b>CORNER" not in page
    assert f'data-event="{events[1].id}"' in page and page.count("eg-selected") == 1
    assert "gradio_api/file=" in page and "no picture" in page
    assert "No moments" in render_timeline([])


def test_place_strip_joins_stays_in_time_order() -> None:
    from app.web import place_stops, render_place_strip

    t0 = datetime(2026, 3, 2, 7, 0, tzinfo=CET)
    events = [
        _event(1, t0, place=HOME), _event(2, t0 + timedelta(minutes=3), place=HOME),
        _event(3, t0 + timedelta(hours=5), place=SHOP), _event(4, t0 + timedelta(hours=6)),  # no place
        _event(5, t0 + timedelta(hours=11), place=HOME),
    ]  # fmt: skip
    stops = place_stops(events, CET)
    assert [(s.label, s.start.hour, s.end.minute) for s in stops] == [("48.85300,2.34990", 7, 5), ("Corner Shop", 12, 2), ("48.85300,2.34990", 18, 2)]
    svg = render_place_strip(stops)
    assert svg.startswith("<svg") and svg.count("<polyline") == 1
    assert "1,3. 48.85300,2.34990" in svg and "2. Corner Shop" in svg and "07:00, 18:00" in svg
    assert "No positions" in render_place_strip([])
    assert "<svg" in render_place_strip(stops[:1])  # one point: no division by zero


def test_an_answer_shows_how_it_was_reached_and_its_moments() -> None:
    from app.web import answer_markdown
    from egomem.reasoning.types import Answer, Evidence

    t0 = datetime(2026, 3, 2, 7, 46, 50, tzinfo=CET)
    moment = Evidence("e1", t0, t0 + timedelta(minutes=1), "Corner Shop", ["obama"], "Some cereal, please.", None, 0.9)
    note = "the LLM reader failed (timed out); this is the rule-based answer"
    text = answer_markdown(Answer("Who asked?", "obama (Mon 07:46, Corner Shop).", [moment], note=note), CET)
    lines = text.splitlines()
    assert lines[0].startswith("obama") and note in lines[2]
    assert "Corner Shop" in text and "Some cereal, please." in text and "07:46" in text
    assert "LLM" not in answer_markdown(Answer("Who asked?", "obama.", [moment]), CET)


def test_event_detail_shows_frames_with_their_times_a_transcript_with_speakers_and_the_text_in_view(tmp_path: Path) -> None:
    from app.web import event_detail

    (tmp_path / "rec1").mkdir()
    for name in ("000000000.jpg", "000004500.jpg"):
        (tmp_path / "rec1" / name).write_bytes(b"jpeg")
    t0 = datetime(2026, 3, 2, 7, 46, 50, tzinfo=CET)
    quotes = [Quote(t0 + timedelta(seconds=5), t0 + timedelta(seconds=7), "OK, *I* will.", "me"),
              Quote(t0 + timedelta(seconds=1), t0 + timedelta(seconds=3), "Buy [cereal]?", "person-6"),
              Quote(t0 + timedelta(seconds=9), t0 + timedelta(seconds=9), "Hm.", None)]  # fmt: skip
    event = _event(1, t0 + timedelta(seconds=1), place=HOME, people=["person-6"], quotes=quotes, visible=["HOME"],
                   keyframes=["rec1/000000000.jpg", "rec1/000004500.jpg", "rec1/missing.jpg"])  # fmt: skip
    detail = event_detail(event, UTC, tmp_path, recording_start=t0)
    assert [c for _, c in detail.frames] == ["06:46:50", "06:46:54"]
    lines = detail.transcript.splitlines()
    assert lines[0] == "- **06:46:51** someone unrecognised (person-6): \u201cBuy \\[cereal\\]?\u201d"
    assert "you: \u201cOK, \\*I\\* will.\u201d" in lines[1] and "someone: \u201cHm.\u201d" in lines[2]
    assert "**Text in view:** HOME" in detail.seen
    assert "06:46" in detail.title and "with someone unrecognised" in detail.title


def test_search_filters_cover_local_days_places_and_people() -> None:
    from app.web import SearchQuery, search_filter

    named = {"Gym": (48.842, 2.321, 80.0)}
    flt = search_filter(SearchQuery("x", date(2026, 3, 2), date(2026, 3, 3), "Gym", "biden"), CET, named)
    assert flt.after == datetime(2026, 3, 1, 23, 0, tzinfo=UTC) and flt.before == datetime(2026, 3, 3, 23, 0, tzinfo=UTC)
    assert flt.near == GeoPoint(48.842, 2.321) and flt.radius_m == 80.0 and flt.place_name is None and flt.people == ["biden"]
    flt = search_filter(SearchQuery(place="48.85300, 2.34990"), UTC)
    assert flt.near == GeoPoint(48.853, 2.3499) and flt.after is None and flt.before is None and flt.people is None
    assert search_filter(SearchQuery(place="Corner Shop"), UTC).place_name == "Corner Shop"
    with pytest.raises(EgomemError, match="backwards"):
        search_filter(SearchQuery(first=date(2026, 3, 3), last=date(2026, 3, 2)), UTC)


def test_search_ranking_drops_far_text_matches_and_day_summaries() -> None:
    from app.web import rank_hits

    t0 = datetime(2026, 3, 2, 7, 0, tzinfo=CET)
    a, b, c, d = (_event(i, t0) for i in range(4))
    summary = _event(9, t0, rec=DAY_SUMMARY_RECORDING)
    dense = [ScoredEvent(a, 0.52), ScoredEvent(summary, 0.5), ScoredEvent(b, 0.41), ScoredEvent(c, 0.2)]
    keyword = [ScoredEvent(d, 3.0), ScoredEvent(c, 1.5)]
    # Fused: a 0.52 (near in meaning), d 0.5 (best keyword match), c 0.25 + 0.2 (a keyword match is
    # kept with its meaning score however low), b 0.41; c alone (0.2) would be below the 0.364 floor.
    assert [e.id for e in rank_hits(dense, keyword, limit=10)] == [a.id, d.id, c.id, b.id]
    assert rank_hits([ScoredEvent(a, 0.12)], [], 10) == []  # nothing near enough: nothing shown
    assert len(rank_hits(dense, keyword, limit=2)) == 2


def test_times_typed_into_the_ui(tmp_path: Path) -> None:
    from app.web import parse_day, parse_moment, unique_path

    assert parse_day(" 2026-03-02 ") == date(2026, 3, 2) and parse_day("") is None and parse_day(None) is None
    with pytest.raises(EgomemError):
        parse_day("yesterday")
    assert parse_moment("2026-03-03T21:30", CET) == datetime(2026, 3, 3, 21, 30, tzinfo=CET)
    assert parse_moment("2026-03-03T21:30+00:00", CET) == datetime(2026, 3, 3, 21, 30, tzinfo=UTC)
    assert parse_moment("2026-03-03", UTC) == datetime(2026, 3, 3, 23, 59, 59, tzinfo=UTC)
    assert parse_moment(" ", UTC) is None
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "a-1.mp4").write_bytes(b"")
    assert unique_path(tmp_path, "a.mp4") == tmp_path / "a-2.mp4"
    assert unique_path(tmp_path, "../../evil.mp4") == tmp_path / "evil.mp4"


def test_people_cards_prefer_a_face_crop_and_fall_back_to_a_moment(tmp_path: Path) -> None:
    from app.web import person_card, person_choices

    crop = tmp_path / "0001.jpg"
    crop.write_bytes(b"jpeg")
    moment = tmp_path / "moment.jpg"
    seen = datetime(2026, 3, 3, 15, 39, tzinfo=CET)
    from egomem.people import PersonView

    view = PersonView("person-6", None, "observed", 2, [tmp_path / "gone.jpg", crop], 2, None, seen)
    card = person_card(view, UTC, moment)
    assert card.picture == crop and card.label == "unnamed (person-6)" and card.caption == "unnamed (person-6) · 2 moments, last 03 Mar"
    named = person_card(PersonView("person-2", "biden", "enrolled", 1, [], 1, None, None), UTC, moment)
    assert named.picture == moment and named.caption == "biden · 1 moment"
    heard = person_card(PersonView("person-7", None, "observed", 1, [], 1, None, None, heard_name="Ines"), UTC, moment)
    assert heard.label == "Ines (heard, not confirmed)"
    assert person_choices([card, named]) == [("unnamed (person-6)", "person-6"), ("biden (person-2)", "person-2")]


def test_uploads_are_saved_then_ingested_one_by_one_and_failures_say_why(tmp_path: Path) -> None:
    from app.web import UploadQueue, render_jobs

    dropped = []
    for name in ("walk.mp4", "broken.mp4"):
        (tmp_path / name).write_bytes(b"data of " + name.encode())
        dropped.append(tmp_path / name)

    def fake_ingest(path: Path, progress) -> tuple[str, str]:
        bar = progress(path.name, 10.0)
        bar.update(4.0)
        if "broken" in path.name:
            raise EgomemError(f"{path.name}: moov atom not found")
        bar.close()
        return "ingested", "3 events"

    rt = SimpleNamespace(settings=SimpleNamespace(home=tmp_path / "home"))
    uploads = UploadQueue(rt, threading.Lock(), ingest=fake_ingest)
    uploads.submit(dropped + [tmp_path / "never-written.mp4"])
    deadline = time.monotonic() + 10
    while uploads.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    jobs = {j.name: j for j in uploads.jobs()}
    assert (jobs["walk.mp4"].status, jobs["walk.mp4"].message, jobs["walk.mp4"].percent) == ("ingested", "3 events", 100)
    assert jobs["broken.mp4"].status == "failed" and "moov atom not found" in jobs["broken.mp4"].message
    assert jobs["never-written.mp4"].status == "failed" and "could not save" in jobs["never-written.mp4"].message
    assert (tmp_path / "home" / "uploads-web" / "walk.mp4").read_bytes() == b"data of walk.mp4"
    table = render_jobs(uploads.jobs())
    assert "moov atom not found" in table and "eg-failed" in table and "100%" in table


# -- in the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_memory(life_memory, models, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the ingested life, so naming someone here leaves the session's memory as it was."""
    from egomem.config import Settings
    from egomem.runtime import Runtime

    rt, _ = life_memory
    rt.store.shard.flush()
    home = tmp_path_factory.mktemp("web") / "home"
    shutil.copytree(rt.settings.home, home, ignore=shutil.ignore_patterns(".lock"))
    copy = Runtime(Settings.load(env={}, home=home), models)
    yield copy
    copy.close()


@pytest.fixture(scope="module")
def base_url(web_memory):
    from app.server import create_app

    app = create_app(web_memory)  # the service as `egomem serve` builds it: API, uploads, web app
    web_memory.text_embedder  # noqa: B018 - loaded before the first question, not during it
    with serving(app) as url:
        yield url + "/"


@pytest.fixture(scope="module")
def browser():
    # Both are installed by `make test`: a missing browser is a broken set-up, not a reason to skip.
    from playwright import sync_api

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing (apt install chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base_url, wait_until="domcontentloaded")
    page.wait_for_selector("#day-timeline .eg-row")  # the latest day is shown on load
    yield page
    context.close()
    assert not errors, errors


def _images_loaded(page, selector: str) -> int:
    """How many <img> under `selector` have loaded a real picture."""
    return page.evaluate(
        "(sel) => Array.from(document.querySelectorAll(sel + ' img')).filter(i => i.complete && i.naturalWidth > 0).length", selector
    )


def _wait_images(page, selector: str, at_least: int = 1) -> None:
    page.wait_for_function(
        "([sel, n]) => Array.from(document.querySelectorAll(sel + ' img')).filter(i => i.complete && i.naturalWidth > 0).length >= n",
        arg=[selector, at_least],
    )


def _settle(page) -> None:
    """Wait until Gradio has no event pending (its progress overlays are gone)."""
    page.wait_for_function("() => !document.querySelector('.eta-bar, .wrap.pending, .wrap.generating')")


def _squeeze(text: str) -> str:
    """Letters and digits only: OCR splits a sign into words, the timeline joins them with dots."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _name_form(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().lower()


def test_asking_a_who_question_answers_with_the_right_person_and_evidence_pictures(page, generated_life) -> None:
    from pipelines.qa_benchmark import read_questions

    folder, _ = generated_life
    question = next(q for q in read_questions(folder / "questions.jsonl") if q.choices and q.question.lower().startswith("who "))
    expected = question.choices[question.answer]

    page.get_by_role("tab", name="Ask").click()
    page.locator("#ask-question textarea").fill(question.question)
    page.get_by_text("Options").click()
    page.locator("#ask-as-of textarea").fill(question.query_time.isoformat())
    page.locator("#ask-send").click()
    bot = page.locator("#ask-chat [data-testid='bot']").last
    bot.wait_for()
    _wait_images(page, "#ask-evidence")
    _settle(page)
    answer = bot.inner_text()
    assert _name_form(expected) in _name_form(answer), f"asked {question.question!r}, expected {expected!r}, got {answer!r}"
    assert _images_loaded(page, "#ask-evidence") >= 1
    page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=True)

    # An evidence picture opens its moment in the Day tab.
    page.locator("#ask-evidence img").first.click()
    page.wait_for_selector("#day-timeline .eg-row.eg-selected")
    page.wait_for_function("() => /\\d\\d:\\d\\d/.test(document.querySelector('#detail-title').innerText)")
    _wait_images(page, "#detail-frames")
    _settle(page)
    assert page.locator("#day-timeline").is_visible()
    page.screenshot(path=str(ARTIFACTS / "ask-opens-moment.png"), full_page=True)


def test_a_day_of_the_life_shows_its_places_signs_and_pictures_and_a_moment_in_detail(page, generated_life, web_memory) -> None:
    from pipelines.daily_summary import resolve_timezone

    _, spec = generated_life
    tz = resolve_timezone(web_memory.settings.timezone)
    first_day = min(r.start.astimezone(tz).date() for r in spec.recordings)
    planned = [r for r in spec.videos if r.start.astimezone(tz).date() == first_day]
    assert planned

    page.locator("#day-picker input").click()
    page.get_by_role("option", name=re.compile(f"{first_day.day} {first_day:%B %Y}")).click()
    page.wait_for_function("(d) => document.querySelector('#day-summary').innerText.includes(d)", arg=f"{first_day:%A} {first_day.day} {first_day:%B}")
    _wait_images(page, "#day-timeline", len(planned))
    _settle(page)
    timeline = page.locator("#day-timeline").inner_text()
    for rec in planned:
        assert _squeeze(rec.sign_text) in _squeeze(timeline), f"{rec.file}: sign {rec.sign_text!r} not in the timeline"
        coordinates = f"{rec.place.lat:.5f},{rec.place.lon:.5f}"
        assert rec.place.name in timeline or coordinates in timeline, f"{rec.file}: place not in the timeline"
        assert f"{rec.start.astimezone(tz):%H:%M}" in timeline
    assert page.locator("#day-strip svg").count() == 1
    assert _images_loaded(page, "#day-timeline") >= len(planned)
    page.screenshot(path=str(ARTIFACTS / "day.png"), full_page=True)

    page.locator("#day-timeline .eg-row").first.click()
    page.wait_for_function("() => document.querySelector('#detail-transcript').innerText.includes('What was said')")
    _wait_images(page, "#detail-frames")
    _settle(page)
    said = page.locator("#detail-transcript").inner_text()
    assert re.search(r"\d\d:\d\d:\d\d", said), said
    assert _squeeze(planned[0].sign_text) in _squeeze(page.locator("#detail-seen").inner_text())
    page.screenshot(path=str(ARTIFACTS / "day-moment.png"), full_page=True)


def test_naming_the_stranger_in_people_relabels_the_day_timeline(page, generated_life, web_memory) -> None:
    from pipelines.daily_summary import resolve_timezone

    _, spec = generated_life
    tz = resolve_timezone(web_memory.settings.timezone)
    new_name = "Sam Stranger"

    page.get_by_role("tab", name="People").click()
    _wait_images(page, "#people-gallery")
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "people.png"), full_page=True)
    page.locator("#people-who input").click()
    unnamed = page.get_by_role("option", name=re.compile(r"^unnamed \(person-\d+\)$"))
    assert unnamed.count() == 1, page.get_by_role("option").all_inner_texts()  # only the stranger was never enrolled
    stranger_id = re.search(r"person-\d+", unnamed.inner_text()).group(0)
    unnamed.click()
    page.locator("#people-name textarea").fill(new_name)
    page.locator("#people-rename").click()
    page.wait_for_function("(n) => document.querySelector('#people-status').innerText.includes(n)", arg=new_name)
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "people-named.png"), full_page=True)

    # The stranger was at a shop on the last day too: the timeline of that day shows the new name.
    days_with_stranger = sorted({r.start.astimezone(tz).date() for r in spec.recordings if any(not spec.people[p].known for p in r.people)})
    assert days_with_stranger
    day = days_with_stranger[-1]
    page.get_by_role("tab", name="Day").click()
    page.locator("#day-picker input").click()
    page.get_by_role("option", name=re.compile(f"{day.day} {day:%B %Y}")).click()
    page.wait_for_function("(n) => document.querySelector('#day-timeline').innerText.includes(n)", arg=new_name)
    _settle(page)
    timeline = page.locator("#day-timeline").inner_text()
    assert new_name in timeline and stranger_id not in timeline
    page.screenshot(path=str(ARTIFACTS / "day-after-naming.png"), full_page=True)
