"""`wwc up`: the whole service on the embedded stack, until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

import typer

from infra.config import Settings
from infra.logs import configure_logging
from infra.stack import claim_up, embedded_stack, release_up
from infra.worker import running_worker


def up_command() -> None:
    """Start PostgreSQL, the Temporal dev server (with its web UI) and a worker, with state
    in WWC_DATA_DIR (default ./.wwc); Ctrl-C stops everything cleanly."""
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
    async with embedded_stack(settings) as stack, running_worker(stack.settings):
        typer.echo("wwc is up:")
        for line in stack.describe():
            typer.echo(f"  {line}")
        typer.echo("  Try: wwc list, wwc status CITY, wwc history CITY. Ctrl-C to stop.")
        await stop.wait()
        typer.echo("stopping: worker, Temporal, PostgreSQL ...")
    typer.echo("stopped")
