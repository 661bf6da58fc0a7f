"""`wwc evidence add|list|remove|collect`: a city's evidence documents from the server's
shell. `add` runs the same steps as the API's upload (`infra/application/documents.py`):
the name, stage and criterion checked before the file is read, its bytes streamed to the
configured document store, its type judged by content, then recorded in the city's log.
`collect` removes the bytes no city needs any more (`domain.evidence.needed_bytes`). Not
bound by WWC_CLI_TIMEOUT: a large file to an object store may rightly take long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from domain.carry_over import valid_through_day
from domain.documents import Documents
from infra.application.documents import Evidence
from infra.blobs.collect import collect
from infra.blobs.configured import blob_store
from infra.blobs.disk import SPOOL
from infra.blobs.spool import sweep_spool
from infra.bootstrap import open_program
from infra.cli.common import (
    JsonOption,
    Request,
    RequestIdOption,
    async_command,
    city_key_arg,
    cli_settings,
    echo_json,
    print_view,
    retryable,
    shown,
)
from infra.platform.errors import InvalidInput
from infra.postgres.locks import AdvisoryLocks
from infra.postgres.service_database import open_pool
from infra.readside.documents import decided_documents, needed_documents
from workflows.actors import SERVER_OPERATOR

evidence_app = typer.Typer(help="A city's evidence documents (uploads, kept by hash).",
                           no_args_is_help=True)
City = Annotated[str, typer.Argument(help="City key, e.g. us-boston-ma (see `wwc list`).",
                                     callback=city_key_arg)]
CHUNK = 1 << 20


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """The file a mebibyte at a time, read in a worker thread."""
    with await asyncio.to_thread(path.open, "rb") as file:
        while block := await asyncio.to_thread(file.read, CHUNK):
            yield block


@evidence_app.command("add")
def add_command(
    city: City,
    criterion: Annotated[str, typer.Argument(help="The criterion's code, e.g. DM1.")],
    file: Annotated[Path, typer.Argument(help="The document: PDF, an office document, "
                                              "CSV, an image or UTF-8 text.")],
    name: Annotated[str | None, typer.Option(
        help="The name to keep it under (default: the file's own).")] = None,
    valid_through: Annotated[str | None, typer.Option(
        metavar="DAY", help="The last day it proves the criterion (a policy in "
        "force until revised), YYYY-MM-DD: today or later, at most 10 years ahead. At "
        "reapplication a document still valid is carried over.")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: Annotated[str | None, RequestIdOption] = None,
) -> None:
    """Attach FILE to a criterion of the city's open application (while it is being
    assessed). Its SHA-256 goes into the city's hash chain; the same file again records
    nothing. Refused, nothing kept: a type judged by content that the program does not
    take, a file over the operator's limits, a name with a path."""
    # Read here, before anything is sent: a day that is not one is bad input (exit 3),
    # worded as the domain words it (Typer's own date type would exit 2, as misuse).
    through = (valid_through_day(valid_through, "--valid-through")
               if valid_through is not None else None)
    if not file.is_file():
        raise InvalidInput(f"{file}: no such file")
    _add(city, criterion, file, file.stat().st_size, name, through, as_json, request_id)


@async_command
async def _add(city: str, criterion: str, file: Path, size: int, name: str | None,
               valid_through: date | None, as_json: bool, request_id: str | None) -> None:
    settings = cli_settings()
    request = Request(request_id)
    with retryable(request):
        # The lock on a pool of its own: the program's queries under it take another.
        async with open_program(settings) as program, open_pool(
                settings, run_migrations=False, size=1) as lock_pool:
            evidence = Evidence(program, blob_store(settings),
                                locks=AdvisoryLocks(lock_pool))
            kept = await evidence.add(city, criterion, name or file.name, _chunks(file),
                                      context=SERVER_OPERATOR,
                                      update_id=request.update_id(city, "AddDocument"),
                                      declared=size, valid_through=valid_through)
            document = kept.document
            if as_json:
                echo_json({"criterion": kept.criterion, **document.model_dump(mode="json"),
                           "nothing_new": kept.answer.nothing_new})
                return
            typer.echo(f"{city} {kept.criterion}: {shown(document.name)} "
                       f"({document.media_type}, {document.size:,} bytes) "
                       f"sha256 {document.sha256}")
            print_view(kept.answer, today=program.program_today())


