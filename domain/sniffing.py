"""What kind of document a file is, judged from its first bytes (the blob store hands over
`HEAD_BYTES` of every staged upload), never from its name alone: a renamed executable or
an HTML page named `.pdf` is refused for what it is.

- PDF, PNG, JPEG, GIF and WebP by their magic numbers.
- Office documents are ZIP archives (OOXML: .docx/.xlsx/.pptx; ODF: .odt/.ods/.odp) told
  apart by their entries: the local file headers at the archive's start name them (an
  ODF file's first entry is its uncompressed `mimetype`; an OOXML file has `word/`,
  `xl/` or `ppt/` parts, or says so in `[Content_Types].xml`, inflated here when it is
  in the head). Any other ZIP archive, and a macro-enabled document, is refused.
- Legacy Office files (.doc/.xls/.ppt) are OLE compound files: their directory names the
  main stream (`WordDocument`, `Workbook`, `PowerPoint Document`) when it lies in the
  head. When it lies beyond, the container is certain but not its kind, which the
  name's extension then picks (an OLE file named anything else, an installer (.msi) for
  one, is refused); the download keeps that extension, so it opens in an office
  program, never as an installer.
- Plain text: UTF-8 (a byte-order mark allowed) with no control characters but tabs,
  line and page breaks; `text/csv` when named `.csv`. Text that starts as markup (HTML,
  XML, SVG) or as a script (`#!`) is refused: a browser or a shell would run it.

Pure: bytes in, a media type or a `DocumentRefused` out."""

from __future__ import annotations

import codecs
import struct
import zlib

from domain.documents import DocumentRefused, MediaType, extension_of

PNG = b"\x89PNG\r\n\x1a\n"
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What an upload may look like that the program never takes, to say so by name.
_REFUSED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"), (b"\x7fELF", "a Linux executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"), (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java executable"), (b"#!", "a script"),
    (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"%!PS", "a PostScript program"),
)
_ODF = {"application/vnd.oasis.opendocument.text": MediaType.ODT,
        "application/vnd.oasis.opendocument.spreadsheet": MediaType.ODS,
        "application/vnd.oasis.opendocument.presentation": MediaType.ODP}
_OOXML_PARTS = (("word/", MediaType.DOCX), ("xl/", MediaType.XLSX), ("ppt/", MediaType.PPTX))
_OOXML_MAIN = ((b"wordprocessingml.document.main", MediaType.DOCX),
               (b"spreadsheetml.sheet.main", MediaType.XLSX),
               (b"presentationml.presentation.main", MediaType.PPTX))
_OLE_STREAMS = {"WordDocument": MediaType.DOC, "Workbook": MediaType.XLS,
                "Book": MediaType.XLS, "PowerPoint Document": MediaType.PPT}
_OLE_BY_EXTENSION = {".doc": MediaType.DOC, ".xls": MediaType.XLS, ".ppt": MediaType.PPT}
# Text may hold these controls (tab, line feed, form feed, carriage return), no others.
_TEXT_CONTROLS = frozenset("\t\n\x0c\r")
TAKEN = ("PDF, office documents (Word, Excel, PowerPoint, OpenDocument), CSV, "
         "PNG, JPEG, GIF or WebP images, or plain UTF-8 text")


def media_type_of(head: bytes, name: str, *, complete: bool) -> MediaType:
    """The type of the document whose first bytes are `head` (all of it when
    `complete`), named `name`; `DocumentRefused` (`unsupported_document_type`) for
    anything the program does not take."""
    found = _judge(head, name, complete)
    if isinstance(found, MediaType):
        return found
    raise DocumentRefused(f"{name} is {found}: not a document the program takes ({TAKEN})",
                          code="unsupported_document_type", facts={"name": name[:80]})


def _judge(head: bytes, name: str, complete: bool) -> MediaType | str:
    if head.startswith(b"%PDF-"):
        return MediaType.PDF
    if head.startswith(PNG):
        return MediaType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head.startswith(ZIP):
        return _zipped(head)
    if head.startswith(OLE):
        return _ole(head, name)
    for magic, what in _REFUSED_MAGIC:
        if head.startswith(magic):
            return what
    return _text(head, name, complete)


# --- ZIP: office documents ---------------------------------------------------------------

