"""The public map of the Americas: the shipped country outlines (`data/americas.json`,
made by `tools/make_outlines.py`) and a marker per certified city, in the outlines' own
equirectangular frame. Drawn as SVG on the server: no script, no tiles from elsewhere."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from infra.readside.rows import MapPlace


@dataclass(frozen=True)
class Outlines:
    width: float
    height: float
    west: float
    east: float
    north: float
    south: float
    countries: tuple[tuple[str, str], ...]  # (name, SVG path)

    def project(self, latitude: float, longitude: float) -> tuple[float, float] | None:
        """The point on the drawing, or None when it lies outside the frame."""
        if not (self.west <= longitude <= self.east and self.south <= latitude <= self.north):
            return None
        x = (longitude - self.west) / (self.east - self.west) * self.width
        y = (self.north - latitude) / (self.north - self.south) * self.height
        return round(x, 1), round(y, 1)


@cache
def outlines() -> Outlines:
    data = json.loads(resources.files("infra.web.portal").joinpath("data", "americas.json")
                      .read_text())
    frame = data["frame"]
    return Outlines(width=frame["width"], height=frame["height"], west=frame["west"],
                    east=frame["east"], north=frame["north"], south=frame["south"],
                    countries=tuple(sorted(data["countries"].items())))


@dataclass(frozen=True)
class Marker:
    city_key: str
    name: str
    tier: str
    x: float
    y: float


@dataclass(frozen=True)
class Unmapped:
    """The cities shown in the list but not on the map, and why: the public is told, so
    that a missing marker is never read as a city missing from the registry."""

    no_location: tuple[MapPlace, ...]  # joined without a latitude and longitude
    outside: tuple[MapPlace, ...]  # a location outside the drawing's frame


def unmapped(places: list[MapPlace]) -> Unmapped:
    no_location = tuple(p for p in places if p.latitude is None or p.longitude is None)
    outside = tuple(p for p in places if p.latitude is not None and p.longitude is not None
                    and outlines().project(p.latitude, p.longitude) is None)
    return Unmapped(no_location, outside)


def markers(places: list[MapPlace]) -> list[Marker]:
    """Markers for the cities that have a location inside the frame, platinum drawn last
    (on top)."""
    rank = {"silver": 0, "gold": 1, "platinum": 2}
    found = []
    for place in places:
        if place.latitude is None or place.longitude is None:
            continue
        point = outlines().project(place.latitude, place.longitude)
        if point is not None:
            found.append(Marker(place.city_key, place.name, place.tier, *point))
    return sorted(found, key=lambda m: (rank.get(m.tier, 0), m.city_key))
