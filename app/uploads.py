"""The upload API for wearables and phones: resumable, chunked, authenticated per device.

Modelled on tus (https://tus.io), with JSON where that is simpler:

    POST   /v1/recordings                 create (or find again, by the client's recording_id) an upload
    HEAD   /v1/recordings/{id}            Upload-Offset / Upload-Length headers: where to resume
    GET    /v1/recordings/{id}            the same as JSON
    PATCH  /v1/recordings/{id}            append one chunk at Upload-Offset, optionally with Upload-Checksum
    POST   /v1/recordings/{id}/finish     check the bytes are media, file them, queue an ingest job
    GET    /v1/jobs/{job_id}              the job's state, result or error

A chunk is acknowledged (and the offset moves) only after it is on disk (written and fsynced). A
chunk cut short by a dropped connection is discarded whole, so after any failure the client asks
for the offset and resends from there. Nothing the client says about the file is trusted: the size
is enforced while the bytes arrive, and the kind of file is sniffed from its content at finish.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import uuid
import weakref
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field
from starlette.requests import ClientDisconnect

from egomem.errors import MediaError
from egomem.files import fsync_dir, write_atomic
from egomem.media.probe import MediaInfo, probe
from egomem.media.recording import MediaKind
from egomem.runtime import Runtime
from egomem.store.devices import DEVICE_NAME, Device, DeviceRegistry
from pipelines.jobs import JobQueue, Worker, ingest_with_metadata

if TYPE_CHECKING:
    from fastapi import FastAPI

DEFAULT_MAX_BYTES = 8 << 30  # 8 GiB: a day of wearable audio, or a long phone video
HTTP_CHECKSUM_MISMATCH = 460  # tus's status for "the chunk's checksum does not match"
RECORDING_ID = r"^[A-Za-z0-9_-]{1,64}$"
_WRITE_BATCH = 1 << 20  # collect this much of a streamed body before each (threaded) disk write
_LOCK_WAIT_S = 30.0
_HASH_CHUNK = 1 << 20
_CHECKSUM_HEADER = re.compile(r"^\s*(?P<algo>[A-Za-z0-9-]+)\s+(?P<value>[A-Za-z0-9+/=]+)\s*$")


# -- request and response bodies ----------------------------------------------------------------


class GpsFix(BaseModel):
    t: AwareDatetime = Field(description="when the position was taken, ISO 8601 with a UTC offset")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class CreateUpload(BaseModel):
    recording_id: str = Field(pattern=RECORDING_ID, description="chosen by the client; creating it again returns the same upload")
    size: int = Field(gt=0, description="the whole file's length in bytes")
    filename: str = Field(min_length=1, max_length=255, description="the name on the device; informative only")
    start: AwareDatetime | None = Field(None, description="when the recording began, ISO 8601 with a UTC offset")
    device: str | None = Field(None, pattern=DEVICE_NAME.pattern, description="recorded by; defaults to the token's device")
    gps: list[GpsFix] = Field(default_factory=list, max_length=200_000, description="GPS track, any order")
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$", description="of the whole file, checked at finish")


class UploadState(str, Enum):
    RECEIVING = "receiving"
    FINISHED = "finished"  # filed and handed to the ingest queue
    FAILED = "failed"  # refused at finish (not media); the bytes are gone


class UploadStatus(BaseModel):
    upload_id: str
    recording_id: str
    size: int
    offset: int = Field(description="bytes received and stored; the next chunk starts here")
    state: UploadState
    job_id: str | None = None
    error: str | None = None


class FinishResult(BaseModel):
    upload_id: str
    recording_id: str
    job_id: str
    state: str = Field(description="the ingest job's state: queued, running, done or failed")


class JobStatus(BaseModel):
    id: str
    state: str
    error: str | None
    result: str | None
    recording_id: str
    upload_id: str
    created_at: str
    updated_at: str


def _problem(code: int, error: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> HTTPException:
    """An HTTP error whose JSON detail says what went wrong (`error`, stable) and what to do (`message`)."""
    return HTTPException(code, detail={"error": error, "message": message, **extra}, headers=headers)


# -- the uploads table ---------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,            -- the authenticated device; only it may see or touch the upload
    recording_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    offset INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    target TEXT,                    -- where the finished file goes, decided once it is sniffed
    job_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, recording_id)
);
CREATE INDEX IF NOT EXISTS uploads_job ON uploads (job_id);
"""


