"""A login for the service when it is reachable from other machines (`EGOMEM_AUTH`).

`EGOMEM_AUTH` holds `user:password`, or the path of a file whose first line holds it (so the secret
need not sit in the environment or a unit file). Loopback binds need no login; any other bind
refuses to start without one (`check_bind`).

With a login configured:

* the web UI uses Gradio's own login page (`gradio_auth`, passed to `gr.mount_gradio_app`);
* every other route of the FastAPI app (the JSON API under /v1, /thumbnails, /docs, and any route
  added later) asks for HTTP Basic (`install_auth`), except `/healthz` and the device-upload
  endpoints (`/v1/recordings*`, `/v1/jobs*`), which keep their own bearer device tokens.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from egomem.credentials import AUTH_ENV, Credentials, auth_from_env, parse_auth, resolve_auth
from egomem.errors import EgomemError

__all__ = ["AUTH_ENV", "Credentials", "auth_from_env", "check_bind", "install_auth", "is_loopback", "parse_auth", "resolve_auth"]

if TYPE_CHECKING:
    from fastapi import FastAPI

    from egomem.config import Settings

REALM = "egomem"
# Routes that stay open with a login configured: the health check (the summary job probes it), and
# the device-upload API, which authenticates each device by its own bearer token.
OPEN_PATHS = ("/healthz",)
DEVICE_TOKEN_PREFIXES = ("/v1/recordings", "/v1/jobs")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and the localhost names. Wildcards are not loopback."""
    name = (host or "").strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # any other host name may resolve to a public address
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def check_bind(host: str, auth: Credentials | str | None) -> None:
    """Refuse to serve beyond this machine without a login."""
    if is_loopback(host):
        return
    if isinstance(auth, str):
        auth = parse_auth(auth)
    if auth is None:
        raise EgomemError(
            f"refusing to listen on {host or 'all interfaces'} without a login: anyone who can reach it could read your memories. "
            f"Set {AUTH_ENV}=user:password (or the path of a file holding it), or bind to 127.0.0.1"
        )


# -- the web UI -----------------------------------------------------------------------------------


def gradio_auth(credentials: Credentials) -> Callable[[str, str], bool]:
    """The `auth=` callable for `gr.mount_gradio_app` (Gradio's login page and session cookie)."""
    return credentials.matches


# -- the JSON API ---------------------------------------------------------------------------------


def install_auth(app: FastAPI, settings: Settings | None = None, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Require HTTP Basic on the app's own routes when a login is configured; returns the login.

    Guarded: every route of `app` itself (also ones added after this call), except `OPEN_PATHS`
    and the device-token endpoints. Not guarded here: a mounted Gradio UI, which has its own login
    page (see `gradio_auth`). With no login configured nothing is installed.
    """
    credentials = resolve_auth(settings, env)
    if credentials is not None:
        app.add_middleware(BasicAuthMiddleware, credentials=credentials)
    return credentials


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, None when absent or malformed."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def needs_login(path: str) -> bool:
    """False for the routes that stay open or authenticate devices themselves."""
    if path in OPEN_PATHS:
        return False
    return not any(path == p or path.startswith(p + "/") for p in DEVICE_TOKEN_PREFIXES)


class BasicAuthMiddleware:
    """ASGI middleware: HTTP Basic in front of the parent app's own routes (not a mounted Gradio UI)."""

    def __init__(self, app: Any, credentials: Credentials) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket") or not needs_login(scope.get("path", "")) or not self._is_api(scope):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = basic_credentials(headers.get("authorization"))
        if given is not None and self.credentials.matches(*given):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": "login required: send HTTP Basic credentials (EGOMEM_AUTH)"}).encode()
        await send({
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
            ],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _is_api(scope: dict) -> bool:
        """Whether a route of the parent app (not a mounted Gradio UI) would answer this request."""
        from starlette.routing import Match, Mount

        app = scope.get("app")
        router = getattr(app, "router", None)
        if router is None:
            return True  # cannot tell: guard it
        for route in router.routes:
            if isinstance(route, Mount) and _is_gradio(route.app):
                continue
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return True
        return False


def _is_gradio(app: Any) -> bool:
    return type(app).__module__.split(".", 1)[0] == "gradio"
