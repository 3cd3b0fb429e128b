"""Named places: the wearer's own names for positions ("home", "office"), kept in one JSON file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

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
        found = named_place_at(self._places, point)
        return found.name if found else None


def named_place_at(places: Sequence[NamedPlace], point: GeoPoint | None) -> NamedPlace | None:
    """The closest of `places` whose radius contains the point."""
    if point is None:
        return None
    inside = [(d, p) for p in places if (d := distance_m(point, p.point)) <= p.radius_m]
    return min(inside, key=lambda dp: dp[0])[1] if inside else None


@dataclass(frozen=True)
class KnownPlace:
    """A place found from where the wearer stays, as kept between runs so its id and name are stable."""

    id: str  # "place-N"
    lat: float
    lon: float
    name: str | None = None
    source: str | None = None  # "user" | "sign" | "speech", see Place.source
    visits: int = 0  # recordings made there
    first: str | None = None  # ISO 8601 start of the first and end of the last visit
    last: str | None = None

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(self.lat, self.lon)


class DiscoveredPlaceBook:
    """Places found by clustering visits (stays.py), in one JSON file beside the PlaceBook's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fields = set(KnownPlace.__dataclass_fields__)
        rows = json.loads(path.read_text()) if path.is_file() else []
        self._places = [KnownPlace(**{k: v for k, v in row.items() if k in fields}) for row in rows]

    @property
    def places(self) -> list[KnownPlace]:
        return list(self._places)

    def save(self, places: list[KnownPlace]) -> None:
        self._places = list(places)
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps([asdict(p) for p in self._places], indent=2, ensure_ascii=False))
        os.replace(tmp, self.path)
