"""`wwc db migrate`, `wwc projections rebuild`, `wwc verify`: event store maintenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from pydantic import BaseModel
from rich.console import Console

from domain.text import escape_controls
from infra.blobs.configured import blob_store
from infra.blobs.port import BlobMissing
from infra.bootstrap import open_program
from infra.cli.common import async_command, cli_settings
from infra.cli.progress import progress_bar
from infra.ops.audit import Auditor
from infra.ops.recovery import recover
from infra.ops.stack import running_up
from infra.platform.clockfile import load_clock
from infra.platform.config import Settings
from infra.platform.errors import IntegrityBroken, InvalidInput, Refused, Unavailable, UsageError
from infra.postgres.backup import DeploymentFiles, backup, restore_database
from infra.postgres.db import connect
from infra.postgres.migrate import migrate, migrations
from infra.postgres.service_database import database_url, open_pool, redact
from infra.postgres.verify import verify_chains
from infra.readside import queries
from infra.readside.documents import NamedDocument, every_document, needed_documents
from infra.readside.projections import projector
from infra.standards.folder import StandardsFolder
from infra.temporal.environment import connect_client, service_temporal_address

db_app = typer.Typer(help="The event store's database.", no_args_is_help=True)
projections_app = typer.Typer(help="Read models kept from the event log.",
                              no_args_is_help=True)


@db_app.command("migrate")
@async_command
async def migrate_command() -> None:
    """Apply the schema migrations that are missing (safe to run any time)."""
    url = await database_url(cli_settings())
    try:
        conn = await connect(url)
    except OSError as error:
        raise Unavailable(f"cannot reach PostgreSQL at {redact(url)}: {error}") from None
    try:
        applied = await migrate(conn)
    finally:
        await conn.close()
    for migration in applied:
        typer.echo(f"applied {migration.version:03d} {migration.name}")
    typer.echo(f"schema at version {migrations()[-1].version} ({len(applied)} applied now)")


@projections_app.command("rebuild")
@async_command
async def rebuild_command(
    name: Annotated[str | None, typer.Argument(
        help="registry, cohorts or pipeline; all of them when left out.")] = None,
) -> None:
    """Rebuild read models from position zero of the event log, with a progress bar."""
    async with open_pool(cli_settings()) as pool:
        read_models = projector(pool)
        names = [name] if name else list(read_models.projections)
        unknown = [n for n in names if n not in read_models.projections]
        if unknown:
            raise InvalidInput(f"unknown projection {unknown[0]!r} (known: "
                               f"{', '.join(read_models.projections)})")
        with progress_bar() as bar:
            for projection in names:
                await read_models.reset(projection)
                task = bar.add_task(projection, total=await read_models.pending(projection))
                # Reset above (to size the bar from position zero), so only catch up here.
                count = await read_models.catch_up(
                    projection, lambda n, t=task: bar.advance(t, n))  # type: ignore[misc]
                bar.update(task, completed=count, total=count)


@async_command
async def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    documents: Annotated[bool, typer.Option(
        "--documents", help="Also recompute the SHA-256 of every stored document the log "
                            "needs (submitted, or attached now) against the log's.")] = False,
) -> None:
    """Walk the event log and check every stream's hash chain (and, with --documents,
    every evidence document's stored bytes); exit 7 on a break."""
    settings = cli_settings()
    async with open_pool(settings) as pool:
        async with pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM wwc_events")
            with progress_bar(Console(stderr=True, quiet=as_json)) as bar:
                task = bar.add_task("verify", total=total)
                result = await verify_chains(conn, lambda n: bar.advance(task, n))
        checked = await _check_documents(pool, settings, quiet=as_json) if documents else None
    first = result.first_break
    if as_json:
        typer.echo(json.dumps({"events": result.events, "streams": result.streams,
                               "ok": first is None and not (checked and checked.broken),
                               "first_break": first.model_dump() if first else None,
                               "breaks": len(result.breaks),
                               **({"documents": checked.model_dump()} if checked else {})}))
    else:
        if first is None:
            typer.echo(f"ok: {result.events} events in {result.streams} streams, "
                       "every hash chain holds")
        if checked is not None:
            for line in checked.lines():
                typer.echo(line)
    if first is not None:
        raise IntegrityBroken(
            f"hash chain broken at position {first.position} ({first.stream_id} "
            f"v{first.stream_version}, {first.event_type}): {first.reason}; "
            f"{len(result.breaks)} event(s) affected")
    if checked is not None and checked.broken:
        raise IntegrityBroken(
            f"{len(checked.changed)} document(s) changed and {len(checked.missing)} missing "
            "since the log recorded them: restore them from a backup (wwc restore)")


