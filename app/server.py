"""The local service: a JSON API and the Gradio web app over the same runtime the CLI uses.

Bound to loopback by default; any other bind needs a login (`EGOMEM_AUTH`, see app/auth.py).
"""

from __future__ import annotations

import threading
from datetime import datetime

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from egomem.runtime import Runtime
from egomem.store.base import EventFilter


class AskRequest(BaseModel):
    question: str
    at: datetime | None = None
    choices: dict[str, str] | None = None


def create_app(rt: Runtime, *, ui: bool = True) -> FastAPI:
    """The service: JSON API under /v1, device uploads, day summaries, and (with `ui`) the web app at /."""
    from app.auth import install_auth

    app = FastAPI(title="egomem", version="0.1.0")
    lock = threading.Lock()  # the embedded shard and models are used by one request at a time
    install_auth(app, rt.settings)
    reasoner = rt.reasoner

    @app.get("/healthz")
    def health() -> dict:
        return {"ok": True}

    @app.get("/v1/status")
    def status() -> dict:
        with lock:
            return {
                "models": [vars(c) for c in rt.component_status()],
                "store": rt.store.stats(),
                "recordings": len(rt.catalog.entries()),
            }

    @app.post("/v1/ask")
    def ask(body: AskRequest) -> dict:
        at = body.at or datetime.now().astimezone()
        if at.tzinfo is None:
            raise HTTPException(422, "`at` must carry a UTC offset")
        with lock:
            answer = reasoner.ask(body.question, at, body.choices)
        return answer.to_json()

    @app.get("/v1/events")
    def events(day: str = Query(..., pattern=r"^\d{4}-\d{2}-\d{2}$")) -> list[dict]:
        with lock:
            found = rt.store.events(EventFilter(days=[day]))
        return [
            {"id": e.id, "start": e.start, "end": e.end, "place": e.place.label if e.place else None, "people": e.people,
             "caption": e.caption, "transcript": e.transcript, "visible_text": e.visible_text, "keyframes": e.keyframes}
            for e in found
        ]

    @app.get("/thumbnails/{recording_id}/{name}")
    def thumbnail(recording_id: str, name: str) -> FileResponse:
        root = rt.settings.thumbnails_dir.resolve()
        path = (root / recording_id / name).resolve()
        if root not in path.parents or not path.is_file():
            raise HTTPException(404, "no such thumbnail")
        return FileResponse(path, media_type="image/jpeg")

    from app.uploads import install_uploads
    from pipelines.daily_summary import create_summary_router

    install_uploads(app, rt, lock=lock, max_bytes=rt.settings.upload_max_bytes)
    app.include_router(create_summary_router(rt, lock))
    if ui:
        from app.web import mount_ui

        mount_ui(app, rt, lock)  # last: a UI at "/" would otherwise shadow the API's routes
    return app


def serve(rt: Runtime, host: str, port: int) -> None:
    import uvicorn

    from app.auth import check_bind, resolve_auth

    check_bind(host, resolve_auth(rt.settings))  # before loading anything: refuse early
    app = create_app(rt)
    rt.text_embedder  # load before the first request, not during it  # noqa: B018
    uvicorn.run(app, host=host, port=port, log_level="info")
