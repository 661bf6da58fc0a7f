"""Evidence documents: what a city uploads to prove a criterion (a data inventory, an
open-data policy, meeting minutes), as the program records it.

A document is known by the SHA-256 of its bytes (the blob store's key), its cleaned name,
its media type (judged by its content: `domain/sniffing.py`), its size, and who added it
on which day. The bytes live in a blob store; the log holds these facts, so the city's
hash chain covers exactly which bytes were attached, submitted and reviewed (why they
are events of the city's own stream: `domain/evidence.py`).

Every door refuses the same things with the same codes: a name with a path or a control
character (`invalid_document_name`), a type the program does not take
(`unsupported_document_type`), an empty file (`empty_document`), a file over the
operator's limit (`document_too_large`), an application's documents over the city's
limit (`city_documents_too_large`)."""

from __future__ import annotations

import unicodedata
from datetime import date
from enum import StrEnum

from domain.errors import DomainError, ErrorCategory
from domain.model import StrictFrozen
from domain.text import single_line_problem

MB = 1024 * 1024
# The longest name kept, in characters: a longer one is shortened (its extension kept).
MAX_NAME_LENGTH = 200


class DocumentRefused(DomainError):
    """An upload the program does not take: its file is wrong (fix it and try again)."""

    code = "invalid_document"
    category = ErrorCategory.INVALID_INPUT


class MediaType(StrEnum):
    """The kinds of document the program takes, judged by content (`sniffing.py`)."""

    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ODT = "application/vnd.oasis.opendocument.text"
    ODS = "application/vnd.oasis.opendocument.spreadsheet"
    ODP = "application/vnd.oasis.opendocument.presentation"
    DOC = "application/msword"
    XLS = "application/vnd.ms-excel"
    PPT = "application/vnd.ms-powerpoint"
    CSV = "text/csv"
    TEXT = "text/plain"
    PNG = "image/png"
    JPEG = "image/jpeg"
    GIF = "image/gif"
    WEBP = "image/webp"


# The file extensions each type is known by; the first is the one a download gets when
# its name has none of them (`download_name`).
EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    MediaType.PDF: (".pdf",), MediaType.DOCX: (".docx",), MediaType.XLSX: (".xlsx",),
    MediaType.PPTX: (".pptx",), MediaType.ODT: (".odt",), MediaType.ODS: (".ods",),
    MediaType.ODP: (".odp",), MediaType.DOC: (".doc",), MediaType.XLS: (".xls",),
    MediaType.PPT: (".ppt",), MediaType.CSV: (".csv",),
    MediaType.TEXT: (".txt", ".text", ".md", ".tsv"),
    MediaType.PNG: (".png",), MediaType.JPEG: (".jpg", ".jpeg"), MediaType.GIF: (".gif",),
    MediaType.WEBP: (".webp",),
}
# Shown in the browser (in a sandboxed view): no script can run in these. Everything
# else is only ever downloaded.
INLINE = frozenset({MediaType.PDF, MediaType.PNG, MediaType.JPEG, MediaType.GIF,
                    MediaType.WEBP})


def shown_inline(media_type: str) -> bool:
    return media_type in INLINE


class EvidenceDocument(StrictFrozen):
    """A document attached to a criterion, as the city's log records it. The media type
    is kept as text: a type the allow-list drops later must still read back."""

    name: str
    media_type: str
    size: int
    sha256: str
    added_on: date
    added_by: str  # the account (its id) that added it
    # The last day the document proves its criterion (a policy adopted until revised);
    # None: no end. At reapplication, a document past it is not carried over.
    valid_through: date | None = None

    @property
    def inline(self) -> bool:
        return shown_inline(self.media_type)


# An application's documents, per criterion code, in the order they were added.
Documents = dict[str, tuple[EvidenceDocument, ...]]


def distinct_bytes(documents: Documents) -> int:
    """What an application's documents take in the store: each file counted once (the
    store keeps the same bytes once, whichever criteria they prove)."""
    sizes = {d.sha256: d.size for docs in documents.values() for d in docs}
    return sum(sizes.values())


def count(documents: Documents) -> int:
    return sum(len(docs) for docs in documents.values())


def clean_name(raw: str) -> str:
    """The name a document is kept and shown under: the file's own name, trimmed and in
    composed Unicode (NFC), shortened to `MAX_NAME_LENGTH` characters keeping its
    extension. A name with a path (`/`, `\\`, `..`), a control or bidi-override
    character, or no visible character at all is refused (`invalid_document_name`):
    names are never used as paths (the store keys bytes by their hash), but a name that
    tries to be one is a mistake or an attack, and says so."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name.strip("."):
        raise _bad_name(raw, "a document needs a file name")
    if "/" in name or "\\" in name or ".." in name.split("."):
        raise _bad_name(raw, "a file name may not contain a path (/, \\ or ..)")
    if (problem := single_line_problem(name)) is not None:
        raise _bad_name(raw, f"the file name {problem}")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10 and stem:
            name = stem[:MAX_NAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def _bad_name(raw: str, why: str) -> DocumentRefused:
    return DocumentRefused(f"name: {why}", code="invalid_document_name",
                           facts={"name": raw[:80]})


def extension_of(name: str) -> str:
    """The name's extension, lowercase with its dot ('' for none)."""
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


def download_name(name: str, media_type: str) -> str:
    """The name a download is saved under: the document's own, with its type's extension
    added when it has none of them, so the saved file opens as what it is (a text file
    named `policy.html` saves as `policy.html.txt`, never as a page)."""
    try:
        known = EXTENSIONS[MediaType(media_type)]
    except ValueError:
        return f"{name}.bin"
    return name if extension_of(name) in known else f"{name}{known[0]}"


def check_size(size: int, limit: int) -> None:
    """Refuse an empty file, or one over `limit` bytes (the operator's rule)."""
    if size <= 0:
        raise DocumentRefused("the file is empty", code="empty_document")
    if size > limit:
        raise too_large(limit)


def too_large(limit: int) -> DocumentRefused:
    return DocumentRefused(f"the file is larger than the {in_mb(limit)} MB a document may "
                           "have", code="document_too_large", facts={"limit": in_mb(limit)})


def in_mb(size: int) -> int:
    """Bytes as whole megabytes, rounded up (a limit is never shown lower than it is)."""
    return -(-size // MB)
