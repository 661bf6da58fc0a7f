"""A city's evidence documents: uploaded by its editors (the file is the request's body,
streamed to the blob store, never whole in memory), listed, read back (by the city's
editors, the reviewer assigned and the staff; another city's editor is told there is no
such document) and removed from the draft.

What a document is served as: its recorded type with `nosniff`; PDF and images `inline`
(the portal shows them in a sandboxed view), anything else only as an `attachment` under
a name with its type's extension; every answer carries a sandboxing Content-Security-
Policy, so even a document opened by itself runs no script and reaches nothing."""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from domain.documents import EvidenceDocument, download_name, shown_inline
from domain.views import CommandAnswer
from infra.platform.errors import CommandRefused, NotFound
from infra.readside.documents import decided_documents
from infra.web.access import Rule
from infra.web.idempotency import KEY_HEADER
from infra.web.problems import answer
from infra.web.routing import caller_of, route, update_id
from infra.web.services import services

router = APIRouter()

# The policy of a document's own answer: nothing it holds may run or load anything.
DOCUMENT_CSP = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'; sandbox")
# A refused upload's status, and the field it is about (the problem's detail names it).
_UPLOAD_REFUSALS: dict[str, tuple[int, str]] = {
    "document_too_large": (413, "body"), "city_documents_too_large": (413, "body"),
    "unsupported_document_type": (415, "body"), "empty_document": (422, "body"),
    "invalid_document_name": (422, "name"), "unknown_criterion": (422, "criterion"),
    "invalid_valid_through": (422, "valid_through"),
}


class Document(BaseModel):
    """A document attached to a criterion: its bytes at `href`."""

    criterion: str
    name: str
    media_type: str
    size: int
    sha256: str
    added_on: date
    added_by: str
    valid_through: date | None = None  # the last day it proves the criterion; None: no end
    inline: bool  # shown in the browser (PDF, images); anything else is downloaded
    href: str


class Uploaded(Document):
    """The document as recorded, or as it already was (`nothing_new` says why)."""

    nothing_new: str | None = None


class DocumentList(BaseModel):
    city_key: str
    # The open application whose documents these are; None: the documents the city's last
    # decision was made on (no application open).
    application: int | None
    documents: list[Document]


def _document(key: str, criterion: str, found: EvidenceDocument) -> Document:
    return Document(criterion=criterion, name=found.name, media_type=found.media_type,
                    size=found.size, sha256=found.sha256, added_on=found.added_on,
                    added_by=found.added_by, valid_through=found.valid_through,
                    inline=found.inline,
                    href=f"/api/cities/{key}/documents/{found.sha256}")


@route(router, "POST", "/api/cities/{key}/documents", Rule.CITY_EDITOR, status_code=201,
       response_model=Uploaded, summary="Upload a document for a criterion",
       streamed_body="The file itself, as it is (not a form).", responses={
           200: {"model": Uploaded, "description": "The same file was attached already: "
                                                   "nothing new (`nothing_new` says so)"},
           413: {"description": "Over the operator's limit: a file's or the city's"},
           415: {"description": "Not a kind of document the program takes"}})
async def upload_document(
        request: Request, key: str,
        criterion: Annotated[str, Query(max_length=64, description="The criterion's code.")],
        name: Annotated[str, Query(max_length=1000, description="The file's name.")],
        valid_through: Annotated[date | None, Query(
            description="The last day the document proves the criterion (a policy in force "
            "until revised): today or later, at most 10 years ahead. At reapplication a "
            "document still valid is carried over.")] = None,
) -> Response:
    """The request's body is the file itself (any Content-Type but a form's), streamed
    to the document store. Its type is judged by its content (PDF, office documents,
    CSV, PNG/JPEG/GIF/WebP images, UTF-8 text); its name is kept without any path.
    Refused with nothing kept: 413 over the operator's limits (25 MB a file, 500 MB an
    application's documents by default), 415 a type the program does not take, 422 a
    name with a path or a control character, an empty file or an unknown criterion,
    409 an application no longer being assessed. The same file on the same criterion
    again records nothing (`nothing_new`); under the same Idempotency-Key a retry gets
    the first answer."""
    found = services(request)
    evidence = found.evidence
    caller = caller_of(request)
    declared = request.headers.get("content-length", "")
    try:
        intake = await evidence.ready(key, criterion, name, valid_through)
        staged = await evidence.stage(request.stream(),
                                      int(declared) if declared.isdigit() else None)
    except CommandRefused as refused:
        return await _refusal(request, refused)
    except ClientDisconnect:  # the spool is gone with it; nobody is left to answer
        return await answer(request, 400, "body: the upload was cut off before its end")
    try:
        try:
            media_type = evidence.judge(intake, staged)
        except CommandRefused as refused:
            return await _refusal(request, refused)

        async def keep(_: Request) -> Response:
            try:
                kept = await evidence.keep(intake, staged, media_type,
                                           context=caller.context(),
                                           update_id=update_id(request, f"{key}:document"))
            except CommandRefused as refused:
                # The city's limit, checked again under its lock: answered as the first
                # check is; any other refusal as every route's is.
                if refused.code not in _UPLOAD_REFUSALS:
                    raise
                return await _refusal(request, refused)
            await found.after_write()
            body = Uploaded(**_document(key, kept.criterion, kept.document).model_dump(),
                            nothing_new=kept.answer.nothing_new)
            return JSONResponse(body.model_dump(mode="json"),
                                status_code=200 if kept.answer.nothing_new else 201)

        account = caller.signed_in
        if KEY_HEADER in request.headers:
            # Told apart by what was asked (the criterion, the name as sent) and the
            # bytes' hash: the body itself is in the spool, never read whole.
            return await found.idempotency.run(
                request, account.account_id, "POST /api/cities/{key}/documents", keep,
                content=f"{criterion}\n{name}\n{staged.sha256}".encode())
        return await keep(request)
    finally:
        await found.blobs.discard(staged)  # kept already, or not to be kept


