"""Writes the small sample documents the tests upload and sniff
(`tests/samples/documents/`): each a real file of its kind, made here byte by byte (no
office suite, no imaging library), so anyone can see what is in them and make them again:

    .venv/bin/python tools/make_document_samples.py

The 16x16 Python logos (`python.jpg`, `.gif`, `.webp`, `.bmp`) are CPython's own test
images (Lib/test/test_email/data), copied as they are."""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "samples" / "documents"


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` in Helvetica, with a correct cross-reference table."""
    text = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join(
        f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text.encode() + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def png(width: int, height: int, pixel: object) -> bytes:
    """An RGB PNG whose pixels `pixel(x, y)` gives."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))  # type: ignore[operator]
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def dashboard(x: int, y: int) -> tuple[int, int, int]:
    """A bar chart: five bars on a light ground, as a dashboard export might look."""
    heights = (60, 110, 85, 140, 125)
    bar = (x - 20) // 60
    if y >= 180 or x < 20 or bar >= len(heights) or (x - 20) % 60 >= 40:
        return (245, 247, 250) if y < 180 else (60, 64, 72)
    return (31, 119, 180) if y >= 180 - heights[bar] else (245, 247, 250)


def zipped(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, (name, data) in enumerate(entries):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2027, 1, 1, 0, 0, 0)), data, method)
    return out.getvalue()


CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                 b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                 b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Override PartName="/%s" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.%s+xml"/></Types>')
RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'officeDocument" Target="%s"/></Relationships>')


def docx() -> bytes:
    """A Word document as Word writes it: [Content_Types].xml first."""
    body = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            b'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Open '
            b'data policy</w:t></w:r></w:p></w:body></w:document>')
    return zipped([
        ("[Content_Types].xml", CONTENT_TYPES % (b"word/document.xml",
                                                  b"wordprocessingml.document.main")),
        ("_rels/.rels", RELS % b"word/document.xml"), ("word/document.xml", body)])


def xlsx() -> bytes:
    """A workbook as openpyxl writes it: document properties first, content types last."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             b'openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')
    return zipped([
        ("docProps/app.xml", b'<?xml version="1.0"?><Properties/>'),
        ("docProps/core.xml", b'<?xml version="1.0"?><cp:coreProperties '
                              b'xmlns:cp="urn:x"/>'),
        ("xl/worksheets/sheet1.xml", sheet), ("_rels/.rels", RELS % b"xl/workbook.xml"),
        ("[Content_Types].xml", CONTENT_TYPES % (b"xl/workbook.xml",
                                                  b"spreadsheetml.sheet.main"))])


def docm() -> bytes:
    """A Word document with macros (refused)."""
    return zipped([
        ("[Content_Types].xml", CONTENT_TYPES % (b"word/document.xml",
                                                  b"ms-word.document.macroEnabled.main")),
        ("word/vbaProject.bin", b"\x00" * 64)])


def odt() -> bytes:
    """An OpenDocument text: its uncompressed `mimetype` first, as the standard wants."""
    return zipped([("mimetype", b"application/vnd.oasis.opendocument.text"),
                   ("content.xml", b'<?xml version="1.0"?><office:document-content '
                                   b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                                   b'office:1.0"/>')], stored_first=True)


def plain_zip() -> bytes:
    return zipped([("setup.exe", b"MZ" + b"\x00" * 62), ("readme.txt", b"run setup")])


def ole(streams: list[str], *, directory_sector: int = 0) -> bytes:
    """A compound file (OLE2, 512-byte sectors) whose directory (at `directory_sector`)
    holds a root entry and `streams`."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 24, 0x3E, 3, 0xFFFE, 9)  # minor, major, order, shift
    struct.pack_into("<H", header, 32, 6)  # mini sector shift
    struct.pack_into("<I", header, 44, 1)  # FAT sectors
    struct.pack_into("<I", header, 48, directory_sector)
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<IIII", header, 60, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    fat_sector = directory_sector + 1
    struct.pack_into("<I", header, 76, fat_sector)
    for slot in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * slot, 0xFFFFFFFF)
    sectors = [bytearray(512) for _ in range(fat_sector + 1)]
    directory = sectors[directory_sector]
    for index, name in enumerate(["Root Entry", *streams][:4]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry = 128 * index
        directory[entry:entry + len(encoded)] = encoded
        struct.pack_into("<HBB", directory, entry + 64, len(encoded), 5 if index == 0 else 2, 1)
        struct.pack_into("<III", directory, entry + 68, 0xFFFFFFFF, 0xFFFFFFFF,
                         1 if index == 0 and streams else 0xFFFFFFFF)
        struct.pack_into("<II", directory, entry + 116, 0xFFFFFFFE, 0)
    fat = sectors[fat_sector]
    for sector in range(fat_sector + 1):
        struct.pack_into("<I", fat, 4 * sector, 0xFFFFFFFD if sector == fat_sector
                         else 0xFFFFFFFE if sector == directory_sector else 0xFFFFFFFF)
    for sector in range(fat_sector + 1, 128):
        struct.pack_into("<I", fat, 4 * sector, 0xFFFFFFFF)
    return bytes(header) + b"".join(bytes(s) for s in sectors)


def elf() -> bytes:
    """A whole Linux x86-64 executable that exits with status 0 (`mov eax, 60; xor edi,
    edi; syscall`)."""
    code = b"\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05"
    base, header, program = 0x400000, 64, 56
    entry = base + header + program
    size = header + program + len(code)
    elf_header = (b"\x7fELF\x02\x01\x01" + b"\x00" * 9
                  + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, header, 0, 0, header,
                                program, 1, 0, 0, 0))
    program_header = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return elf_header + program_header + code


def pe() -> bytes:
    """The start of a Windows executable: its DOS stub and PE header."""
    stub = bytearray(b"MZ" + b"\x00" * 126)
    struct.pack_into("<I", stub, 0x3C, 0x80)
    stub[0x40:0x40 + 39] = b"This program cannot be run in DOS mode."
    return bytes(stub) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + b"\x00" * 372


SAMPLES: dict[str, bytes] = {
    "inventory.pdf": pdf(["Data inventory 2027", "City of Rock Hill, SC",
                          "42 datasets, each with its owner and refresh date."]),
    "dashboard.png": png(320, 200, dashboard),
    "policy.docx": docx(),
    "budget.xlsx": xlsx(),
    "minutes.odt": odt(),
    "macros.docm": docm(),
    "archive.zip": plain_zip(),
    "legacy.doc": ole(["WordDocument", "\x05SummaryInformation"]),
    # The directory beyond the first 8 KB: the kind comes from the name.
    "legacy-far.xls": ole(["Workbook"], directory_sector=20),
    # An installer's compound file, renamed: its directory names no office stream.
    "installer-renamed.doc": ole(["\u4840\u3b3f\u4577", "\x05SummaryInformation"]),
    "notes.txt": "Actas de la reunión: política de datos abiertos aprobada.\n".encode(),
    "datasets.csv": b"dataset,owner,refreshed\nbudget,finance,2027-01-05\n",
    "page-named.pdf": b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n",
    "tool-renamed.pdf": elf(),
    "setup-renamed.docx": pe(),
    "script.txt": b"#!/bin/sh\nrm -rf /\n",
    "utf16.txt": "text in UTF-16".encode("utf-16"),
}
COPIED = ("python.jpg", "python.gif", "python.webp", "python.bmp")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in SAMPLES.items():
        (OUT / name).write_bytes(data)
    source = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for name in COPIED:
        found = source / "test" / "test_email" / "data" / name
        if found.exists():
            (OUT / name).write_bytes(found.read_bytes())
        elif not (OUT / name).exists():
            print(f"{name}: not found under {found.parent} (copy it from CPython's "
                  "Lib/test/test_email/data)", file=sys.stderr)
    print(f"wrote {len(SAMPLES)} samples to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
