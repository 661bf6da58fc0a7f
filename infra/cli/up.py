"""`wwc up`: the whole service on the embedded stack, until Ctrl-C.

It owns what it starts: the data directory's lock and `up.pid` (its pid and start time),
the Temporal dev server (its child, in a process group of its own), the embedded
PostgreSQL and the mail catcher. The supervisor (`infra/ops/supervisor.py`) restarts any of
them that dies. A `wwc up` that was killed leaves its servers running; the next one stops
the dev server and adopts PostgreSQL (`infra.ops.stack.take_over`) before it starts.

Ctrl-C (or SIGTERM) stops everything within `STOP_WITHIN` seconds: the API and the worker
get a short grace for work in flight (an update cut off is retried by its client under its
update id; activities are idempotent), then both servers stop at once; whatever is still
running after `STOP_WITHIN`, or at a second Ctrl-C, is killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import timedelta

import typer

from infra.cli.common import cli_settings, shown
from infra.mail.catcher import MailCatcher
from infra.ops.first_accounts import ensure_first_admin
from infra.ops.stack import (
    Stack,
    UpClaim,
    claim_up,
    embedded_stack,
    release_up,
    running_up,
    stop_leftovers,
    take_over,
)
from infra.ops.supervisor import (
    Child,
    EmbeddedPostgres,
    MailCatcherChild,
    Supervisor,
    TemporalDevServer,
)
from infra.platform.clockfile import load_clock, program_today
from infra.platform.config import Settings
from infra.platform.errors import Unavailable
from infra.platform.heap import freeze_startup_heap
from infra.platform.logs import configure_logging
from infra.platform.processes import wait_gone
from infra.postgres.db import postmaster_pid
from infra.postgres.service_database import open_pool
from infra.standards.folder import StandardsFolder
from infra.temporal.environment import (
    DEV_SERVER_FILE,
    cluster_config,
    connect_client,
    recorded_dev_server,
)
from infra.temporal.ui import UI_PATH

STOP_WITHIN = 4.5  # seconds from Ctrl-C to the last process gone
API_GRACE = 1  # second for requests in flight when the API stops
WORKER_GRACE = timedelta(seconds=1)  # for activities in flight when the worker stops


def say(line: str) -> None:
    typer.echo(f"wwc up: {line}")


def up_command() -> None:
    """Start PostgreSQL, the Temporal dev server (with its web UI), a worker and the HTTP
    API, with state in WWC_DATA_DIR (default ./.wwc), and keep them running: a server that
    dies is started again. Ctrl-C stops everything."""
    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    data_dir = settings.data_dir.resolve()
    claim = claim_up(data_dir)
    try:
        if claim.stale_pid is not None:
            say(f"a previous `wwc up` (pid {claim.stale_pid}) ended without stopping what "
                "it started; cleaning up after it")
        for line in take_over(data_dir, temporal=cluster_config(settings) is None,
                              postgres=not settings.database_url):
            say(line)
        asyncio.run(_serve(settings, claim))
    finally:
        release_up(data_dir, claim)


async def _serve(settings: Settings, claim: UpClaim) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    configured = settings

    def on_signal() -> None:
        if not stop.is_set():
            stop.set()
            loop.call_later(STOP_WITHIN, _force_stop, configured, claim,
                            f"still stopping after {STOP_WITHIN:g} s")
        else:
            _force_stop(configured, claim, "stopping now (second Ctrl-C)")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    # Without a mail server of its own, the embedded stack catches the program's mail.
    catcher = None if settings.smtp_url else MailCatcher(settings.data_dir / "mail").start()
    if catcher is not None:
        settings = settings.model_copy(update={"smtp_url": catcher.url})
    try:
        await _serve_stack(settings, stop, catcher)
    finally:
        if catcher is not None:
            catcher.stop()


def _children(stack: Stack, catcher: MailCatcher | None) -> list[Child]:
    children: list[Child] = []
    if stack.dev_server is not None:
        children.append(TemporalDevServer(stack.settings.data_dir, stack.dev_server,
                                          stack.dev_servers))
    if stack.embedded_postgres:
        children.append(EmbeddedPostgres(stack.settings.data_dir / "postgres"))
    if catcher is not None:
        children.append(MailCatcherChild(catcher))
    return children


async def _serve_stack(settings: Settings, stop: asyncio.Event,
                       catcher: MailCatcher | None) -> None:
    # The HTTP stack and the worker are loaded by the commands that run them only: every
    # other `wwc` command starts without them (about half its start-up time).
    from infra.bootstrap import running_api, running_worker
    from infra.temporal.worker import ensure_digest

    async with embedded_stack(settings) as stack, \
            Supervisor(_children(stack, catcher), say).running():
        client = await connect_client(stack.settings,
                                      stack.dev_server.address if stack.dev_server else None)
        # The first administrator exists before the API answers anyone. Two connections:
        # an account's creation holds one (its per-e-mail lock) while it writes on another
        # (with one, `wwc up` on a new data directory waited on itself for ever).
        async with open_pool(stack.settings, size=2) as pool:
            admin = await ensure_first_admin(pool, stack.settings,
                                             program_today(stack.settings.data_dir))
        api_settings = stack.settings
        if stack.dev_server is not None and not api_settings.temporal_ui_url:
            # The dev server's UI, served by the API to operators (infra/temporal/ui.py).
            api_settings = api_settings.model_copy(update={
                "temporal_ui_url": f"http://{api_settings.http_address}{UI_PATH}",
                "temporal_ui_backend": stack.dev_server.ui_url})
        async with running_worker(stack.settings, client,
                                  graceful_shutdown=WORKER_GRACE) as worker, \
                running_api(api_settings, client, graceful_shutdown=API_GRACE) as url:
            await ensure_digest(client, worker.task_queue, load_clock(stack.settings.data_dir))
            typer.echo("wwc is up:")
            for line in stack.describe():
                typer.echo(f"  {line}")
            typer.echo(f"  Portal:       {url}/  (sign in at {url}/sign-in)")
            typer.echo(f"  API:          {url}  (interactive docs: {url}/docs)")
            if catcher is not None:
                typer.echo(f"  Mail:         {catcher.url}, kept in {catcher.folder}  "
                           "(see `wwc outbox`)")
            if admin is not None:
                email, password = admin
                typer.echo(f"  First admin:  {email}" + (
                    f"  one-time password: {password}  (to be changed at the first "
                    "sign-in)"
                    if password else "  (password from WWC_ADMIN_PASSWORD)"))
            for skipped in StandardsFolder(stack.settings.effective_standards_dir).problems():
                typer.echo(f"  warning: standard file skipped: {shown(skipped.file)}: "
                           f"{shown(skipped.problem)}", err=True)
            typer.echo("  Try: wwc list, wwc status CITY, wwc history CITY. Ctrl-C to stop.")
            freeze_startup_heap()
            await stop.wait()
            typer.echo("stopping: API, worker, Temporal, PostgreSQL ...")
    typer.echo("stopped")


def down_command() -> None:
    """Stop the service running for WWC_DATA_DIR: its `wwc up` (as Ctrl-C would), and the
    Temporal dev server and PostgreSQL that a killed `wwc up`, or a command, left running."""
    settings = cli_settings()
    data_dir = settings.data_dir.resolve()
    if (pid := running_up(data_dir)) is not None:
        os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, STOP_WITHIN + 5):
            raise Unavailable(f"`wwc up` (pid {pid}) did not stop; stop it with Ctrl-C in "
                              "its terminal")
        typer.echo(f"stopped `wwc up` (pid {pid})")
    claim = claim_up(data_dir, "down")
    try:
        if claim.stale_pid is not None and claim.stale_pid != pid:
            typer.echo(f"`wwc up` (pid {claim.stale_pid}) is no longer running; it was "
                       "stopped without cleaning up")
        said = stop_leftovers(data_dir)
    finally:
        release_up(data_dir, claim)
    for line in said:
        typer.echo(line)
    if pid is None and not said:
        typer.echo(f"nothing was running for {data_dir}")


def _force_stop(settings: Settings, claim: UpClaim, why: str) -> None:
    """Kill what is still running and leave at once: the dev server's process group, and
    PostgreSQL by an immediate shutdown (SIGQUIT: it replays its WAL at the next start)."""
    data_dir = settings.data_dir.resolve()
    say(f"{why}: killing what is left")
    if cluster_config(settings) is None and \
            (server := recorded_dev_server(data_dir)) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        (data_dir / DEV_SERVER_FILE).unlink(missing_ok=True)
    if not settings.database_url and (pid := postmaster_pid(data_dir / "postgres")):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
    release_up(data_dir, claim)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)