async def _refusal(request: Request, refused: CommandRefused) -> Response:
    status, field = _UPLOAD_REFUSALS.get(refused.code or "", (refused.kind.http_status, ""))
    detail = refused.message
    if field and not detail.startswith(f"{field}: "):
        detail = f"{field}: {detail}"
    return await answer(request, status, detail, code=refused.code, kind=refused.kind.value,
                        facts=refused.facts or None)


@route(router, "GET", "/api/cities/{key}/documents", Rule.CITY,
       response_model=DocumentList, summary="The city's documents")
async def list_documents(request: Request, key: str) -> DocumentList:
    """The documents of the open application, per criterion (without one open, those
    the last decision was made on), each with its hash and where to read it."""
    found = services(request)
    app = await found.program.application(key)
    documents = app.documents if app is not None else await decided_documents(found.pool, key)
    return DocumentList(city_key=key, application=app.number if app else None, documents=[
        _document(key, criterion, doc) for criterion, docs in documents.items() for doc in docs])


@route(router, "GET", "/api/cities/{key}/documents/{sha256}", Rule.CITY,
       summary="A document's bytes", response_class=StreamingResponse,
       responses={200: {"content": {"*/*": {}},
                        "description": "The document, checked against its hash"}})
async def read_document(
        request: Request, key: str, sha256: str,
        download: Annotated[bool, Query(description="As an attachment, whatever its type.")]
        = False) -> Response:
    """The document's bytes, checked against its SHA-256 before they are sent (a stored
    file altered since it was recorded is refused: 409 `document_altered`). PDF and
    images are served inline (unless `download`), anything else as an attachment; the
    answer's `Repr-Digest` carries the hash."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise NotFound(f"city {key!r} has no document {sha256[:12]!r}")
    evidence = services(request).evidence
    named = await evidence.find(key, sha256)
    chunks = await evidence.open(sha256)
    document = named.document
    inline = shown_inline(document.media_type) and not download
    media_type = document.media_type + ("; charset=utf-8"
                                        if document.media_type.startswith("text/") else "")
    return StreamingResponse(chunks, media_type=media_type, headers={
        "Content-Disposition": _disposition("inline" if inline else "attachment",
                                            download_name(document.name, document.media_type)),
        "Content-Length": str(document.size),
        "Content-Security-Policy": DOCUMENT_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
        "ETag": f'"{sha256}"',
    })


def _disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII stand-in for old clients, and the name itself (RFC 8187)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@route(router, "DELETE", "/api/cities/{key}/documents/{sha256}", Rule.CITY_EDITOR,
       response_model=CommandAnswer, summary="Remove a document from the draft")
async def remove_document(
        request: Request, key: str, sha256: str,
        criterion: Annotated[str, Query(max_length=64, description="The criterion's code.")],
) -> CommandAnswer:
    """Take the document off the criterion while the application is assessed (an
    `evidence.document_removed` event); a document not attached there is not found."""
    found = services(request)
    done = await found.evidence.remove(
        key, criterion, sha256, context=caller_of(request).context(),
        update_id=update_id(request, f"{key}:remove-document:{criterion}:{sha256}"))
    await found.after_write()
    return done
