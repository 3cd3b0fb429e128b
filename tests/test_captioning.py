"""Caption backends and CLIP zero-shot tags.

The HTTP backend is tested against a fake OpenAI-compatible server on 127.0.0.1 (FastAPI + uvicorn
in a thread) that checks the request shape and answers from what it received; its URL path picks a
misbehaviour (slow, 503 once, 500 always, ...). CLIP runs with a tiny randomly initialised
architecture saved as a local checkpoint, as in test_clip.py: no weights are downloaded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from egomem.chat import ChatEndpoint
from egomem.errors import ConfigError, EgomemError
from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote
from egomem.perception.captioning import (
    Captioner,
    CaptionInput,
    ClipTagCaptioner,
    ComposedCaptioner,
    OpenAICompatibleCaptioner,
    build_captioner,
)
from egomem.perception.clip import ClipEmbedder, ClipSource, Vocabulary, ZeroShotTagger
from tests.serving import serving

MODEL = "fake-vlm-1"
KEY = "sekret-key"
T0 = datetime(2024, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2)))

@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours *_PROXY variables; requests to the fake server must go straight to 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


# -- fake OpenAI-compatible server ----------------------------------------------------------------


class FakeVLM:
    """Records every request; `/{mode}/v1/chat/completions` answers according to `mode`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{mode}/v1/chat/completions")
        async def chat(mode: str, request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append({"mode": mode, "headers": dict(request.headers), "body": body})
            self.calls[mode] += 1
            if mode == "auth" and request.headers.get("authorization") != f"Bearer {KEY}":
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            if mode == "broken":
                return JSONResponse({"error": {"message": "model crashed"}}, status_code=500)
            if mode == "flaky" and self.calls[mode] == 1:
                return JSONResponse({"error": {"message": "loading model"}}, status_code=503)
            if mode == "limited" and self.calls[mode] == 1:
                return JSONResponse({"error": {"message": "slow down"}}, status_code=429, headers={"Retry-After": "0"})
            if mode == "slow":
                await asyncio.sleep(1.0)  # well past the client's timeout
            if mode == "empty":
                return JSONResponse({"choices": [{"index": 0, "message": {"role": "assistant", "content": "  "}}]})
            # Only the concurrency test's own requests count: a timed-out "slow" request of an
            # earlier test may still be finishing its sleep on the server.
            counted = mode == "concurrent"
            if counted:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if counted:
                    await asyncio.sleep(0.25)
                problem, answer = _check_and_answer(body)
            finally:
                if counted:
                    self.in_flight -= 1
            if problem:
                return JSONResponse({"error": {"message": problem}}, status_code=400)
            return JSONResponse(
                {"id": "cmpl-1", "object": "chat.completion", "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}]}
            )  # fmt: skip

        return app


def _check_and_answer(body: dict[str, Any]) -> tuple[str, str]:
    """("", caption echoing the request) when the request has the chat-completions vision shape, else (problem, "")."""
    if body.get("model") != MODEL:
        return f"unknown model {body.get('model')!r}", ""
    messages = body.get("messages") or []
    if [m.get("role") for m in messages] != ["system", "user"] or "only what is visible" not in messages[0]["content"]:
        return "expected a system prompt then a user message", ""
    parts = messages[1]["content"]
    texts = [p["text"] for p in parts if p.get("type") == "text"]
    images = [p["image_url"]["url"] for p in parts if p.get("type") == "image_url"]
    if len(texts) != 1:
        return "expected one text part", ""
    for url in images:
        if not url.startswith("data:image/jpeg;base64,"):
            return "image_url is not a JPEG data URI", ""
        frame = cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        if frame is None or max(frame.shape[:2]) > 512:
            return "image is not a decodable JPEG of at most 512 px", ""
    seen = next((line for line in texts[0].splitlines() if line.startswith("Text seen:")), "no text")
    return "", f"[{len(images)} images] A person looks at a sign. {seen}"


@pytest.fixture(scope="module")
def fake_vlm() -> Iterator[tuple[FakeVLM, str]]:
    fake = FakeVLM()
    with serving(fake.app(), lifespan="off", timeout_graceful_shutdown=1) as url:
        yield fake, url


def _frame(color: tuple[int, int, int], size: tuple[int, int] = (720, 1280)) -> np.ndarray:
    frame = np.zeros((*size, 3), np.uint8)
    frame[:] = color
    cv2.putText(frame, "EXIT", (50, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 4, (255, 255, 255), 8)
    return frame


def _item(i: int = 0, frames: int = 2) -> CaptionInput:
    return CaptionInput(
        keyframes=[_frame((40 * k % 255, 90, 160)) for k in range(frames)],
        place=Place("Main Street Bakery"),
        people=["alice", "bob"],
        visible_text=[f"item-{i}", "OPEN 7-19"],
        quotes=[Quote(T0, T0 + timedelta(seconds=4), "Two croissants please, and a coffee.", "alice")],
        tags=["cafe"],
        start=T0,
        end=T0 + timedelta(minutes=3),
    )


def _captioner(url: str | None, model: str | None = MODEL, api_key: str | None = None, *, timeout_s: float = 30.0,
               retries: int = 2, backoff_s: float = 0.5, **limits: Any) -> OpenAICompatibleCaptioner:
    """The backend as `build_captioner` makes it, with the test's timings."""
    chat = ChatEndpoint(url, model, api_key, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s,
                        what="the openai caption backend", setting="EGOMEM_CAPTION")
    return OpenAICompatibleCaptioner(chat, **limits)


def _vlm(base: str, mode: str, **kwargs: Any) -> OpenAICompatibleCaptioner:
    kwargs = {"timeout_s": 5.0, "retries": 2, "backoff_s": 0.05, **kwargs}
    return _captioner(f"{base}/{mode}/v1", **kwargs)


# -- the OpenAI-compatible backend ----------------------------------------------------------------


def test_vlm_request_shape_and_answer(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    captioner = _vlm(base, "auth", api_key=KEY, max_images=3)
    item = _item(frames=5)
    [caption] = captioner.caption([item])
    assert captioner.last_errors == []
    # At most max_images keyframes, each a JPEG of at most 512 px (the server checks), and the context.
    assert caption == '[3 images] A person looks at a sign. Text seen: "item-0"; "OPEN 7-19"'
    request = fake.requests[-1]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    context = request["body"]["messages"][1]["content"][0]["text"]
    for expected in ("Main Street Bakery", "alice, bob", "Two croissants please", "Scene tags: cafe", "2024-05-01 10:30"):
        assert expected in context
    assert KEY not in captioner.describe() and MODEL in captioner.describe()
    assert isinstance(captioner, Captioner)


def test_vlm_without_key_sends_no_authorization_and_a_wrong_key_falls_back(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    [caption] = _vlm(base, "ok").caption([_item(frames=0)])
    assert caption.startswith("[0 images]")  # text-only requests are valid too
    assert "authorization" not in fake.requests[-1]["headers"]

    before = fake.calls["auth"]
    captioner = _vlm(base, "auth", api_key="wrong")
    [caption] = captioner.caption([_item()])
    assert fake.calls["auth"] - before == 1  # 401 is a configuration error: not retried
    assert caption == _item().composed()
    assert "HTTP 401" in captioner.last_errors[0].reason and "wrong" not in captioner.last_errors[0].reason


def test_vlm_timeout_is_retried_then_falls_back(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    captioner = _vlm(base, "slow", timeout_s=0.3, retries=1)
    started = time.monotonic()
    [caption] = captioner.caption([_item()])
    assert time.monotonic() - started < 2.0
    assert fake.calls["slow"] == 2  # the first try and one retry
    assert caption == _item().composed()  # the event keeps a caption
    [failure] = captioner.last_errors
    assert failure.index == 0 and failure.attempts == 2 and "timed out" in failure.reason


def test_vlm_503_once_is_retried_and_succeeds(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    for mode in ("flaky", "limited"):  # 503, then 429 with Retry-After
        captioner = _vlm(base, mode)
        [caption] = captioner.caption([_item(7)])
        assert fake.calls[mode] == 2 and captioner.last_errors == []
        assert "item-7" in caption and caption.startswith("[2 images]")


def test_vlm_500_always_falls_back_with_the_reason(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    captioner = _vlm(base, "broken", retries=2)
    items = [_item(0), _item(1)]
    captions = captioner.caption(items)
    assert captions == [items[0].composed(), items[1].composed()]
    assert fake.calls["broken"] == 6  # 2 items x (1 + 2 retries)
    assert [f.index for f in sorted(captioner.last_errors, key=lambda f: f.index)] == [0, 1]
    assert all("HTTP 500" in f.reason and "model crashed" in f.reason for f in captioner.last_errors)


def test_vlm_empty_answer_and_unreachable_server_fall_back(fake_vlm: tuple[FakeVLM, str]) -> None:
    _, base = fake_vlm
    captioner = _vlm(base, "empty")
    assert captioner.caption([_item()]) == [_item().composed()]
    assert "empty caption" in captioner.last_errors[0].reason

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    captioner = _captioner(f"http://127.0.0.1:{port}/v1", timeout_s=1.0, retries=1, backoff_s=0.01)
    assert captioner.caption([_item()]) == [_item().composed()]
    assert "connection failed" in captioner.last_errors[0].reason and captioner.last_errors[0].attempts == 2


def test_vlm_batch_runs_concurrently_and_keeps_order(fake_vlm: tuple[FakeVLM, str]) -> None:
    fake, base = fake_vlm
    fake.max_in_flight = 0
    captioner = _vlm(base, "concurrent", max_concurrency=3)
    captions = captioner.caption([_item(i, frames=1) for i in range(6)])  # the server holds each request 0.25 s
    assert captioner.last_errors == []
    assert [f"item-{i}" in c for i, c in enumerate(captions)] == [True] * 6  # answers in the items' order
    assert 2 <= fake.max_in_flight <= 3  # concurrent, and bounded by max_concurrency


def test_vlm_configuration_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match="needs a server URL"):
        build_captioner("openai", url=None, model=MODEL)
    with pytest.raises(ConfigError, match="http:// or https://"):
        build_captioner("openai", url="127.0.0.1:8000/v1", model=MODEL)
    with pytest.raises(ConfigError, match="model name"):
        build_captioner("openai", url="http://127.0.0.1:8000/v1", model="")
    with pytest.raises(ConfigError, match="out of range"):
        build_captioner("openai", url="http://127.0.0.1:8000/v1", model=MODEL, max_concurrency=0)
    assert build_captioner("openai", url="http://127.0.0.1:8000/v1/", model=MODEL).endpoint == "http://127.0.0.1:8000/v1/chat/completions"
    assert build_captioner("openai", url="http://127.0.0.1:8000/v1", model=MODEL).caption([]) == []


def test_vlm_keyframes_are_spread_and_downscaled() -> None:
    captioner = _captioner("http://127.0.0.1:9/v1", max_images=3)
    frames = [_frame((10 * k, 0, 0), size=(1080, 1920)) for k in range(7)]
    body = captioner.request_body(CaptionInput(keyframes=frames))
    urls = [p["image_url"]["url"] for p in body["messages"][1]["content"] if p["type"] == "image_url"]
    decoded = [cv2.imdecode(np.frombuffer(base64.b64decode(u.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR) for u in urls]
    assert [d.shape[:2] for d in decoded] == [(288, 512)] * 3
    assert [int(d[5, 5, 0]) // 10 for d in decoded] == [0, 3, 6]  # first, middle and last keyframe, roughly
    json.dumps(body)  # serialisable as is


# -- composed captioner and the factory -----------------------------------------------------------


def test_composed_caption_contains_the_inputs_and_matches_v1() -> None:
    item = _item(3)
    [caption] = ComposedCaptioner().caption([item])
    for expected in ("Main Street Bakery", "alice and bob", "item-3", "Two croissants please", "Scene: cafe"):
        assert expected in caption
    assert caption == compose_caption(item.place, item.people, item.visible_text, item.quotes, item.tags)


def test_caption_input_from_event() -> None:
    event = Event(
        id="e1", recording_id="r1", source="/x.mp4", start=T0, end=T0 + timedelta(minutes=2), place=Place("home"),
        people=["carol"], quotes=[Quote(T0, T0, "hello", None)], visible_text=["MILK"], tags=["kitchen"],
    )  # fmt: skip
    frame = _frame((0, 0, 0))
    item = CaptionInput.from_event(event, [frame])
    assert item.keyframes[0] is frame and item.start == T0 and item.transcript == "hello"
    expected = compose_caption(event.place, event.people, event.visible_text, event.quotes, event.tags)
    assert ComposedCaptioner().caption([item]) == [expected]


def test_build_captioner(fake_vlm: tuple[FakeVLM, str]) -> None:
    _, base = fake_vlm
    assert isinstance(build_captioner("composed"), ComposedCaptioner)
    fallback = build_captioner("clip-tags", tagger=None, tagger_problem="no CLIP weights configured")
    assert isinstance(fallback, ComposedCaptioner) and "no CLIP weights configured" in fallback.describe()
    vlm = build_captioner("openai", url=f"{base}/ok/v1", model=MODEL, api_key=KEY, timeout_s=3, retries=0, max_concurrency=2)
    assert isinstance(vlm, OpenAICompatibleCaptioner) and vlm.name == "openai" and vlm.chat.retries == 0
    with pytest.raises(EgomemError, match="needs a server URL"):
        build_captioner("openai", model=MODEL)
    with pytest.raises(ConfigError, match="composed, clip-tags, openai"):
        build_captioner("gpt")


# -- CLIP: text embeddings, zero-shot tags, the clip-tags captioner --------------------------------

@pytest.fixture(scope="module")
def embedder(tiny_checkpoint: Path) -> ClipEmbedder:
    return ClipEmbedder(ClipSource("egomem-tiny-vit", checkpoint=tiny_checkpoint), batch_size=4)


def _scenes() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [_frame((0, 0, 200), (90, 160)), _frame((0, 200, 0), (90, 160)), rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)]


def test_encode_texts_shapes_and_normalisation(embedder: ClipEmbedder) -> None:
    vectors = embedder.encode_texts(["a kitchen", "a gym", "a kitchen"])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[2] > 0.9999 and vectors[0] @ vectors[1] < 0.999
    assert embedder.encode_texts([]).shape == (0, 32)
    long = embedder.encode_texts(["a very long description " * 20])  # truncated to the context length, not an error
    assert long.shape == (1, 32)


def test_compile_is_only_used_on_cuda(embedder: ClipEmbedder) -> None:
    compiled = ClipEmbedder(embedder.source, compile=True)
    assert "compiled" not in compiled.describe()  # CPU: eager on purpose
    np.testing.assert_allclose(compiled.embed_images(_scenes()), embedder.embed_images(_scenes()), atol=1e-6)


def test_zero_shot_tags_come_from_the_vocabulary_and_are_deterministic(embedder: ClipEmbedder) -> None:
    tagger = ZeroShotTagger(embedder, margin=0.0, top_k=3, max_per_kind=1)
    assert len(tagger.labels) >= 55 and {"kitchen", "cooking", "laptop"} <= set(tagger.labels)
    assert tagger.text_embeddings.shape == (len(tagger.labels), 32)
    tags = tagger.tag_images(_scenes())
    assert len(tags) == 3 and all(1 <= len(t) <= 3 for t in tags)
    assert all(label in tagger.labels for t in tags for label in t)
    for ranked in tagger.rank(embedder.embed_images(_scenes())):
        kinds = [t.kind for t in ranked]
        assert len(kinds) == len(set(kinds))  # at most one place, one activity, one object
        assert [t.score for t in ranked] == sorted((t.score for t in ranked), reverse=True) and ranked[-1].score > 0
    assert ZeroShotTagger(embedder, margin=0.0).tag_images(_scenes()) == tags  # same weights, same tags
    # A label's own text embedding, used as an image embedding, is its best match.
    index = tagger.labels.index("supermarket")
    assert tagger.tag_embeddings(tagger.text_embeddings[index])[0][0] == "supermarket"
    # A high margin keeps nothing rather than inventing.
    assert ZeroShotTagger(embedder, margin=1.5).tag_images(_scenes()) == [[], [], []]


def test_vocabulary_extension_from_files(embedder: ClipEmbedder, tmp_path: Path) -> None:
    toml = tmp_path / "vocabulary.toml"
    toml.write_text(
        '[places]\nextra = ["Climbing Gym", "grandma\'s garden"]\nremove = ["hospital"]\n[objects]\nextra = ["ukulele"]\n'
    )
    vocabulary = Vocabulary.load(toml)
    assert "climbing gym" in vocabulary.places and "grandma's garden" in vocabulary.places and "hospital" not in vocabulary.places
    assert vocabulary.objects[-1] == "ukulele" and len(vocabulary.labels) == len(Vocabulary().labels) + 3 - 1

    text = tmp_path / "vocabulary.txt"
    text.write_text("# my things\nactivity: bouldering\nplace: climbing gym\nsourdough starter\n\n")
    vocabulary = Vocabulary.load(text, base=vocabulary)
    assert "bouldering" in vocabulary.activities and "sourdough starter" in vocabulary.objects
    assert vocabulary.places.count("climbing gym") == 1

    tagger = ZeroShotTagger(embedder, vocabulary, margin=0.0)
    for label, kind in (("climbing gym", "places"), ("bouldering", "activities"), ("ukulele", "objects")):
        [ranked] = tagger.rank(tagger.text_embeddings[tagger.labels.index(label)])
        assert (ranked[0].label, ranked[0].kind) == (label, kind)  # the new labels are taggable

    bad = tmp_path / "bad.toml"
    bad.write_text('[planets]\nextra = ["mars"]\n')
    with pytest.raises(ConfigError, match="unknown sections"):
        Vocabulary.load(bad)
    with pytest.raises(ConfigError, match="vocabulary file"):
        Vocabulary.load(tmp_path / "missing.toml")


def test_clip_tag_captioner(embedder: ClipEmbedder) -> None:
    tagger = ZeroShotTagger(embedder, margin=0.0)
    captioner = ClipTagCaptioner(tagger)
    item = _item(5)
    item.keyframes = _scenes()
    [caption] = captioner.caption([item])
    for expected in ("Main Street Bakery", "alice and bob", "item-5", "Two croissants please"):
        assert expected in caption
    tags = captioner.tags(item)
    assert tags[0] == "cafe" and len(tags) > 1 and all(t in tagger.labels for t in tags)
    assert f"Scene: {', '.join(tags)}." in caption
    # Precomputed keyframe embeddings give the same tags without re-encoding.
    item.image_embeddings = embedder.embed_images(item.keyframes)
    item.keyframes = []
    assert captioner.caption([item]) == [caption]
    assert "zero-shot" in captioner.describe() and captioner.name == "clip-tags"
