"""What operator commands share: settings, the connection to the running service, one-line
outputs and the translation of refusals into exit codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, TypeVar

import typer

from domain.views import CityView
from infra.clockfile import load_clock
from infra.config import Settings
from infra.errors import CliError, Exit
from infra.operations import CommandRefused, NotFound, Operations
from infra.standards import load_catalog
from infra.temporal_env import connect_client, running_dev_server

T = TypeVar("T")
COMMAND_TIMEOUT = 60.0

JsonOption = typer.Option("--json", help="Print one JSON object.")


def city_key_arg(value: str) -> str:
    """Accept `us-boston-ma` or the workflow id `city/us-boston-ma`."""
    return value.removeprefix("city/").strip().lower()


async def temporal_target(settings: Settings) -> str:
    if settings.temporal_address:
        return settings.temporal_address
    server = running_dev_server(settings.data_dir.resolve())
    if server is None:
        raise CliError("the service is not running: start it with `wwc up` (or set "
                       "WWC_TEMPORAL_ADDRESS to your Temporal cluster)", Exit.UNAVAILABLE)
    return server.address


@asynccontextmanager
async def operations(settings: Settings | None = None) -> AsyncIterator[Operations]:
    settings = settings or Settings.from_env()
    client = await connect_client(settings, await temporal_target(settings))
    catalog = load_catalog([settings.effective_standards_dir]
                           if settings.effective_standards_dir.is_dir() else [])
    yield Operations(client, settings.task_queue, catalog=catalog,
                     clock=load_clock(settings.data_dir))


async def guarded(call: Awaitable[T]) -> T:
    """Bound a command's wait: an update waits for a worker, which may not be running."""
    try:
        return await asyncio.wait_for(call, COMMAND_TIMEOUT)
    except TimeoutError:
        raise CliError(f"no worker answered within {COMMAND_TIMEOUT:.0f} s; is `wwc up` (or "
                       "`wwc worker`) running for this task queue?", Exit.UNAVAILABLE) from None
    except CommandRefused as refused:
        code = Exit.INVALID_INPUT if refused.is_input_error else Exit.REFUSED
        raise CliError(f"{refused.message} [{refused.code}]", code) from None
    except NotFound as missing:
        raise CliError(str(missing), Exit.NOT_FOUND) from None


def run_city_command(action: Callable[[Operations], Awaitable[CityView]],
                     as_json: bool = False) -> None:
    async def run() -> tuple[CityView, date]:
        async with operations() as ops:
            return await guarded(action(ops)), ops.program_today()

    view, today = asyncio.run(run())
    print_view(view, as_json, today)


def print_view(view: CityView, as_json: bool = False, today: date | None = None) -> None:
    """`today` is the program date by the deployment's clock: a query's view carries the
    date of the workflow's last task, which may be long past."""
    if today is not None:
        view = view.model_copy(update={"program_date": today})
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    parts = [f"{view.city_key}: {view.status.value.replace('_', ' ')}"]
    if view.tier.certified:
        parts.append(f"{view.tier.value} until {view.expires_on}")
    if view.application:
        parts.append(f"application {view.application} ({view.standard_id}, "
                     f"{(view.stage or '').replace('_', ' ')})")
    if view.open_clarifications:
        parts.append(f"open clarifications {list(view.open_clarifications)}")
    if view.last_decision_tier is not None:
        parts.append(f"last decision {view.last_decision_tier.value} ({view.last_percent} %)")
    typer.echo(" | ".join(parts) + f" | program date {view.program_date}")


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))
