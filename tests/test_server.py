"""The local service over real HTTP on loopback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from pipelines.ingest import Ingestor
from tests.serving import serving


@pytest.fixture(scope="module")
def server(models, tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    from app.server import create_app
    from egomem.config import Settings
    from egomem.runtime import Runtime

    rt = Runtime(Settings.load(env={}, home=tmp_path_factory.mktemp("served")), models)
    Ingestor(rt).ingest([shared_data / "media" / "jfk.flac"])
    with serving(create_app(rt)) as url:
        yield url, rt
    rt.close()


def test_ask_over_http_cites_the_moment(server) -> None:
    url, rt = server
    at = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    reply = httpx.post(f"{url}/v1/ask", json={"question": "What did the speaker say about my country?", "at": at}, timeout=60)
    assert reply.status_code == 200
    body = reply.json()
    assert not body["abstained"] and "country" in body["text"].lower()
    assert body["evidence"] and "country" in body["evidence"][0]["quote"].lower()
    day = body["evidence"][0]["start"][:10]
    events = httpx.get(f"{url}/v1/events", params={"day": day}, timeout=30).json()
    assert [e["id"] for e in events] == [body["evidence"][0]["event_id"]]


def test_a_multiple_choice_answer_over_http_is_the_one_the_cli_prints(server) -> None:
    url, rt = server
    at = datetime.now(timezone.utc) + timedelta(minutes=5)
    question, choices = "What did the speaker ask Americans to do?", {"A": "buy bread", "B": "ask what they can do for their country"}
    reply = httpx.post(f"{url}/v1/ask", json={"question": question, "at": at.isoformat(), "choices": choices}, timeout=60)
    body = reply.json()
    assert body["answer"] == "B" and set(body["choice_scores"]) == {"A", "B"}
    assert body["choice_scores"]["B"] > body["choice_scores"]["A"]
    assert body == rt.reasoner.ask(question, at, choices).to_json()  # one serialisation for both


def test_a_question_before_anything_was_recorded_has_no_memory(server) -> None:
    url, _ = server
    reply = httpx.post(f"{url}/v1/ask", json={"question": "What did the speaker say about my country?", "at": "2020-01-01T12:00:00+00:00"}, timeout=60)
    assert reply.json()["abstained"] is True


def test_status_and_bad_requests(server) -> None:
    url, _ = server
    status = httpx.get(f"{url}/v1/status", timeout=30).json()
    assert status["store"]["events"] == 1 and status["recordings"] == 1
    assert httpx.get(f"{url}/v1/events", params={"day": "yesterday"}, timeout=30).status_code == 422
    assert httpx.get(f"{url}/thumbnails/../../etc/passwd", timeout=30).status_code == 404


def test_the_web_app_is_served_beside_the_api(server) -> None:
    url, _ = server
    page = httpx.get(f"{url}/", timeout=30)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    assert httpx.get(f"{url}/healthz", timeout=30).json() == {"ok": True}  # not shadowed by the UI at "/"
    assert "/v1/recordings" in httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]


def test_serving_beyond_loopback_without_a_login_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from app.cli import main

    monkeypatch.delenv("EGOMEM_AUTH", raising=False)
    assert main(["--home", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "9"]) == 1
    err = capsys.readouterr().err
    assert "refusing to listen" in err and "EGOMEM_AUTH" in err


def test_with_a_login_the_api_needs_it(models, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.server import create_app
    from egomem.config import Settings
    from egomem.runtime import Runtime

    with Runtime(Settings.load(env={"EGOMEM_AUTH": "me:s3cret"}, home=tmp_path), models) as rt:
        client = TestClient(create_app(rt))
        assert client.get("/v1/status").status_code == 401
        assert client.get("/v1/status", auth=("me", "s3cret")).status_code == 200
        assert client.get("/config").status_code == 401  # the UI's own login guards its data
        assert client.get("/healthz").status_code == 200
