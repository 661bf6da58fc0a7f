"""`wwc serve`: the HTTP API alone, for a deployment whose Temporal and PostgreSQL (and
workers) run elsewhere."""

from __future__ import annotations

import asyncio
import signal

import typer

from infra.cli.common import cli_settings
from infra.platform.config import Settings
from infra.platform.heap import freeze_startup_heap
from infra.platform.logs import configure_logging
from infra.temporal.environment import connect_client, service_temporal_address


def serve_command() -> None:
    """Serve the API on WWC_HTTP_ADDRESS (default 127.0.0.1:8000) until SIGINT/SIGTERM,
    then finish the requests in flight. Uses the configured Temporal cluster and
    WWC_DATABASE_URL (or the embedded ones of a running `wwc up`)."""
    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    # The HTTP stack and the worker are loaded by the commands that run them only: every
    # other `wwc` command starts without them (about half its start-up time).
    from infra.bootstrap import running_api

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect_client(settings, await service_temporal_address(settings))
    async with running_api(settings, client) as url:
        typer.echo(f"API: {url}  (interactive docs: {url}/docs)")
        freeze_startup_heap()
        await stop.wait()
        typer.echo("stopping the API ...")
    typer.echo("stopped")