@dataclass(frozen=True)
class _Upload:
    id: str
    owner: str
    recording_id: str
    size: int
    offset: int
    state: UploadState
    metadata: dict[str, Any]
    target: str | None
    job_id: str | None
    error: str | None

    def public(self) -> UploadStatus:
        return UploadStatus(
            upload_id=self.id, recording_id=self.recording_id, size=self.size, offset=self.offset,
            state=self.state, job_id=self.job_id, error=self.error,
        )

    def headers(self) -> dict[str, str]:
        return {"Upload-Offset": str(self.offset), "Upload-Length": str(self.size), "Cache-Control": "no-store"}


class _UploadTable:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged offset must survive a power cut
        self._db.executescript(_SCHEMA)

    def create(self, owner: str, body: CreateUpload) -> tuple[_Upload, bool]:
        """The upload for (owner, recording_id), created if new; the flag says whether it was."""
        metadata = {
            "filename": body.filename,
            "start": body.start.isoformat() if body.start else None,
            "device": body.device or owner,
            "gps": [{"t": f.t.isoformat(), "lat": f.lat, "lon": f.lon} for f in sorted(body.gps, key=lambda f: f.t)],
            "sha256": body.sha256.lower() if body.sha256 else None,
        }
        now = _now()
        with self._lock, self._db:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO uploads (id, owner, recording_id, size, state, metadata, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (uuid.uuid4().hex, owner, body.recording_id, body.size, UploadState.RECEIVING.value, json.dumps(metadata), now, now),
            ).rowcount
            row = self._db.execute("SELECT * FROM uploads WHERE owner = ? AND recording_id = ?", (owner, body.recording_id)).fetchone()
        return _upload(row), bool(inserted)

    def get(self, upload_id: str) -> _Upload | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def by_job(self, job_id: str) -> _Upload | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM uploads WHERE job_id = ?", (job_id,)).fetchone()
        return _upload(row) if row else None

    def advance(self, upload_id: str, old: int, new: int) -> bool:
        """Move the offset from old to new; False when someone else moved it first."""
        return self._update(upload_id, "offset = ?", (new,), "offset = ? AND state = ?", (old, UploadState.RECEIVING.value))

    def set(self, upload_id: str, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = tuple(v.value if isinstance(v, Enum) else v for v in fields.values())
        self._update(upload_id, assignments, values, "1", ())

    def delete(self, upload_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _update(self, upload_id: str, assignments: str, values: tuple, condition: str, condition_values: tuple) -> bool:
        with self._lock, self._db:
            return self._db.execute(
                f"UPDATE uploads SET {assignments}, updated_at = ? WHERE id = ? AND {condition}",
                (*values, _now(), upload_id, *condition_values),
            ).rowcount > 0


def _upload(row: sqlite3.Row) -> _Upload:
    return _Upload(
        id=row["id"], owner=row["owner"], recording_id=row["recording_id"], size=row["size"], offset=row["offset"],
        state=UploadState(row["state"]), metadata=json.loads(row["metadata"]), target=row["target"],
        job_id=row["job_id"], error=row["error"],
    )


class _Locks:
    """One asyncio lock per upload: a chunk and a finish for the same upload never run at once."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, upload: _Upload) -> AsyncIterator[None]:
        lock = self._locks.get(upload.id)
        if lock is None:
            lock = self._locks[upload.id] = asyncio.Lock()
        try:
            await asyncio.wait_for(lock.acquire(), _LOCK_WAIT_S)
        except TimeoutError:
            raise _problem(423, "upload_busy", "another request is still writing to this upload; ask for the offset and retry",
                           upload.headers()) from None
        try:
            yield
        finally:
            lock.release()


# -- the router ---------------------------------------------------------------------------------


def create_upload_router(
    rt: Runtime,
    queue: JobQueue,
    devices: DeviceRegistry,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    uploads_dir: Path,
    idle_timeout_s: float = 60.0,
) -> APIRouter:
    """The /v1/recordings and /v1/jobs endpoints. Partial uploads live in `uploads_dir`."""
    uploads_dir = Path(uploads_dir)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    table = _UploadTable(uploads_dir / "uploads.sqlite3")
    locks = _Locks()
    recordings_dir = rt.settings.home / "recordings"
    bearer = HTTPBearer(auto_error=False, description="a device token from `egomem devices add NAME`")
    router = APIRouter(tags=["uploads"])

    # Dependencies are given as defaults, not Annotated aliases: with postponed annotations FastAPI
    # resolves annotation strings in the module's globals, where these closures do not exist.
    def device(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Device:
        if credentials is None:
            raise _problem(401, "unauthorized", "send `Authorization: Bearer <token>`; `egomem devices add NAME` makes a token",
                           {"WWW-Authenticate": "Bearer"})
        found = devices.authenticate(credentials.credentials)
        if found is None:
            raise _problem(401, "invalid_token", "this token is unknown or was revoked",
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return found

    def owned(upload_id: str, who: Device) -> _Upload:
        upload = table.get(upload_id)
        if upload is None or upload.owner != who.name:  # another device's upload does not exist for you
            raise _problem(404, "no_such_upload", f"no upload {upload_id} for device {who.name}; create it with POST /v1/recordings")
        return upload

    def partial_path(upload: _Upload) -> Path:
        return uploads_dir / f"{upload.id}.part"

    @router.post("/v1/recordings", response_model=UploadStatus, status_code=201,
                 responses={200: {"model": UploadStatus, "description": "the upload already existed"},
                            409: {"description": "recording_id already used for a different file"},
                            413: {"description": "larger than the server accepts"}})
    def create(body: CreateUpload, response: Response, who: Device = Depends(device)) -> UploadStatus:
        if body.size > max_bytes:
            raise _problem(413, "too_large", f"{body.size} bytes is more than this server accepts ({max_bytes} bytes)", max_bytes=max_bytes)
        upload, created = table.create(who.name, body)
        if not created:
            same = upload.size == body.size and (body.sha256 is None or upload.metadata.get("sha256") in (None, body.sha256.lower()))
            if not same:
                raise _problem(409, "recording_id_taken",
                               f"recording_id {body.recording_id} is already an upload of a different file ({upload.size} bytes); use another id",
                               upload_id=upload.id)
            response.status_code = 200
        else:
            free = shutil.disk_usage(uploads_dir).free
            if free < body.size:
                table.delete(upload.id)
                raise _problem(507, "insufficient_storage", f"the server has {free} bytes free, not enough for {body.size}")
            partial_path(upload).touch()
        response.headers.update(upload.headers())
        response.headers["Location"] = f"/v1/recordings/{upload.id}"
        return upload.public()

    @router.head("/v1/recordings/{upload_id}", response_class=Response,
                 responses={200: {"description": "Upload-Offset and Upload-Length headers"}})
    def offset_headers(upload_id: str, who: Device = Depends(device)) -> Response:
        upload = owned(upload_id, who)
        return Response(status_code=200, headers={**upload.headers(), "Upload-State": upload.state.value})

    @router.get("/v1/recordings/{upload_id}", response_model=UploadStatus)
    def upload_status(upload_id: str, response: Response, who: Device = Depends(device)) -> UploadStatus:
        upload = owned(upload_id, who)
        response.headers.update(upload.headers())
        return upload.public()

    @router.patch(
        "/v1/recordings/{upload_id}",
        response_model=UploadStatus,
        responses={409: {"description": "Upload-Offset is not the current offset (detail.offset is)"},
                   413: {"description": "the chunk goes past the declared size"},
                   HTTP_CHECKSUM_MISMATCH: {"description": "the chunk does not match Upload-Checksum; nothing was stored"}},
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
    )
    async def append(
        upload_id: str,
        request: Request,
        response: Response,
        upload_offset: int = Header(alias="Upload-Offset", ge=0, description="where this chunk starts"),
        upload_checksum: str | None = Header(None, alias="Upload-Checksum", description="`sha256 <base64 digest>` of this chunk"),
        content_length: int | None = Header(None, alias="Content-Length"),
        who: Device = Depends(device),
    ) -> UploadStatus:
        expected = _parse_checksum(upload_checksum) if upload_checksum else None
        upload = await anyio.to_thread.run_sync(owned, upload_id, who)
        _check_receiving(upload, upload_offset)
        if content_length is not None and upload_offset + content_length > upload.size:
            raise _problem(413, "beyond_size", f"this chunk would end at byte {upload_offset + content_length}, past the declared size {upload.size}",
                           upload.headers(), offset=upload.offset)
        async with locks.hold(upload):
            upload = await anyio.to_thread.run_sync(owned, upload_id, who)  # another chunk may have landed while we waited
            _check_receiving(upload, upload_offset)
            new_offset = await _receive_chunk(request, partial_path(upload), upload, expected, idle_timeout_s, table)
            if not await anyio.to_thread.run_sync(table.advance, upload.id, upload.offset, new_offset):
                raise _problem(409, "offset_mismatch", "the upload changed while this chunk was written; ask for the offset", upload.headers())
            upload = await anyio.to_thread.run_sync(owned, upload_id, who)
        response.headers.update(upload.headers())
        return upload.public()

    @router.post(
        "/v1/recordings/{upload_id}/finish",
        response_model=FinishResult,
        status_code=202,
        responses={200: {"model": FinishResult, "description": "already finished: the same job"},
                   409: {"description": "not all bytes have arrived (detail.offset says how many have)"},
                   415: {"description": "the bytes are not a recording egomem can read; the upload is failed and deleted"},
                   HTTP_CHECKSUM_MISMATCH: {"description": "the file does not match the sha256 given at create; it was reset to offset 0"}},
    )
    async def finish(upload_id: str, response: Response, who: Device = Depends(device)) -> FinishResult:
        upload = await anyio.to_thread.run_sync(owned, upload_id, who)
        async with locks.hold(upload):
            upload = await anyio.to_thread.run_sync(owned, upload_id, who)
            if upload.state is UploadState.FINISHED and upload.job_id:
                response.status_code = 200
                return await anyio.to_thread.run_sync(_finished, upload)
            return await anyio.to_thread.run_sync(_file_and_queue, upload)

    def _finished(upload: _Upload) -> FinishResult:
        job = queue.get(upload.job_id or "")
        return FinishResult(upload_id=upload.id, recording_id=upload.recording_id, job_id=upload.job_id or "",
                            state=job.state.value if job else "unknown")

    def _file_and_queue(upload: _Upload) -> FinishResult:
        if upload.state is UploadState.FAILED:
            raise _problem(415, "not_media", upload.error or "the upload was refused", upload.headers())
        if upload.offset != upload.size:
            raise _problem(409, "incomplete", f"{upload.offset} of {upload.size} bytes have arrived; send the rest first",
                           upload.headers(), offset=upload.offset)
        partial = partial_path(upload)
        target = Path(upload.target) if upload.target else None
        # A finish interrupted after the move (crash, lost response) resumes from the filed copy.
        if not (target is not None and target.is_file() and not partial.exists()):
            sha = upload.metadata.get("sha256")
            if sha and _sha256_file(partial) != sha:
                os.truncate(partial, 0)
                table.set(upload.id, offset=0)
                raise _problem(HTTP_CHECKSUM_MISMATCH, "checksum_mismatch",
                               "the file's sha256 is not the one given at create; the upload was reset, send it again from offset 0",
                               {"Upload-Offset": "0", "Upload-Length": str(upload.size)}, offset=0)
            try:
                suffix = sniff_media(partial)
            except MediaError as exc:
                partial.unlink(missing_ok=True)  # refused bytes are not kept
                reason = f"not a recording egomem can read: {exc.reason}"
                table.set(upload.id, state=UploadState.FAILED, error=reason)
                raise _problem(415, "not_media", reason, upload.headers()) from None
            target = recordings_dir / upload.owner / f"{upload.recording_id}{suffix}"
            table.set(upload.id, target=str(target))
            target.parent.mkdir(parents=True, exist_ok=True)
            sidecar = {**upload.metadata, "recording_id": upload.recording_id, "upload_id": upload.id,
                       "uploaded_by": upload.owner, "size": upload.size, "received_at": _now()}
            write_atomic(target.with_name(target.name + ".json"), json.dumps(sidecar, indent=2).encode())
            os.replace(partial, target)
            fsync_dir(target.parent)
        metadata = {"recording_id": upload.recording_id, "device": upload.metadata.get("device"),
                    "start": upload.metadata.get("start"), "gps": upload.metadata.get("gps", [])[:1],
                    "sidecar": str(target.with_name(target.name + ".json"))}  # the whole GPS track is in the sidecar
        job_id = queue.enqueue(upload.id, target, metadata)  # idempotent per upload
        table.set(upload.id, state=UploadState.FINISHED, job_id=job_id)
        return _finished(table.get(upload.id) or upload)

    @router.get("/v1/jobs/{job_id}", response_model=JobStatus)
    def job_status(job_id: str, who: Device = Depends(device)) -> JobStatus:
        upload = table.by_job(job_id)
        job = queue.get(job_id) if upload is not None and upload.owner == who.name else None
        if job is None:
            raise _problem(404, "no_such_job", f"no job {job_id} for device {who.name}")
        return JobStatus(id=job.id, state=job.state.value, error=job.error, result=job.result, recording_id=upload.recording_id,
                         upload_id=upload.id, created_at=job.created_at, updated_at=job.updated_at)

    return router


def _check_receiving(upload: _Upload, offset: int) -> None:
    if upload.state is not UploadState.RECEIVING:
        raise _problem(409, f"upload_{upload.state.value}", f"the upload is {upload.state.value}; it takes no more bytes",
                       upload.headers(), offset=upload.offset)
    if offset != upload.offset:
        raise _problem(409, "offset_mismatch", f"Upload-Offset {offset} is not the current offset {upload.offset}; resume from there",
                       upload.headers(), offset=upload.offset)


def _parse_checksum(header: str) -> bytes:
    match = _CHECKSUM_HEADER.match(header)
    if match is None:
        raise _problem(400, "bad_checksum_header", "Upload-Checksum must look like `sha256 <base64 digest>`")
    if match["algo"].lower() != "sha256":
        raise _problem(400, "unsupported_checksum", f"checksum algorithm {match['algo']!r} is not supported; use sha256",
                       {"Tus-Checksum-Algorithm": "sha256"})
    try:
        digest = base64.b64decode(match["value"], validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 32:
        raise _problem(400, "bad_checksum_header", "the Upload-Checksum value is not a base64 sha256 digest (32 bytes)")
    return digest


async def _receive_chunk(request: Request, path: Path, upload: _Upload, expected: bytes | None, idle_timeout_s: float,
                         table: _UploadTable) -> int:
    """Append the request body at upload.offset; return the new offset. On any failure nothing is appended."""
    room = upload.size - upload.offset
    digest = hashlib.sha256()
    received = 0
    handle = await anyio.to_thread.run_sync(_open_at, path, upload, table)
    try:
        pending: list[bytes] = []
        pending_size = 0
        body = request.stream().__aiter__()
        while True:
            try:
                piece = await asyncio.wait_for(body.__anext__(), idle_timeout_s)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise _problem(408, "body_timeout", f"no bytes for {idle_timeout_s:.0f} s; the chunk was discarded", upload.headers()) from None
            except ClientDisconnect:
                # The client is gone; whatever arrived of this chunk is dropped and the offset stays put.
                raise _problem(400, "disconnected", "the connection closed before the chunk was complete", upload.headers()) from None
            if not piece:
                continue
            received += len(piece)
            if received > room:
                raise _problem(413, "beyond_size", f"the chunk goes past the declared size {upload.size}", upload.headers(), offset=upload.offset)
            digest.update(piece)
            pending.append(piece)
            pending_size += len(piece)
            if pending_size >= _WRITE_BATCH:
                await anyio.to_thread.run_sync(handle.write, b"".join(pending))
                pending, pending_size = [], 0
        if expected is not None and digest.digest() != expected:
            raise _problem(HTTP_CHECKSUM_MISMATCH, "checksum_mismatch", "the chunk does not match Upload-Checksum; nothing was stored, send it again",
                           upload.headers(), offset=upload.offset)
        if pending:
            await anyio.to_thread.run_sync(handle.write, b"".join(pending))
        await anyio.to_thread.run_sync(_flush_and_sync, handle)
    except BaseException:
        # Cut the file back to the acknowledged offset, also when the task is cancelled.
        await asyncio.shield(anyio.to_thread.run_sync(_truncate_and_close, handle, upload.offset))
        raise
    await anyio.to_thread.run_sync(handle.close)
    return upload.offset + received


def _open_at(path: Path, upload: _Upload, table: _UploadTable):
    """Open the partial file positioned at the acknowledged offset, dropping any unacknowledged tail."""
    if not path.exists():
        path.touch()
    actual = path.stat().st_size
    if actual < upload.offset:
        # Acknowledged bytes are missing (the file was deleted or damaged): tell the client where to go on from.
        table.set(upload.id, offset=actual)
        raise _problem(409, "offset_mismatch", f"the server lost bytes past {actual}; resume from there",
                       {"Upload-Offset": str(actual), "Upload-Length": str(upload.size)}, offset=actual)
    handle = path.open("r+b")
    handle.truncate(upload.offset)
    handle.seek(upload.offset)
    return handle


def _flush_and_sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _truncate_and_close(handle, offset: int) -> None:
    try:
        handle.flush()
        handle.truncate(offset)
    finally:
        handle.close()


# -- sniffing -----------------------------------------------------------------------------------

# Container families by their first bytes. Only what ffmpeg reads and a recorder writes is accepted.
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


def sniff_media(path: Path) -> str:
    """The file suffix for this content, by magic bytes, confirmed by ffprobe. Raises MediaError with a reason."""
    with Path(path).open("rb") as handle:
        head = handle.read(512)
    suffix = _suffix_from_magic(head)
    if suffix is None:
        looks = "text" if _looks_like_text(head) else "an unknown binary format"
        raise MediaError(path, f"its first bytes match no audio, video or photo container (they look like {looks})")
    info = probe(path)  # raises MediaError: truncated, corrupt, no streams
    return _refine_suffix(suffix, head, info)


def _suffix_from_magic(head: bytes) -> str | None:
    if head[4:8] in _MP4_BOXES:
        return ".mov" if head[4:8] != b"ftyp" or head[8:12] == b"qt  " else ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".mkv"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return ".wav"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return ".avi"
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"ID3"):
        return ".mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return ".aac"  # ADTS frame sync with layer 0
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return ".mp3"  # MPEG audio frame sync without an ID3 header
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return ".ts"  # MPEG transport stream: a sync byte every 188 bytes
    return None


def _refine_suffix(suffix: str, head: bytes, info: MediaInfo) -> str:
    if suffix == ".mp4" and info.kind is MediaKind.AUDIO:
        return ".m4a"
    if suffix == ".ogg" and b"OpusHead" in head:
        return ".opus"
    return suffix


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


# -- files --------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- wiring -------------------------------------------------------------------------------------


def install_uploads(
    app: FastAPI,
    rt: Runtime,
    *,
    lock: threading.Lock | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Worker:
    """Mount the upload API on `app` and start/stop its ingest worker with the app.

    `lock` is the lock the app's other endpoints hold around the store and models: the worker holds
    it while ingesting, so an ingest and a query never use the embedded store at the same time.
    """
    home = rt.settings.home
    queue = JobQueue(home / "jobs.sqlite3")
    devices = DeviceRegistry(home / "devices.sqlite3")
    app.include_router(create_upload_router(rt, queue, devices, max_bytes=max_bytes, uploads_dir=home / "uploads"))
    guard = lock if lock is not None else nullcontext()

    def ingest(path: Path, metadata: dict[str, Any]) -> tuple[bool, str]:
        with guard:
            return ingest_with_metadata(rt, path, metadata)

    worker = Worker(queue, ingest)
    app.router.on_startup.append(worker.start)
    app.router.on_shutdown.append(worker.stop)
    return worker
