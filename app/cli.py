"""The `egomem` command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Sequence

from egomem.config import Settings
from egomem.errors import EgomemError
from egomem.runtime import Runtime


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.load(home=args.home)
        with Runtime(settings) as runtime:
            return args.handler(runtime, args)
    except EgomemError as exc:
        print(f"egomem: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="egomem", description="A local-first memory for your life.")
    p.add_argument("--home", type=Path, help="data folder (default: $EGOMEM_HOME or ~/.local/share/egomem)")
    sub = p.add_subparsers(metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="perceive recordings and store them as events")
    ingest.add_argument("paths", nargs="+", type=Path, help="video, audio or photo files, folders, or life folders")
    ingest.add_argument("--force", action="store_true", help="re-perceive recordings already in memory")
    ingest.add_argument("--quiet", action="store_true", help="no progress bars")
    ingest.set_defaults(handler=_ingest)

    ask = sub.add_parser("ask", help="answer a question from memory, citing the moments used")
    ask.add_argument("question")
    ask.add_argument("--at", type=_aware_time, help="when the question is asked (ISO 8601; default now)")
    ask.add_argument("--choices", nargs="+", metavar="KEY=TEXT", help="multiple choice, e.g. A=milk B=bread")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(handler=_ask)

    status = sub.add_parser("status", help="which models are loaded, from where, on which device; what memory holds")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    people = sub.add_parser("people", help="the people egomem knows").add_subparsers(metavar="ACTION")
    enroll = people.add_parser("enroll", help="teach egomem a face from photos of one person")
    enroll.add_argument("name")
    enroll.add_argument("photos", nargs="+", type=Path)
    enroll.set_defaults(handler=_people_enroll)
    from egomem.people import add_people_commands, list_command

    people.add_parser("list", help="known and unnamed identities, with how often and when last seen").set_defaults(handler=list_command)
    add_people_commands(people)

    places = sub.add_parser("places", help="names for places").add_subparsers(metavar="ACTION")
    add = places.add_parser("add", help="name a place, e.g. home")
    add.add_argument("name")
    add.add_argument("--lat", type=float, required=True)
    add.add_argument("--lon", type=float, required=True)
    add.add_argument("--radius", type=float, default=150.0, help="metres (default 150)")
    add.set_defaults(handler=_places_add)
    places.add_parser("list", help="places visited: name, where the name came from, position, visits").set_defaults(handler=_places_list)

    from app.bench import register as register_bench
    from app.upload_client import register as register_uploads
    from pipelines.daily_summary import register as register_summarize_day

    register_uploads(sub)
    register_summarize_day(sub)
    register_bench(sub)

    serve = sub.add_parser("serve", help="run the local service (HTTP API) on 127.0.0.1")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(handler=_serve)
    return p


def _aware_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return t if t.tzinfo else t.astimezone()  # a naive time is the machine's local time


def _ingest(rt: Runtime, args: argparse.Namespace) -> int:
    from app.progress import tqdm_progress
    from pipelines.ingest import Ingestor, Outcome

    ingestor = Ingestor(rt, progress=None if args.quiet else tqdm_progress, force=args.force)
    results = ingestor.ingest(args.paths)
    for notice in ingestor.notices:
        print(f"note: {notice}")
    for r in results:
        line = f"{r.outcome.value:9} {r.path}: {r.message}"
        if r.recording is not None:
            line += f" [{r.recording.start.isoformat()}" + (f", {r.recording.location.lat:.5f},{r.recording.location.lon:.5f}" if r.recording.location else "") + "]"
        print(line)
        for note in r.recording.notes if r.recording else ():
            print(f"          note: {note}")
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    print(f"{len(results) - len(failed)} of {len(results)} recordings in memory; {len(failed)} failed")
    return 1 if failed and len(failed) == len(results) else 0


def _ask(rt: Runtime, args: argparse.Namespace) -> int:
    choices = {}
    for item in args.choices or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise EgomemError(f"a choice must look like KEY=TEXT, not {item!r}")
        choices[key.strip()] = value.strip()
    at = args.at or datetime.now().astimezone()
    answer = rt.reasoner.ask(args.question, at, choices or None)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2))
        return 0
    print(answer.text)
    if answer.note:
        print(f"  ({answer.note})")
    for ev in answer.evidence:
        who = f" with {', '.join(ev.people)}" if ev.people else ""
        print(f"  - {ev.start:%a %Y-%m-%d %H:%M:%S}–{ev.end:%H:%M:%S} at {ev.place or 'unknown place'}{who}: {ev.quote}")
    return 0


def _status(rt: Runtime, args: argparse.Namespace) -> int:
    components = rt.component_status(load=True)
    stats = rt.store.stats()
    catalog = rt.catalog.entries()
    failures = [e for e in catalog if e.status.value == "failed"] + list(rt.catalog.failures().items())
    try:
        voice_devices: list[str] | str = sorted(rt.wearer_voices.voices())
    except EgomemError as exc:  # status reports a broken part, it does not fail on it
        voice_devices = str(exc)
    report = {
        "home": str(rt.settings.home),
        "device": rt.device,
        "models": [{"stage": c.name, "loaded": c.loaded, "detail": c.detail} for c in components],
        "store": stats,
        "recordings": len(catalog),
        "failed": len(failures),
        "identities": len(rt.identities.identities()),
        "wearer_voice_devices": voice_devices,  # devices whose profile is learned, or why it cannot be read
    }
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"home: {report['home']} (device: {rt.device})")
    print("models:")
    for c in components:
        print(f"  {c.name:14} {'loaded' if c.loaded else 'UNAVAILABLE':12} {c.detail}")
    print("memory:")
    for key, value in stats.items():
        print(f"  {key}: {value}")
    print(f"catalog: {len(catalog)} recordings seen, {len(failures)} failed")
    print(f"people: {report['identities']} identities")
    if isinstance(voice_devices, str):
        print(f"your voice: {voice_devices}")
    else:
        print(f"your voice: learned on {', '.join(voice_devices)}" if voice_devices else "your voice: not learned yet")
    return 0


def _people_enroll(rt: Runtime, args: argparse.Namespace) -> int:
    from egomem.people import enroll_photos

    if rt.faces is None:
        raise EgomemError("face recognition is disabled (EGOMEM_FACES=false)")
    result = enroll_photos(rt.faces, rt.identities, args.name, args.photos)
    print(result.summary())
    return 0


def _places_add(rt: Runtime, args: argparse.Namespace) -> int:
    from egomem.memory.places import NamedPlace
    from pipelines.places import update_memory_places

    rt.places.add(NamedPlace(args.name, args.lat, args.lon, args.radius))
    print(f"named {args.lat:.5f},{args.lon:.5f} (radius {args.radius:.0f} m) as {args.name!r}")
    try:
        update = update_memory_places(rt, recordings=())  # renaming only: no recording is placed by its look here
    except EgomemError as exc:  # e.g. the service holds the memory: the name applies from the next ingest
        print(f"note: past moments not relabelled yet ({exc}); they will be on the next ingest")
        return 0
    print(f"{update.relabelled} moments relabelled")
    return 0


def _places_list(rt: Runtime, args: argparse.Namespace) -> int:
    """Every place visited (named by the wearer, a sign, or what was said there), then named places never visited."""
    from egomem.memory.stays import cluster_places

    user = rt.places.places
    places = cluster_places(rt.store.place_events(), user, rt.discovered_places().places) if rt.settings.store_dir.exists() else []
    for p in places:
        when = f"{p.first:%Y-%m-%d %H:%M} .. {p.last:%Y-%m-%d %H:%M}" if p.first and p.last else "-"
        print(f"{p.id:9} {p.name or '(unnamed)':24} {p.source or '-':7} {p.point.lat:.5f},{p.point.lon:.5f}  "
              f"{p.visits:3} visit{'s' if p.visits != 1 else ' '}  {when}")
    visited = {p.name for p in places if p.source == "user"}
    for u in user:
        if u.name not in visited:
            print(f"{'-':9} {u.name:24} {'user':7} {u.lat:.5f},{u.lon:.5f}    0 visits   (radius {u.radius_m:.0f} m)")
    if not places and not user:
        print("no places yet: ingest recordings with GPS, or name one with `egomem places add`")
    return 0


def _serve(rt: Runtime, args: argparse.Namespace) -> int:
    from app.server import serve

    serve(rt, host=args.host or rt.settings.host, port=args.port or rt.settings.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
