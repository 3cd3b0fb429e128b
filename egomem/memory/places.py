"""Named places: the wearer's own names for positions ("home", "office"), kept in one JSON file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from egomem.types import GeoPoint

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class NamedPlace:
    name: str
    lat: float
    lon: float
    radius_m: float = 150.0

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(self.lat, self.lon)


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class PlaceBook:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._places = [NamedPlace(**p) for p in json.loads(path.read_text())] if path.is_file() else []

    @property
    def places(self) -> list[NamedPlace]:
        return list(self._places)

    def add(self, place: NamedPlace) -> None:
        GeoPoint(place.lat, place.lon)  # validates
        self._places = [p for p in self._places if p.name.lower() != place.name.lower()] + [place]
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps([asdict(p) for p in self._places], indent=2))
        os.replace(tmp, self.path)

    def name_for(self, point: GeoPoint | None) -> str | None:
        """The closest named place whose radius contains the point."""
        if point is None:
            return None
        inside = [(distance_m(point, p.point), p) for p in self._places if distance_m(point, p.point) <= p.radius_m]
        return min(inside, key=lambda dp: dp[0])[1].name if inside else None
