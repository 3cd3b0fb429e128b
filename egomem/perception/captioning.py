"""Caption backends: turn what perception found in an event (and its keyframes) into one caption.

Three implementations behind one `Captioner` protocol:
- `ComposedCaptioner`: the v1 composed sentence; says only what was perceived, needs no model.
- `ClipTagCaptioner`: the composed sentence plus zero-shot CLIP scene tags of the keyframes.
- `OpenAICompatibleCaptioner`: a vision-language model behind an OpenAI-compatible
  `/chat/completions` endpoint (vLLM, Ollama, llama.cpp server, ...). Any item it cannot caption
  falls back to the composed sentence, so an unreachable server never loses an event.
"""

from __future__ import annotations

import base64
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Sequence, runtime_checkable

import numpy as np

from egomem.chat import ChatEndpoint, ChatFailure
from egomem.errors import ConfigError
from egomem.memory.caption import compose_caption
from egomem.memory.events import Event, Place, Quote

if TYPE_CHECKING:
    import httpx

    from egomem.perception.clip import ZeroShotTagger

log = logging.getLogger(__name__)

BACKENDS = ("composed", "clip-tags", "openai")


@dataclass
class CaptionInput:
    """What one event offers a captioner. Keyframes are BGR arrays (OpenCV's order)."""

    keyframes: list[np.ndarray] = field(default_factory=list)
    place: Place | None = None
    people: list[str] = field(default_factory=list)
    visible_text: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    # CLIP embeddings of the keyframes when the pipeline already has them: spares re-encoding for tags.
    image_embeddings: np.ndarray | None = None

    @classmethod
    def from_event(
        cls, event: Event, keyframes: Sequence[np.ndarray] = (), image_embeddings: np.ndarray | None = None
    ) -> "CaptionInput":
        return cls(
            keyframes=list(keyframes),
            place=event.place,
            people=list(event.people),
            visible_text=list(event.visible_text),
            quotes=list(event.quotes),
            tags=list(event.tags),
            start=event.start,
            end=event.end,
            image_embeddings=image_embeddings,
        )

    @property
    def transcript(self) -> str:
        return " ".join(q.text.strip() for q in self.quotes if q.text.strip())

    def composed(self, tags: Sequence[str] | None = None) -> str:
        """The v1 composed caption; exactly what the store recomposes when a person is renamed."""
        return compose_caption(self.place, self.people, self.visible_text, self.quotes, list(self.tags if tags is None else tags))


@runtime_checkable
class Captioner(Protocol):
    name: str
    uses_keyframes: bool  # whether `caption` looks at the keyframes' pixels (else callers need not read them)

    def describe(self) -> str: ...

    def caption(self, items: Sequence[CaptionInput]) -> list[str]:
        """One caption per item, in order. Never raises for a single item's failure."""
        ...


@dataclass(frozen=True)
class CaptionFailure:
    index: int  # position of the item in the batch
    reason: str
    attempts: int


class ComposedCaptioner:
    name = "composed"
    uses_keyframes = False

    def __init__(self, note: str | None = None) -> None:
        self.note = note  # why this backend stands in for the configured one, if it does

    def describe(self) -> str:
        base = "composed caption (place, people, seen text, speech)"
        return f"{base}; {self.note}" if self.note else base

    def caption(self, items: Sequence[CaptionInput]) -> list[str]:
        return [item.composed() for item in items]


class ClipTagCaptioner:
    """The composed caption with the keyframes' zero-shot scene tags ("Scene: kitchen, cooking.")."""

    name = "clip-tags"
    uses_keyframes = True  # tags keyframes that have no CLIP embedding yet

    def __init__(self, tagger: ZeroShotTagger) -> None:
        self.tagger = tagger

    def describe(self) -> str:
        return f"composed caption + {self.tagger.describe()}"

    def tags(self, item: CaptionInput) -> list[str]:
        """The item's own tags, then the zero-shot ones it lacks."""
        found = self.tagger.tag_scene(item.keyframes, item.image_embeddings)
        return list(dict.fromkeys([*item.tags, *found]))

    def caption(self, items: Sequence[CaptionInput]) -> list[str]:
        return [item.composed(self.tags(item)) for item in items]


SYSTEM_PROMPT = (
    "You caption moments from a person's first-person (wearable camera) recordings for their private memory search. "
    "Write one or two plain sentences describing only what is visible in the images and what is heard in the transcript. "
    "Use the place and people names exactly as given; do not guess names, places, feelings or intentions that are not "
    "shown or said. No lists, no preamble."
)
GIST_WORDS = 80  # transcript words sent to the model: enough for the topic, bounded prompt size