async def _check_documents(pool: asyncpg.Pool[Any], settings: Settings, *,
                           quiet: bool) -> DocumentsChecked:
    """Every document the log still needs (submitted, or attached to an open
    application: a document removed from a draft may be collected), its stored bytes
    hashed again (each file once, however many criteria and cities name it)."""
    needed = await needed_documents(pool)
    named = [found for found in await every_document(pool)
             if found.document.sha256 in needed]
    by_hash: dict[str, list[NamedDocument]] = {}
    for found in named:
        by_hash.setdefault(found.document.sha256, []).append(found)
    blobs = blob_store(settings)
    checked = DocumentsChecked(documents=len(named), files=len(by_hash))
    with progress_bar(Console(stderr=True, quiet=quiet)) as bar:
        task = bar.add_task("documents", total=len(by_hash))
        for sha256, where in by_hash.items():
            try:
                actual = await blobs.verify(sha256)
            except BlobMissing:
                checked.missing.append(_problem(sha256, where, None))
            else:
                if actual is not None:
                    checked.changed.append(_problem(sha256, where, actual))
            bar.advance(task, 1)
    return checked


def _problem(sha256: str, where: list[NamedDocument], actual: str | None) -> DocumentProblem:
    return DocumentProblem(sha256=sha256, now_hashes_to=actual, named_by=[
        f"{w.city_key} {w.criterion} {w.document.name!r} (v{w.stream_version})"
        for w in where])


class DocumentProblem(BaseModel):
    sha256: str
    now_hashes_to: str | None  # None: the file is missing
    named_by: list[str]


class DocumentsChecked(BaseModel):
    documents: int  # as many as the log attached and still needs
    files: int  # distinct bytes among them
    changed: list[DocumentProblem] = []
    missing: list[DocumentProblem] = []

    @property
    def broken(self) -> bool:
        return bool(self.changed or self.missing)

    def lines(self) -> list[str]:
        # Only the files that are there were hashed: a missing one is counted apart.
        hashed = self.files - len(self.missing)
        found = [f"{'ok' if not self.broken else 'NOT ok'}: {self.documents} document(s) the "
                 f"log needs, {hashed} stored file(s) hashed again"
                 + (f", {len(self.missing)} missing" if self.missing else "")]
        found += [f"changed: {p.sha256} now hashes to {p.now_hashes_to}; named by "
                  f"{escape_controls('; '.join(p.named_by))}" for p in self.changed]
        found += [f"missing: {p.sha256}; named by {escape_controls('; '.join(p.named_by))}"
                  for p in self.missing]
        return found