@evidence_app.command("list")
@async_command
async def list_command(city: City, as_json: Annotated[bool, JsonOption] = False) -> None:
    """The documents of the city's open application, per criterion (with none open,
    those its last decision was made on), with their SHA-256."""
    settings = cli_settings()
    async with open_program(settings) as program:
        app = await program.application(city)
    documents: Documents
    if app is not None:
        documents = app.documents
    else:
        async with open_pool(settings, run_migrations=False, size=1) as pool:
            documents = await decided_documents(pool, city)
    rows = [(criterion, doc) for criterion, docs in documents.items() for doc in docs]
    if as_json:
        echo_json({"city_key": city, "application": app.number if app else None,
                   "documents": [{"criterion": c, **d.model_dump(mode="json")}
                                 for c, d in rows]})
        return
    where = (f"application {app.number}" if app is not None
             else "the last decision (no application open)")
    typer.echo(f"{city}: {len(rows)} document(s) of {where}")
    for criterion, doc in rows:
        typer.echo(f"{criterion:<6} {doc.sha256}  {doc.added_on}  {doc.size:>12,}  "
                   f"{doc.media_type:<20.20}  {shown(doc.name)}")


@evidence_app.command("remove")
def remove_command(
    city: City,
    criterion: Annotated[str, typer.Argument(help="The criterion's code, e.g. DM1.")],
    sha256: Annotated[str, typer.Argument(help="The document's SHA-256 (`wwc evidence list`).")],
    as_json: Annotated[bool, JsonOption] = False,
    request_id: Annotated[str | None, RequestIdOption] = None,
) -> None:
    """Take a document off a criterion of the city's open application (while it is
    being assessed): an event in the city's log; its bytes go once nothing needs them
    (`wwc evidence collect`)."""
    _remove(city, criterion, sha256, as_json, request_id)


@async_command
async def _remove(city: str, criterion: str, sha256: str, as_json: bool,
                  request_id: str | None) -> None:
    settings = cli_settings()
    request = Request(request_id)
    with retryable(request):
        async with open_program(settings) as program:
            view = await Evidence(program, blob_store(settings)).remove(
                city, criterion, sha256, context=SERVER_OPERATOR,
                update_id=request.update_id(city, "RemoveDocument"))
            print_view(view, as_json, program.program_today())


@evidence_app.command("collect")
@async_command
async def collect_command(
    grace_hours: Annotated[float, typer.Option(
        min=0, help="Spare bytes stored less than this long ago (an upload under way keeps "
                    "its bytes before its event is recorded).")] = 24,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only say what would be removed.")] = False,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Remove the stored bytes no city needs any more (a document removed from a draft,
    left on an application withdrawn before its submission, or an upload never
    recorded), once older than the grace; and spool files a crash left behind. Every
    document submitted is kept for good: its decision and certificate name it."""
    settings = cli_settings()
    blobs = blob_store(settings)
    now = datetime.now(UTC)
    grace = timedelta(hours=grace_hours)
    async with open_pool(settings, run_migrations=False, size=1) as pool:
        needed = await needed_documents(pool)  # read just before: see infra/blobs/collect
    if dry_run:
        removed = [key async for key in blobs.keys() if key not in needed  # noqa: SIM118
                   and (at := await blobs.stored_at(key)) is not None and at < now - grace]
        swept: list[Path] = []
    else:
        removed = await collect(blobs, needed, grace=grace, now=now)
        swept = await asyncio.to_thread(sweep_spool, settings.effective_documents_dir / SPOOL,
                                        older_than=max(grace, timedelta(hours=1)), now=now)
    if as_json:
        echo_json({"needed": len(needed), "removed": removed, "dry_run": dry_run,
                   "spool_files_removed": len(swept)})
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{len(needed)} stored document(s) needed by the log; {verb} "
               f"{len(removed)} no longer needed"
               + (f" and {len(swept)} spool file(s) left by a crash" if swept else ""))
    for key in removed:
        typer.echo(f"  {key}")
