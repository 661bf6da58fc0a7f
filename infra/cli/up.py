"""`wwc up`: the whole service on the embedded stack, until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

import typer

from infra.bootstrap import ensure_first_admin
from infra.clockfile import load_clock, program_today
from infra.config import Settings
from infra.heap import freeze_startup_heap
from infra.http.server import running_api
from infra.logs import configure_logging
from infra.mail.catcher import MailCatcher
from infra.service_database import open_pool
from infra.stack import claim_up, embedded_stack, release_up
from infra.temporal.ui import UI_PATH
from infra.temporal_env import connect_client
from infra.worker import ensure_digest, running_worker


def up_command() -> None:
    """Start PostgreSQL, the Temporal dev server (with its web UI), a worker and the HTTP
    API, with state in WWC_DATA_DIR (default ./.wwc); Ctrl-C stops everything cleanly."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    data_dir = settings.data_dir.resolve()
    claim_up(data_dir)
    try:
        asyncio.run(_serve(settings))
    finally:
        release_up(data_dir)


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Without a mail server of its own, the embedded stack catches the program's mail.
    catcher = None if settings.smtp_url else MailCatcher(settings.data_dir / "mail").start()
    if catcher is not None:
        settings = settings.model_copy(update={"smtp_url": catcher.url})
    try:
        await _serve_stack(settings, stop, catcher)
    finally:
        if catcher is not None:
            catcher.stop()


async def _serve_stack(settings: Settings, stop: asyncio.Event,
                       catcher: MailCatcher | None) -> None:
    async with embedded_stack(settings) as stack:
        client = await connect_client(stack.settings,
                                      stack.dev_server.address if stack.dev_server else None)
        # The first administrator exists before the API answers anyone.
        async with open_pool(stack.settings, size=1) as pool:
            admin = await ensure_first_admin(pool, stack.settings,
                                             program_today(stack.settings.data_dir))
        api_settings = stack.settings
        if stack.dev_server is not None and not api_settings.temporal_ui_url:
            # The dev server's UI, served by the API to operators (infra/temporal/ui.py).
            api_settings = api_settings.model_copy(update={
                "temporal_ui_url": f"http://{api_settings.http_address}{UI_PATH}",
                "temporal_ui_backend": stack.dev_server.ui_url})
        async with running_worker(stack.settings, client) as worker, \
                running_api(api_settings, client) as url:
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
                    f"  one-time password: {password}  (change it: PUT /api/me/password)"
                    if password else "  (password from WWC_ADMIN_PASSWORD)"))
            typer.echo("  Try: wwc list, wwc status CITY, wwc history CITY. Ctrl-C to stop.")
            freeze_startup_heap()
            await stop.wait()
            typer.echo("stopping: API, worker, Temporal, PostgreSQL ...")
    typer.echo("stopped")
