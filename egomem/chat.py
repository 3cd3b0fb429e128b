"""A client for OpenAI-compatible `/chat/completions` endpoints (vLLM, Ollama, llama.cpp server, ...).

Shared by the models egomem can use over HTTP (the caption backend, the LLM reader): URL and model
checks with errors that name the setting to fix, and one request with retries on what retrying can
cure (timeouts, dropped connections, 408/429/5xx, honouring Retry-After).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from egomem.errors import ConfigError

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx: overloaded or restarting servers
MAX_BACKOFF_S = 10.0


class ChatFailure(Exception):
    """A request that did not yield an answer; `reason` says why, `attempts` how often it was tried."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class ChatEndpoint:
    """One model behind `POST {base_url}/chat/completions`. `base_url` includes the API prefix (`/v1`)."""

    def __init__(
        self,
        base_url: str | None,
        model: str | None,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        what: str = "the LLM reader",  # named in errors, with the settings to fix
        setting: str = "EGOMEM_LLM",  # prefix of those settings: {setting}_URL, {setting}_MODEL
    ) -> None:
        if not base_url or not base_url.strip():
            raise ConfigError(f"{what} needs a server URL: set {setting}_URL (e.g. http://localhost:8000/v1)")
        base_url = base_url.strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{setting}_URL must start with http:// or https://, not {base_url!r}")
        if not model or not model.strip():
            raise ConfigError(f"{what} needs a model name: set {setting}_MODEL (as the server names it)")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ConfigError(f"{what}: limits out of range: timeout_s={timeout_s}, retries={retries}")
        self.base_url = base_url
        self.model = model.strip()
        self._api_key = api_key or None  # kept private: never shown by describe() or in errors
        self.timeout_s = float(timeout_s)
        self.retries = retries
        self.backoff_s = backoff_s

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    @contextmanager
    def session(self, max_connections: int = 1) -> Iterator[httpx.Client]:
        """An HTTP client for a batch of requests (kept-alive connections, the key as a bearer token)."""
        import httpx

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        # The connect phase gets a short limit of its own: a server that is down should fail fast.
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 5.0))
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        with httpx.Client(timeout=timeout, limits=limits, headers=headers) as client:
            yield client

    def complete(self, client: httpx.Client, body: dict[str, Any]) -> str:
        """The answer's text, retried on what retrying can cure; raises ChatFailure."""
        import httpx

        reason = "not attempted"
        attempt = 0
        for attempt in range(1, self.retries + 2):
            retry_after: float | None = None
            try:
                response = client.post(self.endpoint, json=body)
            except httpx.TimeoutException as exc:
                reason = f"timed out ({type(exc).__name__}, limit {self.timeout_s:g}s)"
            except httpx.TransportError as exc:
                reason = f"connection failed: {type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 200:
                    text, problem = _read_content(response)
                    if text:
                        return text
                    raise ChatFailure(problem, attempt)  # well-formed but useless: the same request won't do better
                reason = f"HTTP {status}: {response.text[:200].strip()}"
                if status not in RETRY_STATUSES and status < 500:
                    break  # 400/401/404: the request or the configuration is wrong, retrying won't help
                retry_after = _retry_after(response)
            if attempt <= self.retries:
                time.sleep(min(MAX_BACKOFF_S, retry_after if retry_after is not None else self.backoff_s * 2 ** (attempt - 1)))
        raise ChatFailure(reason, attempt)


def _read_content(response: httpx.Response) -> tuple[str, str]:
    """(text, "") from a chat-completions answer, or ("", why not)."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "", f"malformed answer: {response.text[:200].strip()}"
    if isinstance(content, list):  # some servers answer with content parts
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    text = str(content or "").strip()
    return (text, "") if text else ("", "the model returned an empty answer")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: fall back to exponential backoff