@async_command
async def audit_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check that every city's and cohort's workflow state, the fold of its event stream
    and its read-model rows agree; name each disagreement; exit 7 on any."""
    settings = cli_settings()
    async with open_program(settings) as program, open_pool(settings) as pool:
        auditor = Auditor(program, pool)
        streams = await auditor.streams()
        with progress_bar(Console(stderr=True, quiet=as_json)) as bar:
            task = bar.add_task("audit", total=len(streams))
            found = await auditor.run(lambda n: bar.advance(task, n))
    if as_json:
        typer.echo(json.dumps({"streams": len(streams), "ok": not found,
                               "disagreements": [d.model_dump() for d in found]}))
    elif not found:
        typer.echo(f"ok: {len(streams)} cities and cohorts; workflows, event log and read "
                   "models agree")
    else:
        for disagreement in found:
            typer.echo(disagreement.describe())
    if found:
        raise IntegrityBroken(f"{len(found)} disagreement(s) in "
                              f"{len({d.stream for d in found})} stream(s)")


@async_command
async def recover_command() -> None:
    """Rebuild every city's and cohort's workflow from its event stream, on a Temporal
    server that lost its database: state, status, search attributes and pending timers
    as before. Safe to repeat: a workflow still running is left as it is. Needs a worker
    (`wwc up`, or `wwc worker`) to run them; check with `wwc audit` afterwards."""
    settings = cli_settings()
    client = await connect_client(settings, await service_temporal_address(settings))
    async with open_pool(settings) as pool:
        total = len(await queries.program_streams(pool))
        with progress_bar() as bar:
            task = bar.add_task("recover", total=total)
            done = await recover(client, pool, task_queue=settings.task_queue,
                                 clock=load_clock(settings.data_dir),
                                 standards=StandardsFolder(settings.effective_standards_dir),
                                 progress=lambda n: bar.advance(task, n))
    typer.echo(f"recovered {done.cities} cities and {done.cohorts} cohorts from the event "
               "log; check with `wwc audit`")


@async_command
async def backup_command(
    file: Annotated[Path, typer.Argument(help="The backup file to write.")],
) -> None:
    """Back up the program to FILE: the event store's database (events, read models,
    accounts), the program clock, the operator's standard files and the evidence documents.
    Readable by you only."""
    settings = cli_settings()
    url = await database_url(settings)
    written = await backup(url, file, deployment_files(settings), blob_store(settings))
    typer.echo(f"wrote {file} ({written.size:,} bytes, {written.documents} documents); "
               f"restore with `wwc restore {file} --yes`")
    if written.unreadable:
        raise IntegrityBroken(
            f"{len(written.unreadable)} stored documents failed their hash check and are not "
            f"in the backup: {', '.join(written.unreadable)}")


def deployment_files(settings: Settings) -> DeploymentFiles:
    return DeploymentFiles(data_dir=settings.data_dir.resolve(),
                           standards_dir=settings.effective_standards_dir.resolve())


@async_command
async def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup written by `wwc backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database's contents.")]
    = False,
) -> None:
    """Restore the program from FILE, replacing what the database holds (and the program
    clock and operator standards in the data directory); then follow the README's runbook:
    `wwc verify`, `wwc projections rebuild`, `wwc up` (or your workers), `wwc recover`,
    `wwc audit`."""
    settings = cli_settings()
    if not yes:
        raise UsageError("restoring replaces every event in the database: add --yes")
    if (pid := running_up(settings.data_dir.resolve())) is not None:
        raise Refused(f"`wwc up` is running for this data directory (pid {pid}); stop it "
                      "first, so no worker writes while the database is replaced")
    done = await restore_database(await database_url(settings), file,
                                  deployment_files(settings), blob_store(settings))
    typer.echo(f"restored {file}" + (" (the database only: a backup from an older wwc)"
                                     if done.legacy else ""))
    for written in done.files:
        typer.echo(f"  wrote {written}")
    if done.documents or done.documents_kept or done.documents_failed:
        typer.echo(f"  documents: {done.documents} restored, {done.documents_kept} kept "
                   "already, every hash checked")
    typer.echo("Next: wwc verify; wwc projections rebuild; wwc up (or your workers); "
               "wwc recover; wwc audit")
    if done.documents_failed:
        raise IntegrityBroken(
            f"{len(done.documents_failed)} documents in the backup do not match their hash "
            f"and were not restored: {', '.join(done.documents_failed)}")
