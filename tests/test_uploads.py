"""The wearable upload API over real HTTP on loopback, with a real worker ingesting into a real memory."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from egomem.store.devices import DeviceError, DeviceRegistry
from pipelines.jobs import JobQueue, JobState, Worker
from tests.serving import serving

MAX_BYTES = 2 << 20  # above jfk.flac (1.15 MB), small enough to test the limit cheaply
START = "2024-05-01T09:30:00+02:00"
GPS = [  # out of order on purpose: the earliest fix is the recording's place
    {"t": "2024-05-01T09:30:05+02:00", "lat": 48.8570, "lon": 2.3530},
    {"t": "2024-05-01T09:30:00+02:00", "lat": 48.8566, "lon": 2.3522},
]
HTTP_TIMEOUT = 30.0


@dataclass
class Service:
    url: str
    port: int
    home: Path
    rt: Any
    queue: JobQueue
    tokens: dict[str, str]

    def client(self, device: str | None = "watch", token: str | None = None) -> httpx.Client:
        token = token or (self.tokens[device] if device else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=HTTP_TIMEOUT)


@pytest.fixture(scope="module")
def service(models, tmp_path_factory: pytest.TempPathFactory):
    from fastapi import FastAPI

    from app.uploads import create_upload_router
    from egomem.config import Settings
    from egomem.runtime import Runtime
    from pipelines.jobs import ingest_with_metadata

    home = tmp_path_factory.mktemp("uploads-home")
    rt = Runtime(Settings.load(env={}, home=home), models)
    queue = JobQueue(home / "jobs.sqlite3")
    devices = DeviceRegistry(home / "devices.sqlite3")
    tokens = {name: devices.add(name) for name in ("watch", "phone")}
    app = FastAPI(title="egomem uploads under test")
    app.include_router(create_upload_router(rt, queue, devices, max_bytes=MAX_BYTES, uploads_dir=home / "uploads", idle_timeout_s=10))
    worker = Worker(queue, lambda path, metadata: ingest_with_metadata(rt, path, metadata), poll_s=0.05).start()

    with serving(app) as url:
        yield Service(url, int(url.rsplit(":", 1)[1]), home, rt, queue, tokens)
    worker.stop(timeout=60)
    queue.close()
    devices.close()
    rt.close()


@pytest.fixture(scope="module")
def jfk(shared_data: Path) -> Path:
    return shared_data / "media" / "jfk.flac"


@pytest.fixture(scope="module")
def jfk_upload(service: Service, jfk: Path) -> dict[str, Any]:
    """jfk.flac sent in three checksummed chunks with a start time and a GPS track, finished, ingested.

    Module-scoped so it is the first ingest of these bytes: later uploads of the same content are
    then recognised as already in memory, and this one keeps the start time it was sent with.
    """
    data = jfk.read_bytes()
    body = {"recording_id": "jfk-2024-05-01", "size": len(data), "filename": jfk.name, "start": START, "gps": GPS,
            "sha256": hashlib.sha256(data).hexdigest()}
    with service.client() as http:
        created = http.post("/v1/recordings", json=body)
        assert created.status_code == 201, created.text
        upload_id = created.json()["upload_id"]
        assert created.headers["Location"] == f"/v1/recordings/{upload_id}"
        again = http.post("/v1/recordings", json=body)  # idempotent by recording id
        assert again.status_code == 200 and again.json()["upload_id"] == upload_id

        offset = 0
        for piece in _pieces(data, 400_000):
            reply = _patch(http, upload_id, offset, piece)
            assert reply.status_code == 200, reply.text
            offset = reply.json()["offset"]
            assert int(reply.headers["Upload-Offset"]) == offset
        assert offset == len(data)

        first = http.post(f"/v1/recordings/{upload_id}/finish")
        assert first.status_code == 202, first.text
        with ThreadPoolExecutor(4) as pool:  # duplicate finishes, some at the same time
            repeats = list(pool.map(lambda _: http.post(f"/v1/recordings/{upload_id}/finish"), range(4)))
        job = _wait_for_job(http, first.json()["job_id"], 240)
    return {"upload_id": upload_id, "first": first, "repeats": repeats, "job": job}


# -- auth ---------------------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_refused(service: Service) -> None:
    body = {"recording_id": "x", "size": 10, "filename": "x.flac"}
    with service.client(device=None) as http:
        missing = http.post("/v1/recordings", json=body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["detail"]["error"] == "unauthorized"
    with service.client(token="not-a-token") as http:
        wrong = http.post("/v1/recordings", json=body)
        assert http.get("/v1/jobs/whatever").status_code == 401
        assert http.head("/v1/recordings/whatever").status_code == 401
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    with service.client(device=None) as http:
        assert http.post("/v1/recordings", json=body, headers={"Authorization": f"Basic {service.tokens['watch']}"}).status_code == 401


def test_a_revoked_token_stops_working(service: Service) -> None:
    registry = DeviceRegistry(service.home / "devices.sqlite3")  # a second handle, as `egomem devices` would open
    try:
        token = registry.add("old-glasses")
        with service.client(token=token) as http:
            assert http.post("/v1/recordings", json={"recording_id": "g1", "size": 5, "filename": "a.mp4"}).status_code == 201
            assert registry.revoke("old-glasses")
            assert http.post("/v1/recordings", json={"recording_id": "g2", "size": 5, "filename": "a.mp4"}).status_code == 401
    finally:
        registry.close()


# -- the whole journey --------------------------------------------------------------------------


def test_a_chunked_upload_is_ingested_with_the_start_time_and_place_sent(service: Service, jfk_upload: dict[str, Any], jfk: Path) -> None:
    job = jfk_upload["job"]
    assert job["state"] == "done", job
    assert job["result"].startswith("ingested: 1 events") and job["recording_id"] == "jfk-2024-05-01"

    filed = service.home / "recordings" / "watch" / "jfk-2024-05-01.flac"
    assert filed.read_bytes() == jfk.read_bytes()
    sidecar = json.loads(filed.with_name(filed.name + ".json").read_text())
    assert sidecar["start"] == START and sidecar["device"] == "watch" and len(sidecar["gps"]) == 2

    from egomem.media.sources import content_id

    entry = service.rt.catalog.get(content_id(jfk))
    assert entry is not None and entry.status.value == "done"
    assert datetime.fromisoformat(entry.start) == datetime.fromisoformat(START)
    events = [e for e in service.rt.store.events() if e.recording_id == entry.id]
    assert len(events) == 1 and "country" in events[0].transcript.lower()
    assert events[0].start == datetime.fromisoformat(START)
    assert events[0].place is not None and abs(events[0].place.point.lat - 48.8566) < 1e-6  # the earliest fix


def test_a_duplicate_finish_returns_the_same_job_and_queues_no_second_one(service: Service, jfk_upload: dict[str, Any]) -> None:
    job_id = jfk_upload["first"].json()["job_id"]
    assert [r.status_code for r in jfk_upload["repeats"]] == [200] * 4
    assert {r.json()["job_id"] for r in jfk_upload["repeats"]} == {job_id}
    assert [j.id for j in service.queue.jobs() if j.upload_id == jfk_upload["upload_id"]] == [job_id]
    with service.client() as http:
        late = http.post(f"/v1/recordings/{jfk_upload['upload_id']}/finish")
        assert late.status_code == 200 and late.json() == {**late.json(), "job_id": job_id, "state": "done"}
        status = http.get(f"/v1/recordings/{jfk_upload['upload_id']}").json()
        assert status["state"] == "finished" and status["job_id"] == job_id
        assert _patch(http, jfk_upload["upload_id"], status["offset"], b"more").status_code == 409  # finished takes no bytes


# -- resuming -----------------------------------------------------------------------------------


def test_a_cut_connection_loses_only_the_cut_chunk_and_the_client_resumes(service: Service, jfk_upload: dict[str, Any], jfk: Path) -> None:
    from app.upload_client import upload

    data = jfk.read_bytes()
    with service.client() as http:
        body = {"recording_id": "cut-1", "size": len(data), "filename": jfk.name, "sha256": hashlib.sha256(data).hexdigest()}
        upload_id = http.post("/v1/recordings", json=body).json()["upload_id"]
        assert _patch(http, upload_id, 0, data[:65536]).status_code == 200
        # Headers and more than 1 MiB of a chunk (so some of it reaches the disk), then the socket closes.
        partial = service.home / "uploads" / f"{upload_id}.part"
        _send_and_cut(service.port, service.tokens["watch"], upload_id, 65536, data[65536:], sent=1_050_000,
                      before_cut=lambda: _until(lambda: partial.stat().st_size > 65536, 20, "the server wrote nothing of the chunk"))
        _until(lambda: partial.stat().st_size == 65536, 20, "the cut chunk's bytes were not discarded")
        head = http.head(f"/v1/recordings/{upload_id}")
        assert head.status_code == 200 and head.headers["Upload-Offset"] == "65536" and head.headers["Upload-Length"] == str(len(data))
        assert head.content == b""

    offsets: list[int] = []
    job = upload(jfk, service.url, service.tokens["watch"], recording_id="cut-1", chunk_size=256 << 10,
                 on_progress=lambda done, total: offsets.append(done), wait_s=120, backoff_s=0.05)
    assert offsets[0] == 65536 + (256 << 10), "the client started over instead of resuming"
    assert offsets[-1] == len(data)
    assert job["state"] == "done" and job["result"].startswith("skipped"), job  # the same bytes are already in memory
    assert (service.home / "recordings" / "watch" / "cut-1.flac").read_bytes() == data


def test_the_reference_client_resumes_when_an_acknowledgement_is_lost(service: Service, jfk_upload: dict[str, Any], jfk: Path) -> None:
    from app.upload_client import upload

    transport = _LosesSecondPatchResponse()
    job = upload(jfk, service.url, service.tokens["watch"], chunk_size=300_000, transport=transport, wait_s=120, backoff_s=0.05)
    assert transport.patches >= 4 and transport.dropped == 1
    assert job["state"] == "done", job
    data = jfk.read_bytes()
    assert job["recording_id"] == hashlib.sha256(data).hexdigest()[:32]  # the default recording id
    assert (service.home / "recordings" / "watch" / f"{job['recording_id']}.flac").read_bytes() == data


def test_the_upload_command_line(service: Service, jfk_upload: dict[str, Any], jfk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.upload_client import register

    args = _cli(register, ["upload", str(jfk), "--server", service.url, "--token", service.tokens["phone"],
                           "--recording-id", "from-cli", "--start", "2024-05-01T10:00:00+02:00", "--chunk-mib", "0.5"])
    assert args.handler(service.rt, args) == 0
    assert "from-cli" in capsys.readouterr().out
    sidecar = service.home / "recordings" / "phone" / "from-cli.flac.json"
    assert json.loads(sidecar.read_text())["start"] == "2024-05-01T10:00:00+02:00"


# -- refusals -----------------------------------------------------------------------------------


def test_oversize_uploads_are_refused_at_create_and_while_sending(service: Service) -> None:
    with service.client() as http:
        big = http.post("/v1/recordings", json={"recording_id": "huge", "size": MAX_BYTES + 1, "filename": "a.mp4"})
        assert big.status_code == 413 and big.json()["detail"]["max_bytes"] == MAX_BYTES
        upload_id = http.post("/v1/recordings", json={"recording_id": "small", "size": 100, "filename": "a.mp4"}).json()["upload_id"]
        declared = _patch(http, upload_id, 0, b"x" * 150)
        assert declared.status_code == 413 and declared.json()["detail"]["error"] == "beyond_size"
        # Without Content-Length (chunked transfer) the limit is enforced while the bytes stream in.
        streamed = http.patch(f"/v1/recordings/{upload_id}", content=iter([b"x" * 80, b"x" * 70]), headers={"Upload-Offset": "0"})
        assert streamed.status_code == 413
        assert http.head(f"/v1/recordings/{upload_id}").headers["Upload-Offset"] == "0"
    assert (service.home / "uploads" / f"{upload_id}.part").stat().st_size == 0


def test_a_non_media_file_is_refused_at_finish_with_a_reason(service: Service) -> None:
    text = b"shopping list: oat milk, batteries\n" * 50
    with service.client() as http:
        upload_id = http.post("/v1/recordings", json={"recording_id": "notes", "size": len(text), "filename": "notes.mp4"}).json()["upload_id"]
        assert _patch(http, upload_id, 0, text).status_code == 200
        refused = http.post(f"/v1/recordings/{upload_id}/finish")
        assert refused.status_code == 415
        detail = refused.json()["detail"]
        assert detail["error"] == "not_media" and "look like text" in detail["message"]
        status = http.get(f"/v1/recordings/{upload_id}").json()
        assert status["state"] == "failed" and status["error"] == detail["message"]
        assert http.post(f"/v1/recordings/{upload_id}/finish").status_code == 415  # and stays refused
    assert not (service.home / "uploads" / f"{upload_id}.part").exists()
    assert not list((service.home / "recordings").glob("*/notes.*"))


def test_a_truncated_recording_is_refused_with_the_probe_reason(service: Service, shared_data: Path) -> None:
    clip = (shared_data / "media" / "short_hamilton_clip.mp4").read_bytes()
    cut = clip[: len(clip) // 3]
    with service.client() as http:
        upload_id = http.post("/v1/recordings", json={"recording_id": "cut-clip", "size": len(cut), "filename": "c.mp4"}).json()["upload_id"]
        assert _patch(http, upload_id, 0, cut).status_code == 200
        refused = http.post(f"/v1/recordings/{upload_id}/finish")
    assert refused.status_code == 415 and "MP4" in refused.json()["detail"]["message"]


def test_a_bad_chunk_checksum_is_rejected_and_the_offset_stays(service: Service) -> None:
    with service.client() as http:
        upload_id = http.post("/v1/recordings", json={"recording_id": "sums", "size": 1000, "filename": "a.wav"}).json()["upload_id"]
        wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
        reply = _patch(http, upload_id, 0, b"a" * 500, checksum=f"sha256 {wrong}")
        assert reply.status_code == 460 and reply.json()["detail"]["error"] == "checksum_mismatch"
        assert http.get(f"/v1/recordings/{upload_id}").json()["offset"] == 0
        assert _patch(http, upload_id, 0, b"a" * 500, checksum="md5 AAAA").status_code == 400
        assert _patch(http, upload_id, 0, b"a" * 500, checksum="sha256 !!!").status_code == 400
        assert _patch(http, upload_id, 0, b"a" * 500).json()["offset"] == 500
    assert (service.home / "uploads" / f"{upload_id}.part").stat().st_size == 500


def test_a_wrong_offset_is_a_conflict_that_names_the_right_one(service: Service) -> None:
    with service.client() as http:
        upload_id = http.post("/v1/recordings", json={"recording_id": "offsets", "size": 1000, "filename": "a.wav"}).json()["upload_id"]
        assert _patch(http, upload_id, 0, b"a" * 100).status_code == 200
        for offset in (0, 150):
            reply = _patch(http, upload_id, offset, b"b" * 10)
            assert reply.status_code == 409 and reply.json()["detail"]["offset"] == 100 and reply.headers["Upload-Offset"] == "100"
        early = http.post(f"/v1/recordings/{upload_id}/finish")
        assert early.status_code == 409 and early.json()["detail"]["error"] == "incomplete"
        reused = http.post("/v1/recordings", json={"recording_id": "offsets", "size": 999, "filename": "a.wav"})
        assert reused.status_code == 409 and reused.json()["detail"]["error"] == "recording_id_taken"
        bad_id = http.post("/v1/recordings", json={"recording_id": "../etc", "size": 10, "filename": "a.wav"})
        naive = http.post("/v1/recordings", json={"recording_id": "n", "size": 10, "filename": "a.wav", "start": "2024-05-01T09:30:00"})
        assert bad_id.status_code == 422 and naive.status_code == 422


def test_a_whole_file_checksum_mismatch_resets_the_upload(service: Service, jfk: Path) -> None:
    data = jfk.read_bytes()[:4000]
    with service.client() as http:
        body = {"recording_id": "liar", "size": len(data), "filename": "a.flac", "sha256": "0" * 64}
        upload_id = http.post("/v1/recordings", json=body).json()["upload_id"]
        assert _patch(http, upload_id, 0, data).status_code == 200
        reply = http.post(f"/v1/recordings/{upload_id}/finish")
        assert reply.status_code == 460 and reply.json()["detail"]["offset"] == 0
        assert http.get(f"/v1/recordings/{upload_id}").json()["offset"] == 0


def test_one_device_cannot_see_or_touch_another_devices_uploads(service: Service, jfk_upload: dict[str, Any]) -> None:
    upload_id, job_id = jfk_upload["upload_id"], jfk_upload["job"]["id"]
    with service.client("phone") as http:
        assert http.get(f"/v1/recordings/{upload_id}").status_code == 404
        assert http.head(f"/v1/recordings/{upload_id}").status_code == 404
        assert _patch(http, upload_id, 0, b"x").status_code == 404
        assert http.post(f"/v1/recordings/{upload_id}/finish").status_code == 404
        assert http.get(f"/v1/jobs/{job_id}").status_code == 404
        # The same recording id is a separate upload for another device.
        mine = http.post("/v1/recordings", json={"recording_id": "jfk-2024-05-01", "size": 10, "filename": "a.flac"})
        assert mine.status_code == 201 and mine.json()["upload_id"] != upload_id
    with service.client("watch") as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["state"] == "done"


def test_the_openapi_schema_lists_the_upload_api(service: Service) -> None:
    schema = httpx.get(f"{service.url}/openapi.json", timeout=HTTP_TIMEOUT).json()
    paths = schema["paths"]
    assert {"post"} <= set(paths["/v1/recordings"])
    assert {"head", "get", "patch"} <= set(paths["/v1/recordings/{upload_id}"])
    assert "post" in paths["/v1/recordings/{upload_id}/finish"] and "get" in paths["/v1/jobs/{job_id}"]
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


# -- the queue, the worker and the device registry on their own ----------------------------------


def test_the_job_queue_is_idempotent_durable_and_recovers_interrupted_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    queue = JobQueue(path)
    first = queue.enqueue("u1", tmp_path / "a.flac", {"start": START})
    assert queue.enqueue("u1", tmp_path / "other.flac", {}) == first
    second = queue.enqueue("u2", tmp_path / "b.flac", {})
    claimed = queue.claim()
    assert claimed is not None and claimed.id == first and claimed.state is JobState.RUNNING and claimed.metadata == {"start": START}
    queue.close()  # the process dies with u1 running

    reopened = JobQueue(path)
    assert reopened.get(first).state is JobState.RUNNING
    assert reopened.recover() == 1 and reopened.get(first).state is JobState.QUEUED
    for _ in range(3):  # a job that keeps getting interrupted is eventually given up
        assert reopened.claim().id in (first, second)
        reopened.recover()
    assert reopened.get(first).state is JobState.FAILED and "interrupted" in reopened.get(first).error
    reopened.close()


def test_the_worker_records_results_failures_and_crashes(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "jobs.sqlite3")

    def ingest(path: Path, metadata: dict[str, Any]) -> tuple[bool, str]:
        if path.name == "crash.flac":
            raise RuntimeError("decoder exploded")
        return path.name == "good.flac", f"looked at {path.name}"

    ids = {name: queue.enqueue(name, tmp_path / name, {}) for name in ("good.flac", "bad.flac", "crash.flac")}
    worker = Worker(queue, ingest, poll_s=0.01).start()
    try:
        _until(lambda: all(queue.get(i).state in (JobState.DONE, JobState.FAILED) for i in ids.values()), 10, "the worker did not drain")
    finally:
        worker.stop(timeout=10)
    assert not worker.alive
    assert queue.get(ids["good.flac"]).state is JobState.DONE and queue.get(ids["good.flac"]).result == "looked at good.flac"
    assert queue.get(ids["bad.flac"]).state is JobState.FAILED and queue.get(ids["bad.flac"]).error == "looked at bad.flac"
    crashed = queue.get(ids["crash.flac"])
    assert crashed.state is JobState.FAILED and "decoder exploded" in crashed.error
    queue.close()


def test_the_device_registry_stores_only_token_hashes(tmp_path: Path) -> None:
    path = tmp_path / "devices.sqlite3"
    registry = DeviceRegistry(path)
    token = registry.add("watch")
    assert token.startswith("egm_") and len(token) >= 47 and registry.authenticate(token).name == "watch"
    assert registry.authenticate(token + "x") is None and registry.authenticate("") is None
    with pytest.raises(DeviceError, match="already exists"):
        registry.add("watch")
    with pytest.raises(DeviceError):
        registry.add("../escape")
    replaced = registry.add("watch", replace=True)
    assert registry.authenticate(token) is None and registry.authenticate(replaced).name == "watch"
    assert [d.name for d in registry.list()] == ["watch"]
    registry.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in stored and replaced.encode() not in stored

    registry = DeviceRegistry(path)
    assert registry.revoke("watch") and not registry.revoke("watch")
    assert registry.authenticate(replaced) is None and registry.list() == []
    registry.close()


def test_the_devices_command_line(make_runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.upload_client import register

    rt = make_runtime(tmp_path / "home")
    args = _cli(register, ["devices", "add", "pendant"])
    assert args.handler(rt, args) == 0
    out = capsys.readouterr().out
    assert "will not be shown again" in out
    token = out.strip().splitlines()[-1]
    registry = DeviceRegistry(rt.settings.home / "devices.sqlite3")
    assert registry.authenticate(token).name == "pendant"
    registry.close()
    args = _cli(register, ["devices", "list"])
    assert args.handler(rt, args) == 0 and "pendant" in capsys.readouterr().out and token not in out.splitlines()[0]
    args = _cli(register, ["devices", "revoke", "pendant"])
    assert args.handler(rt, args) == 0
    args = _cli(register, ["devices", "revoke", "pendant"])
    assert args.handler(rt, args) == 1


def test_install_uploads_mounts_the_api_and_runs_the_worker_with_the_app(make_runtime, tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.uploads import install_uploads

    rt = make_runtime(tmp_path / "home")
    app = FastAPI()
    worker = install_uploads(app, rt, lock=threading.Lock(), max_bytes=1000)
    assert not worker.alive
    with TestClient(app) as http:
        assert worker.alive
        assert http.post("/v1/recordings", json={"recording_id": "a", "size": 10, "filename": "a.wav"}).status_code == 401
    assert not worker.alive
    assert (rt.settings.home / "jobs.sqlite3").is_file() and (rt.settings.home / "devices.sqlite3").is_file()


# -- helpers ------------------------------------------------------------------------------------


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _patch(http: httpx.Client, upload_id: str, offset: int, data: bytes, *, checksum: str | None = "auto") -> httpx.Response:
    headers = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    if checksum is not None:
        headers["Upload-Checksum"] = _checksum(data) if checksum == "auto" else checksum
    return http.patch(f"/v1/recordings/{upload_id}", content=data, headers=headers)


def _send_and_cut(port: int, token: str, upload_id: str, offset: int, chunk: bytes, *, sent: int, before_cut: Callable[[], None]) -> None:
    """Start a PATCH for the whole chunk, write only `sent` bytes of its body, then drop the connection."""
    head = (
        f"PATCH /v1/recordings/{upload_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Upload-Offset: {offset}\r\nUpload-Checksum: {_checksum(chunk)}\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(chunk)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + chunk[:sent])
        before_cut()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close with a reset


class _LosesSecondPatchResponse(httpx.HTTPTransport):
    """Delivers every request, but the response to the second chunk never reaches the client."""

    def __init__(self) -> None:
        super().__init__()
        self.patches = 0
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "PATCH":
            self.patches += 1
            if self.patches == 2:
                response.read()
                response.close()
                self.dropped += 1
                raise httpx.ReadError("simulated: connection dropped before the acknowledgement arrived", request=request)
        return response


def _wait_for_job(http: httpx.Client, job_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _until(condition: Callable[[], bool], timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.02)


def _cli(register: Callable[[Any], None], argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="egomem")
    register(parser.add_subparsers(metavar="COMMAND"))
    return parser.parse_args(argv)
