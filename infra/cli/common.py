"""What the `wwc` commands share: the city argument, --json, --request-id, running an
async command, sending a command to a city and printing the city's view."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import shlex
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, ParamSpec

import typer
from rich.text import Text

from domain import commands
from domain.text import escape_controls
from domain.views import CityView, CommandAnswer
from infra.application import ProgramService
from infra.application.service import command_update_id
from infra.bootstrap import open_program
from infra.platform.config import Settings
from infra.platform.errors import ErrorKind, Unavailable, UsageError, classify, describe

P = ParamSpec("P")

_settings: Settings | None = None


def cli_settings() -> Settings:
    """The deployment's settings, read from the environment once per `wwc` run (`main`
    starts each run afresh) and handed down to whatever the command builds."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def forget_settings() -> None:
    """A new run reads the environment again."""
    global _settings
    _settings = None


JsonOption = typer.Option("--json", help="Print one JSON object.")


def confirm(question: str) -> None:
    """Ask once; a "no" (or no answer at all: end of input) changes nothing and ends the
    command with the usage exit (2): declining is the caller's choice, not a fault (exit
    1 is for bugs)."""
    try:
        agreed = typer.confirm(question, default=False)
    except typer.Abort:  # end of input, or Ctrl-D
        agreed = False
    if not agreed:
        raise UsageError("not confirmed: nothing changed (--yes skips the question)")


def _request_id_arg(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", value):
        raise typer.BadParameter("use up to 100 letters, digits, '.', '_', ':' and '-' (the "
                                 "id a command that ended 'unavailable' printed)")
    return value


RequestIdOption = typer.Option(
    "--request-id", metavar="ID", callback=_request_id_arg,
    help="Retry a command that ended 'unavailable' with the id it printed; it then runs at "
         "most once.")


class Request:
    """The id a command that changes something is sent under: the one given with
    --request-id (a retry), or a new random one. Front doors turn it into the command's
    Temporal update id (`command_update_id`), so the same id sent again runs it once."""

    def __init__(self, given: str | None) -> None:
        global _current
        self.retry = given is not None
        self.id = given or uuid.uuid4().hex
        _current = self  # the command's one request: what the CLI's bound says to retry

    def update_id(self, key: str, kind: type[commands.Command] | str) -> str:
        return command_update_id(self.id, key, kind if isinstance(kind, str) else kind.__name__)

    def retry_command(self) -> str:
        """This very command line, with this request's id: what to run to retry it."""
        args, given = sys.argv[1:], []
        skip = False
        for arg in args:
            if skip:
                skip = False
            elif arg == "--request-id":
                skip = True
            elif not arg.startswith("--request-id="):
                given.append(arg)
        return shlex.join(["wwc", *given, "--request-id", self.id])


_current: Request | None = None


def retry_hint() -> str:
    """How to retry the command under way (its line with its request id), or "" when it
    changes nothing."""
    return _current.retry_command() if _current is not None else ""


@contextmanager
def retryable(request: Request) -> Iterator[None]:
    """On "unavailable" (the command may or may not have run), the one line an operator
    copies to retry it: the same command with its request id, which runs it at most once."""
    try:
        yield
    except Exception as error:
        if classify(error) is not ErrorKind.UNAVAILABLE:
            raise
        raise Unavailable(f"{describe(error)}; retry with: {request.retry_command()}") \
            from None


def city_key_arg(value: str) -> str:
    """Accept `us-boston-ma` or the workflow id `city/us-boston-ma`."""
    return value.removeprefix("city/").strip().lower()


def async_command(command: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """A Typer command written as a coroutine: Typer reads the wrapped signature (help,
    options), and each call runs in a fresh event loop."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(command(*args, **kwargs))

    return run


async def send_and_print(key: str, command: commands.CityCommand | Callable[
        [ProgramService], Awaitable[commands.CityCommand]], as_json: bool,
                         request_id: str | None = None) -> None:
    """Send `command` (or the command built from the service, e.g. after reading the
    city's standard) to the city `key` under `request_id` (or a new one), and print its
    view afterwards."""
    request = Request(request_id)
    with retryable(request):
        async with open_program(cli_settings()) as program:
            ready = command if isinstance(command, commands.Command) else await command(program)
            view = await program.send(key, ready, update_id=request.update_id(key, type(ready)))
            print_view(view, as_json, program.program_today())


def print_view(view: CityView, as_json: bool = False, today: date | None = None) -> None:
    """`today` is the program date by the deployment's clock: a query's view carries the
    date of the workflow's last task, which may be long past."""
    if today is not None:
        view = view.model_copy(update={"program_date": today})
    if as_json:
        typer.echo(json_safe(view.model_dump_json(indent=2)))
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
    if isinstance(view, CommandAnswer) and view.nothing_new:
        typer.echo(f"nothing new recorded: {view.nothing_new}")


def echo_json(value: Any) -> None:
    typer.echo(json_safe(json.dumps(value, indent=2, default=str, ensure_ascii=False)))


# Stored text shown on a terminal. Commands refuse control and bidi-override characters
# (domain/text.py), but older versions stored them: here they are shown as escapes
# (`\x1b`) instead of acting on the operator's terminal.

def shown(value: object) -> str:
    """Stored text for a line of output: its control characters escaped."""
    return escape_controls(str(value))


def cell(value: object) -> Text:
    """Stored text for a Rich table: escaped, and never read as Rich markup (a name with
    `[/]` in it would otherwise stop the table with an error)."""
    return Text(shown(value))


# JSON escapes the C0 controls itself; DEL, the C1 controls, the line separators and
# the bidi characters it writes as they are (`ensure_ascii=False` keeps accented names
# readable). They can only sit inside strings, where an escape means the same.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text with the characters above written as escapes: the same JSON value."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