class OpenAICompatibleCaptioner:
    """A vision-language model behind `chat`, an OpenAI-compatible `/chat/completions` endpoint
    (vLLM at `http://localhost:8000/v1`, Ollama at `http://localhost:11434/v1`, ...).

    Items of a batch are sent concurrently, at most `max_concurrency` at a time; `chat` retries each
    on 408/429/5xx, timeouts and connection errors with exponential backoff. An item that still
    fails gets the composed caption, and `last_errors` says why.
    """

    name = "openai"
    uses_keyframes = True

    def __init__(
        self,
        chat: ChatEndpoint,
        *,
        max_concurrency: int = 4,
        max_images: int = 3,
        max_side: int = 512,
        max_tokens: int = 160,
        jpeg_quality: int = 85,
    ) -> None:
        if max_concurrency < 1 or max_images < 0 or max_side < 16:
            raise ConfigError(
                f"caption backend limits out of range: max_concurrency={max_concurrency}, max_images={max_images}, max_side={max_side}"
            )
        self.chat = chat  # the server, model, key, timeout and retries
        self.max_concurrency = max_concurrency
        self.max_images = max_images
        self.max_side = max_side
        self.max_tokens = max_tokens
        self.jpeg_quality = jpeg_quality
        self.last_errors: list[CaptionFailure] = []  # failures of the latest caption() call
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.chat.endpoint

    def describe(self) -> str:
        return (
            f"openai-compatible VLM {self.chat.model} at {self.chat.base_url} (timeout {self.chat.timeout_s:g}s, {self.chat.retries} retries, "
            f"{self.max_concurrency} concurrent, {self.max_images} images), composed caption on failure"
        )

    def caption(self, items: Sequence[CaptionInput]) -> list[str]:
        if not items:
            self.last_errors = []
            return []
        with self.chat.session(self.max_concurrency) as client:
            workers = min(self.max_concurrency, len(items))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="egomem-caption") as pool:
                outcomes = list(pool.map(lambda pair: self._caption_one(client, *pair), enumerate(items)))
        captions = [text for text, _ in outcomes]
        errors = [failure for _, failure in outcomes if failure is not None]
        with self._lock:
            self.last_errors = errors
        for failure in errors:
            log.warning("caption item %d fell back to the composed caption: %s", failure.index, failure.reason)
        return captions

    def request_body(self, item: CaptionInput) -> dict[str, Any]:
        """The chat-completions payload for one item (public so it can be inspected and tested)."""
        content: list[dict[str, Any]] = [{"type": "text", "text": self._context(item)}]
        for frame in _spread(item.keyframes, self.max_images):
            content.append({"type": "image_url", "image_url": {"url": self._data_uri(frame)}})
        return {
            "model": self.chat.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,  # captions are records, not prose: the most likely wording
            "stream": False,
        }

    # -- internals --------------------------------------------------------------------------------

    def _caption_one(self, client: httpx.Client, index: int, item: CaptionInput) -> tuple[str, CaptionFailure | None]:
        try:
            body = self.request_body(item)
        except Exception as exc:  # noqa: BLE001 - an unreadable keyframe must not lose the event
            return item.composed(), CaptionFailure(index, f"could not build the request: {exc}", 0)
        try:
            text = " ".join(self.chat.complete(client, body).split())
        except ChatFailure as failure:
            reason = failure.reason.replace("an empty answer", "an empty caption")
            return item.composed(), CaptionFailure(index, reason, failure.attempts)
        return text, None

    def _context(self, item: CaptionInput) -> str:
        lines: list[str] = []
        if item.start is not None:
            when = item.start.strftime("%Y-%m-%d %H:%M")
            lines.append(f"Time: {when}" + (f" to {item.end.strftime('%H:%M')}" if item.end is not None else ""))
        if item.place and (item.place.name or item.place.point):
            lines.append(f"Place: {item.place.label}")
        if item.people:
            lines.append(f"People recognised: {', '.join(item.people)}")
        if item.visible_text:
            lines.append("Text seen: " + "; ".join(f'"{t}"' for t in item.visible_text[:12]))
        if item.tags:
            lines.append(f"Scene tags: {', '.join(item.tags)}")
        words = item.transcript.split()
        if words:
            lines.append("Heard: " + " ".join(words[:GIST_WORDS]) + (" ..." if len(words) > GIST_WORDS else ""))
        else:
            lines.append("Heard: nothing (no speech)")
        images = min(len(item.keyframes), self.max_images)
        if images:
            lines.append(f"Caption this moment from the {images} keyframe(s) attached and the context above.")
        else:
            lines.append("No keyframes: caption from the context above.")
        return "\n".join(lines)

    def _data_uri(self, frame_bgr: np.ndarray) -> str:
        import cv2

        height, width = frame_bgr.shape[:2]
        scale = self.max_side / max(height, width)
        if scale < 1:  # vision models tile or resize large images anyway; smaller uploads are faster
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError(f"could not encode a {width}x{height} keyframe as JPEG")
        return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


def _spread(frames: Sequence[np.ndarray], count: int) -> list[np.ndarray]:
    """Up to `count` frames spread evenly over the event, first and last included."""
    if count <= 0 or not frames:
        return []
    if len(frames) <= count:
        return list(frames)
    if count == 1:
        return [frames[len(frames) // 2]]
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in dict.fromkeys(picks.tolist())]


def build_captioner(
    backend: str = "composed",
    *,
    url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    tagger: ZeroShotTagger | None = None,
    tagger_problem: str | None = None,
    timeout_s: float = 30.0,
    retries: int = 2,
    max_concurrency: int = 4,
    max_images: int = 3,
) -> Captioner:
    """The configured caption backend.

    "clip-tags" without a tagger (no CLIP weights) degrades to the composed caption and says so in
    `describe()`, so ingest still runs; a misconfigured "openai" backend is a `ConfigError`.
    """
    name = (backend or "composed").strip().lower()
    if name == "composed":
        return ComposedCaptioner()
    if name == "clip-tags":
        if tagger is None:
            return ComposedCaptioner(note=f"clip-tags unavailable: {tagger_problem or 'CLIP is not loaded'}")
        return ClipTagCaptioner(tagger)
    if name == "openai":
        chat = ChatEndpoint(
            url, model, api_key, timeout_s=timeout_s, retries=retries, what="the openai caption backend", setting="EGOMEM_CAPTION"
        )
        return OpenAICompatibleCaptioner(chat, max_concurrency=max_concurrency, max_images=max_images)
    raise ConfigError(f"caption backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
