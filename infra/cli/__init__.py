"""The `wwc` command line: program operations, inspection and maintenance."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from domain.errors import DomainError, IneligibleCity, TransitionRefused
from infra.cli.score import score_command
from infra.cli.service import worker_command
from infra.cli.store import db_app, projections_app, verify_command
from infra.errors import CliError, Exit
from infra.files import DocumentError

app = typer.Typer(
    name="wwc",
    help="Operate the city data-practice certification program.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_state = {"debug": False}


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


app.command("score")(score_command)
app.command("verify")(verify_command)
app.command("worker")(worker_command)
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")


def _exit_code(error: BaseException) -> Exit:
    if isinstance(error, CliError):
        return error.exit_code
    if isinstance(error, TransitionRefused | IneligibleCity):
        return Exit.REFUSED
    if isinstance(error, DomainError | DocumentError):
        return Exit.INVALID_INPUT
    return Exit.UNEXPECTED


def main() -> None:
    """Entry point: usage errors are Typer's (exit 2); every other error is one line on
    stderr with an exit code from `Exit`, and a traceback only with --debug."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # the CLI's single place that turns errors into exit codes
        if debug:
            raise
        code = _exit_code(error)
        message = error.message if isinstance(error, CliError | DomainError) else str(error)
        prefix = "refused" if code is Exit.REFUSED else "error"
        typer.echo(f"wwc: {prefix}: {message}", err=True)
        sys.exit(code)
