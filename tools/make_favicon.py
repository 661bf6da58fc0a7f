"""Draw the portal's icon: a map marker (gold, ringed in white, as on the registry's map)
on the header's navy. Writes the SVG that pages link to and the ICO that `/favicon.ico`
serves (to browsers and tools that ask for it by that name), from the same shapes. Run
once by hand when the icon should change:

    python tools/make_favicon.py infra/web/portal/static

Pure standard library: the ICO holds PNG images (16 and 32 px), which every current
browser reads."""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

NAVY, WHITE, GOLD = (0x0D, 0x2A, 0x4A), (0xFF, 0xFF, 0xFF), (0xD9, 0x9A, 0x00)
# In a 32-unit square: the tile's corner radius, the ring's and the marker's radii.
CORNER, RING, MARKER = 6.0, 10.5, 8.0

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="{CORNER:g}" fill="#0d2a4a"/>
<circle cx="16" cy="16" r="{RING:g}" fill="#fff"/>
<circle cx="16" cy="16" r="{MARKER:g}" fill="#d99a00"/>
</svg>
"""


def in_tile(x: float, y: float) -> bool:
    cx, cy = min(max(x, CORNER), 32 - CORNER), min(max(y, CORNER), 32 - CORNER)
    return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER ** 2


def colour_at(x: float, y: float) -> tuple[int, int, int, int]:
    distance = ((x - 16) ** 2 + (y - 16) ** 2) ** 0.5
    if distance <= MARKER:
        return (*GOLD, 255)
    if distance <= RING:
        return (*WHITE, 255)
    return (*NAVY, 255) if in_tile(x, y) else (0, 0, 0, 0)


def raster(size: int, samples: int = 4) -> bytes:
    """RGBA rows, each pixel the average of samples x samples points (smooth edges)."""
    rows = bytearray()
    unit = 32 / size
    for py in range(size):
        rows.append(0)  # PNG filter: none
        for px in range(size):
            total = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    r, g, b, a = colour_at((px + (sx + .5) / samples) * unit,
                                           (py + (sy + .5) / samples) * unit)
                    total = [total[0] + r * a, total[1] + g * a, total[2] + b * a, total[3] + a]
            alpha = total[3]
            rows += bytes([round(total[0] / alpha), round(total[1] / alpha),
                           round(total[2] / alpha), round(alpha / samples ** 2)]
                          if alpha else [0, 0, 0, 0])
    return bytes(rows)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raster(size), 9)) + chunk(b"IEND", b""))


def ico(sizes: tuple[int, ...] = (16, 32)) -> bytes:
    images = [png(size) for size in sizes]
    offset = 6 + 16 * len(images)
    directory = struct.pack("<HHH", 0, 1, len(images))
    for size, image in zip(sizes, images, strict=True):
        directory += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return directory + b"".join(images)


def main(folder: str) -> None:
    target = Path(folder)
    (target / "favicon.svg").write_text(SVG)
    (target / "favicon.ico").write_bytes(ico())


if __name__ == "__main__":
    main(sys.argv[1])