def _zipped(head: bytes) -> MediaType | str:
    entries = list(_zip_entries(head))
    names = [entry_name for entry_name, _ in entries]
    if any(n.endswith("vbaProject.bin") for n in names):
        return "an office document with macros"
    if entries and entries[0][0] == "mimetype":
        declared = entries[0][1].decode("ascii", "replace").strip()
        if declared in _ODF:
            return _ODF[declared]
    for entry_name, data in entries:
        if entry_name == "[Content_Types].xml":
            if b"macroEnabled" in data:
                return "an office document with macros"
            for marker, kind in _OOXML_MAIN:
                if marker in data:
                    return kind
    for prefix, kind in _OOXML_PARTS:
        if any(n.startswith(prefix) for n in names):
            return kind
    return "a ZIP archive that is not an office document"


def _zip_entries(head: bytes) -> list[tuple[str, bytes]]:
    """The entries whose local headers lie in `head`: each name, with its data (stored
    or inflated) as far as the head holds it. Stops where the next header cannot be
    found (sizes kept in a data descriptor, after the entry)."""
    found: list[tuple[str, bytes]] = []
    at = 0
    while at + 30 <= len(head) and head[at:at + 4] == ZIP:
        flags, method = struct.unpack_from("<HH", head, at + 6)
        packed, = struct.unpack_from("<I", head, at + 18)
        name_length, extra_length = struct.unpack_from("<HH", head, at + 26)
        raw_name = head[at + 30:at + 30 + name_length]
        if len(raw_name) < name_length:
            break
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        start = at + 30 + name_length + extra_length
        described_after = bool(flags & 0x08) and packed == 0
        data = head[start:] if described_after else head[start:start + packed]
        found.append((name, _entry_data(method, data)))
        if described_after:
            break  # its size follows its data: the next header is not to be found here
        at = start + packed
    return found


def _entry_data(method: int, data: bytes) -> bytes:
    if method == 0:
        return data
    if method == 8:  # deflate: as much as the head holds
        try:
            return zlib.decompressobj(-15).decompress(data, 65536)
        except zlib.error:
            return b""
    return b""


# --- OLE: legacy Office ------------------------------------------------------------------

def _ole(head: bytes, name: str) -> MediaType | str:
    streams = _ole_directory(head)
    if streams is not None:
        for stream in streams:
            if stream in _OLE_STREAMS:
                return _OLE_STREAMS[stream]
        return "a compound file that is not an office document (an installer, a mail?)"
    kind = _OLE_BY_EXTENSION.get(extension_of(name))
    return kind if kind is not None else (
        "a compound file whose kind cannot be told (name it .doc, .xls or .ppt if it is "
        "one)")


def _ole_directory(head: bytes) -> list[str] | None:
    """The names in the compound file's first directory sector, or None when that
    sector lies beyond the head."""
    if len(head) < 512:
        return None
    shift, = struct.unpack_from("<H", head, 30)
    first, = struct.unpack_from("<I", head, 48)
    if shift not in (9, 12) or first >= 0xFFFFFFFA:
        return None
    size = 1 << shift
    start = (first + 1) * size
    if start + size > len(head):
        return None
    names = []
    for entry in range(start, start + size, 128):
        length, = struct.unpack_from("<H", head, entry + 64)
        if 2 <= length <= 64:
            names.append(head[entry:entry + length - 2].decode("utf-16-le", "replace"))
    return names


# --- plain text --------------------------------------------------------------------------

def _text(head: bytes, name: str, complete: bool) -> MediaType | str:
    if not head:
        return "empty"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # A head cut from a longer file may end inside a character: not an error.
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return "neither a known document format nor UTF-8 text"
    text = text.removeprefix("\ufeff")
    if any((ord(c) < 32 and c not in _TEXT_CONTROLS) or 0x7F <= ord(c) < 0xA0
           for c in text):
        return "binary data, not a known document format"
    start = text.lstrip()
    if start.startswith("<") and len(start) > 1 and (start[1].isalpha() or start[1] in "!?"):
        return "a web page or markup (HTML, XML or SVG)"
    if start.startswith("#!"):
        return "a script"
    return MediaType.CSV if extension_of(name) == ".csv" else MediaType.TEXT
