"""The service's login (`EGOMEM_AUTH`): parsed here so that the service and the jobs that call it agree.

`EGOMEM_AUTH` (or the `auth` setting) holds `user:password`, or the path of a file whose first line
holds it, so the secret need not sit in the environment or a unit file.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from egomem.errors import ConfigError

if TYPE_CHECKING:
    from egomem.config import Settings

AUTH_ENV = "EGOMEM_AUTH"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)

    def matches(self, user: str | None, password: str | None) -> bool:
        """Constant-time comparison of both parts (no early exit on a wrong user name)."""
        user_ok = hmac.compare_digest((user or "").encode(), self.user.encode())
        password_ok = hmac.compare_digest((password or "").encode(), self.password.encode())
        return user_ok and password_ok

    def basic_header(self) -> str:
        """The `Authorization` value a client of the service sends."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


# -- configuration ------------------------------------------------------------------------------


def parse_auth(value: str | None) -> Credentials | None:
    """`user:password`, or a path to a file whose first non-empty line is `user:password`.

    None or blank means no login. A value that names an existing file is always read as a file;
    one that looks like a path (starts with / ~ or .) but names no file is an error, never a user.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    candidate = Path(raw).expanduser()
    if candidate.is_file():
        try:
            lines = [line.strip() for line in candidate.read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{AUTH_ENV}: cannot read {candidate}: {exc}") from exc
        text = next((line for line in lines if line), "")
        return _split(text, where=str(candidate))
    if raw.startswith(("/", "~", "./", "../")):
        raise ConfigError(f"{AUTH_ENV}: no such file {candidate}; give user:password or the path of a file holding it")
    return _split(raw, where=AUTH_ENV)


def _split(text: str, where: str) -> Credentials:
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError(f"{where}: expected user:password (a non-empty user name, a colon, a non-empty password)")
    return Credentials(user.strip(), password)


def auth_from_env(env: Mapping[str, str] | None = None) -> Credentials | None:
    """The login configured in `EGOMEM_AUTH` of `env` (default: the process environment)."""
    env = os.environ if env is None else env
    return parse_auth(env.get(AUTH_ENV))


def resolve_auth(settings: Settings | None = None, env: Mapping[str, str] | None = None) -> Credentials | None:
    """The configured login: `settings.auth` when Settings has that field and it is set, else `EGOMEM_AUTH`."""
    configured = getattr(settings, "auth", None) if settings is not None else None
    if configured:
        return parse_auth(str(configured))
    return auth_from_env(env)
