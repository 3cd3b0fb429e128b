"""The composed caption: one sentence per event built from what perception found.

It stands in for a learned captioner and says only what was perceived, so it never invents.
"""

from __future__ import annotations

from egomem.memory.events import Place, Quote

GIST_WORDS = 30


def compose_caption(place: Place | None, people: list[str], visible_text: list[str], quotes: list[Quote], tags: list[str]) -> str:
    parts: list[str] = []
    if place and (place.name or place.point):
        parts.append(f"At {place.label}")
    if people:
        parts.append(f"with {_join(people)}")
    sentence = ", ".join(parts)
    pieces = [sentence + "." if sentence else ""]
    if tags:
        pieces.append(f"Scene: {', '.join(tags)}.")
    if visible_text:
        pieces.append("Seen text: " + "; ".join(f'"{t}"' for t in visible_text[:8]) + ".")
    words = " ".join(q.text for q in quotes).split()
    if words:
        gist = " ".join(words[:GIST_WORDS]) + (" ..." if len(words) > GIST_WORDS else "")
        pieces.append(f"Heard: {gist}")
    else:
        pieces.append("No speech.")
    return " ".join(p for p in pieces if p)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
