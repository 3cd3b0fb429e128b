"""The reference upload client (`egomem upload`) and the `egomem devices` commands.

The client sends a file in checksummed chunks and survives a dropped connection: after any
transport error it asks the server how many bytes it holds and goes on from there. Creating and
finishing are idempotent on the server, so they are simply retried.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import httpx

from egomem.errors import EgomemError

DEFAULT_CHUNK_SIZE = 4 << 20
TOKEN_ENV = "EGOMEM_UPLOAD_TOKEN"
_RETRY_STATUSES = frozenset({408, 423, 429, 500, 502, 503, 504})  # worth sending again after a pause
_CHUNK_RETRY_STATUSES = _RETRY_STATUSES | {409, 460}  # out of step, or damaged on the way: re-ask the offset
_FINAL_JOB_STATES = frozenset({"done", "failed"})


class UploadError(EgomemError):
    """The server refused the upload, or it could not be completed within the retries."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def upload(
    file: Path | str,
    server: str,
    token: str,
    *,
    recording_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    start: datetime | str | None = None,
    gps: list[dict[str, Any]] | None = None,
    device: str | None = None,
    retries: int = 5,
    backoff_s: float = 0.5,
    timeout_s: float = 60.0,
    wait_s: float = 0.0,
    transport: httpx.BaseTransport | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Upload one recording and return its ingest job (`GET /v1/jobs/{id}`).

    `retries` bounds consecutive failures (a chunk that lands resets the count). `wait_s` > 0 waits
    up to that long for the job to be done or failed. `transport` is for tests and proxies.
    """
    path = Path(file)
    size = path.stat().st_size
    if size == 0:
        raise UploadError(f"{path}: empty file, nothing to upload")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    whole = _sha256_file(path)
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError("start must carry a UTC offset")
        start = start.isoformat()
    body = {"recording_id": recording_id or whole[:32], "size": size, "filename": path.name, "sha256": whole,
            "start": start, "device": device, "gps": gps or []}
    body = {k: v for k, v in body.items() if v is not None}

    with httpx.Client(base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s,
                      transport=transport) as http:
        session = _Session(http, retries, backoff_s)
        status = session.call("POST", "/v1/recordings", json=body)
        upload_id = status["upload_id"]
        if status["state"] == "failed":
            raise UploadError(f"the server refused this recording earlier: {status.get('error')}", detail=status)
        offset = status["offset"]
        with path.open("rb") as handle:
            while status["state"] == "receiving" and offset < size:
                handle.seek(offset)
                chunk = handle.read(min(chunk_size, size - offset))
                checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
                headers = {"Upload-Offset": str(offset), "Upload-Checksum": f"sha256 {checksum}",
                           "Content-Type": "application/offset+octet-stream"}
                try:
                    reply = http.patch(f"/v1/recordings/{upload_id}", content=chunk, headers=headers)
                except httpx.TransportError as exc:
                    session.failed(f"connection lost while sending bytes {offset}-{offset + len(chunk)}: {exc}")
                    status = session.call("GET", f"/v1/recordings/{upload_id}")  # where to resume
                    offset = status["offset"]
                    continue
                if reply.status_code == 200:
                    status = reply.json()
                    offset = status["offset"]
                    session.succeeded()
                    if on_progress:
                        on_progress(offset, size)
                elif reply.status_code in _CHUNK_RETRY_STATUSES:
                    # Out of step (another attempt landed first) or a passing problem: ask and go on.
                    session.failed(_describe(reply))
                    status = session.call("GET", f"/v1/recordings/{upload_id}")
                    offset = status["offset"]
                else:
                    raise _refusal(reply)

        finished = session.call("POST", f"/v1/recordings/{upload_id}/finish")
        job = session.call("GET", f"/v1/jobs/{finished['job_id']}")
        deadline = time.monotonic() + wait_s
        while job["state"] not in _FINAL_JOB_STATES and time.monotonic() < deadline:
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
            job = session.call("GET", f"/v1/jobs/{finished['job_id']}")
        return job


class _Session:
    """Requests with bounded retries on transport errors and passing server problems."""

    def __init__(self, http: httpx.Client, retries: int, backoff_s: float) -> None:
        self.http = http
        self.retries = retries
        self.backoff_s = backoff_s
        self.failures = 0
        self.last_problem = ""

    def call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        while True:
            try:
                reply = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self.failed(f"{method} {url}: {exc}")
                continue
            if reply.status_code in _RETRY_STATUSES:
                self.failed(_describe(reply))
                continue
            if reply.is_success:
                return reply.json()
            raise _refusal(reply)

    def failed(self, problem: str) -> None:
        self.failures += 1
        self.last_problem = problem
        if self.failures > self.retries:
            raise UploadError(f"gave up after {self.retries} retries; last problem: {problem}")
        time.sleep(min(self.backoff_s * 2 ** (self.failures - 1), 10.0))

    def succeeded(self) -> None:
        self.failures = 0


def _describe(reply: httpx.Response) -> str:
    try:
        detail = reply.json().get("detail")
    except ValueError:
        detail = reply.text[:200]
    message = detail.get("message") if isinstance(detail, dict) else detail
    return f"HTTP {reply.status_code}: {message}"


def _refusal(reply: httpx.Response) -> UploadError:
    try:
        detail = reply.json().get("detail")
    except ValueError:
        detail = None
    return UploadError(f"the server refused the upload ({_describe(reply)})", reply.status_code, detail)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# -- command line -------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `egomem upload` and `egomem devices ...` to the CLI."""
    register_upload(subparsers)
    register_devices(subparsers)


