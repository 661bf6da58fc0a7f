"""Turn world-atlas's TopoJSON (Natural Earth 1:110m countries, npm package world-atlas,
ISC licence) into the portal's shipped map of the Americas: one SVG path per country in
the map's own equirectangular frame. Run once by hand when the outlines should change:

    python tools/make_outlines.py path/to/countries-110m.json > infra/web/portal/data/americas.json

The portal projects city markers with the same frame (`infra.web.portal.map`)."""

from __future__ import annotations

import json
import sys
from typing import Any

# The frame: longitudes and latitudes shown, and the drawing's width (height follows).
WEST, EAST, NORTH, SOUTH, WIDTH = -170.0, -30.0, 75.0, -57.0, 700.0
HEIGHT = WIDTH * (NORTH - SOUTH) / (EAST - WEST)


def project(lon: float, lat: float) -> tuple[float, float]:
    return ((lon - WEST) / (EAST - WEST) * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT)


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # quantized and delta-encoded
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], refs: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for ref in refs:
        arc = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def main(source: str) -> None:
    with open(source) as file:
        topology = json.load(file)
    arcs = decode_arcs(topology)
    countries: dict[str, str] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs", [])
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [ring(arcs, r) for polygon in polygons for r in polygon]
        lons = [lon for r in rings for lon, _ in r]
        if not lons or not WEST <= sum(lons) / len(lons) <= EAST:
            continue  # not in the Americas
        path = []
        for r in rings:
            xy = [project(lon, lat) for lon, lat in r if WEST - 20 <= lon <= EAST + 20]
            if len(xy) > 2:
                path.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
        if path:
            countries[geometry["properties"]["name"]] = "".join(path)
    json.dump({"frame": {"west": WEST, "east": EAST, "north": NORTH, "south": SOUTH,
                         "width": WIDTH, "height": round(HEIGHT, 1)},
               "source": "Natural Earth 1:110m via world-atlas 2.0.2 (ISC)",
               "countries": countries}, sys.stdout, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
