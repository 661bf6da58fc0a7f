"""The `wwc` command line: program operations, inspection and maintenance."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from domain.errors import DomainError, IneligibleCity, TransitionRefused
from infra.cli import inspect, program
from infra.cli.demo import demo_command
from infra.cli.score import score_command
from infra.cli.service import worker_command
from infra.cli.store import db_app, projections_app, verify_command
from infra.cli.up import up_command
from infra.errors import CliError, Exit
from infra.files import DocumentError
from infra.operations import CommandRefused, NotFound

app = typer.Typer(
    name="wwc",
    help="Operate the city data-practice certification program.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Declared here for --help; `main` reads it, since it must act around the whole run."""


# Program operations (each a workflow update).
app.command("join")(program.join_command)
app.add_typer(program.assessment_app, name="assessment")
app.add_typer(program.review_app, name="review")
app.command("decide")(program.decide_command)
app.add_typer(program.cohort_app, name="cohort")
app.command("reapply")(program.reapply_command)
app.command("withdraw")(program.withdraw_command)
# Reading the program.
app.command("status")(inspect.status_command)
app.command("list")(inspect.list_command)
app.command("history")(inspect.history_command)
app.command("report")(inspect.report_command)
app.command("cohorts")(inspect.cohorts_command)
app.add_typer(inspect.export_app, name="export")
# Running it.
app.command("up")(up_command)
app.command("demo")(demo_command)
app.command("worker")(worker_command)
# Offline and maintenance.
app.command("score")(score_command)
app.command("verify")(verify_command)
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")


def _exit_code(error: BaseException) -> Exit:
    if isinstance(error, CommandRefused):
        return Exit.INVALID_INPUT if error.is_input_error else Exit.REFUSED
    if isinstance(error, NotFound):
        return Exit.NOT_FOUND
    if isinstance(error, CliError):
        return error.exit_code
    if isinstance(error, TransitionRefused | IneligibleCity):
        return Exit.REFUSED
    if isinstance(error, DomainError | DocumentError):
        return Exit.INVALID_INPUT
    return Exit.UNEXPECTED


def main() -> None:
    """Entry point: usage errors are Typer's (exit 2); every other error is one line on
    stderr with an exit code from `Exit`, and a traceback only with --debug.

    It leaves with os._exit after flushing: the Temporal SDK's native threads can abort
    the interpreter while it finalizes (seen as an occasional SIGABRT after a command had
    finished). Every command stops what it started before returning, so nothing that
    finalization would do is lost."""
    code = _run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run() -> int:
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        typer.echo(str(exit_.code), err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as error:  # the CLI's single place that turns errors into exit codes
        if debug:
            import traceback

            traceback.print_exc()
            return Exit.UNEXPECTED
        code = _exit_code(error)
        message = (error.message if isinstance(error, CliError | DomainError | CommandRefused)
                   else str(error))
        prefix = "refused" if code is Exit.REFUSED else "error"
        typer.echo(f"wwc: {prefix}: {message}", err=True)
        return int(code)
    return 0