def register_upload(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("upload", help="send a recording to an egomem server, resuming after interruptions")
    p.add_argument("file", type=Path)
    p.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8765")
    p.add_argument("--token", help=f"the device token (default: ${TOKEN_ENV}; keeps it out of shell history)")
    p.add_argument("--recording-id", help="default: the first 32 hex digits of the file's sha256")
    p.add_argument("--start", type=_aware_time, help="when the recording began (ISO 8601; a naive time is local time)")
    p.add_argument("--chunk-mib", type=float, default=DEFAULT_CHUNK_SIZE / (1 << 20), help="chunk size in MiB (default 4)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for the ingest to finish")
    p.set_defaults(handler=_upload)


def register_devices(subparsers: argparse._SubParsersAction) -> None:
    devices = subparsers.add_parser("devices", help="devices allowed to upload recordings").add_subparsers(metavar="ACTION")
    add = devices.add_parser("add", help="allow a device to upload; prints its token once")
    add.add_argument("name")
    add.add_argument("--replace", action="store_true", help="give an existing device a new token (the old one stops working)")
    add.set_defaults(handler=_devices_add)
    devices.add_parser("list", help="devices and when they were last seen").set_defaults(handler=_devices_list)
    revoke = devices.add_parser("revoke", help="stop a device's token from working")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_devices_revoke)


def _aware_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.astimezone()


def _upload(rt: Any, args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        print(f"egomem: give a device token with --token or ${TOKEN_ENV}", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        print(f"\r{done / total:6.1%} of {total} bytes", end="", file=sys.stderr, flush=True)

    job = upload(args.file, args.server, token, recording_id=args.recording_id, start=args.start,
                 chunk_size=max(1, int(args.chunk_mib * (1 << 20))), wait_s=args.wait, on_progress=progress)
    print(file=sys.stderr)
    print(f"uploaded {args.file} as {job['recording_id']}: job {job['id']} {job['state']}"
          + (f" ({job['result']})" if job.get("result") else "") + (f" - {job['error']}" if job.get("error") else ""))
    return 1 if job["state"] == "failed" else 0


def _registry(rt: Any):
    from egomem.store.devices import DeviceRegistry

    return DeviceRegistry(rt.settings.home / "devices.sqlite3")


def _devices_add(rt: Any, args: argparse.Namespace) -> int:
    registry = _registry(rt)
    try:
        token = registry.add(args.name, replace=args.replace)
    finally:
        registry.close()
    print(f"device {args.name!r} added. Its upload token (it will not be shown again; store it on the device now):")
    print(token)
    return 0


def _devices_list(rt: Any, args: argparse.Namespace) -> int:
    registry = _registry(rt)
    try:
        devices = registry.list()
    finally:
        registry.close()
    if not devices:
        print("no devices; add one with `egomem devices add NAME`")
    for d in devices:
        print(f"{d.name:24} added {d.created_at}  last seen {d.last_seen_at or 'never'}")
    return 0


def _devices_revoke(rt: Any, args: argparse.Namespace) -> int:
    registry = _registry(rt)
    try:
        removed = registry.revoke(args.name)
    finally:
        registry.close()
    if not removed:
        print(f"egomem: no device named {args.name!r}", file=sys.stderr)
        return 1
    print(f"device {args.name!r} revoked; its token no longer works")
    return 0
