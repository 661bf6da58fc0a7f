"""The `wwc` command line: program operations, inspection and maintenance."""

from __future__ import annotations

import contextlib
import os
import select
import sys
from typing import Annotated

import typer

from domain.text import escape_controls
from infra.cli import program, reading, stats
from infra.cli.accounts import tokens_app, users_app
from infra.cli.common import cli_settings, forget_settings, retry_hint
from infra.cli.demo import demo_command
from infra.cli.evidence import evidence_app
from infra.cli.keys import keys_app
from infra.cli.mail import outbox_command
from infra.cli.maintenance import (
    audit_command,
    backup_command,
    db_app,
    projections_app,
    recover_command,
    restore_command,
    verify_command,
)
from infra.cli.score import score_command
from infra.cli.serve import serve_command
from infra.cli.up import down_command, up_command
from infra.cli.watchdog import BOUND_COMMANDS, command_name, give_up_after
from infra.cli.worker import worker_command
from infra.platform.errors import ErrorKind, classify, describe
from infra.platform.private import keep_files_private
from infra.platform.tracing import flush_tracing
from infra.postgres.db import stop_servers_started_here

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
app.add_typer(evidence_app, name="evidence")
# Reading the program.
app.command("status")(reading.status_command)
app.command("list")(reading.list_command)
app.command("history")(reading.history_command)
app.command("report")(reading.report_command)
app.command("cohorts")(reading.cohorts_command)
app.add_typer(reading.export_app, name="export")
app.command("stats")(stats.stats_command)
# Running it.
app.command("up")(up_command)
app.command("down")(down_command)
app.command("demo")(demo_command)
app.command("worker")(worker_command)
app.command("serve")(serve_command)
# The program's people.
app.add_typer(users_app, name="users")
app.add_typer(users_app, name="accounts", help="The same as `wwc users`.")
app.add_typer(tokens_app, name="tokens")
# Offline and maintenance.
app.command("score")(score_command)
app.command("verify")(verify_command)
app.command("audit")(audit_command)
app.command("outbox")(outbox_command)
app.command("recover")(recover_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")
app.add_typer(keys_app, name="keys")


def main() -> None:
    """Entry point: usage errors are Typer's (exit 2); every other error is one line on
    stderr with the exit code of its kind (`infra.platform.errors.ErrorKind`), and a traceback
    only with --debug.

    It leaves with os._exit after flushing: the Temporal SDK's native threads can abort
    the interpreter while it finalizes (seen as an occasional SIGABRT after a command had
    finished). Every command stops what it started before returning, so nothing that
    finalization would do is lost."""
    keep_files_private()  # the data dir, mail, backups: the operator's alone (umask 077)
    stdout = _hold_stdout()
    code = _run(stdout)
    _stop_what_this_command_started()
    flush_tracing()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = OUTPUT_UNREAD
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


# A command whose reader stopped reading (`wwc stats | head -1`) ends quietly with the
# code of a Unix tool killed by SIGPIPE (128 + 13), as `seq 100000 | head -1` does: the
# reader chose to stop, so there is no error to report, yet a script (`set -o pipefail`)
# can tell the output was not all read. Click and Rich both answer a broken pipe with a
# silent exit 1, which README's table calls a bug. SIGPIPE itself stays ignored: a closed
# socket must stay an error a command handles, not the end of the process.
OUTPUT_UNREAD = 141


def _hold_stdout() -> int | None:
    """A second descriptor of the command's stdout: Rich, meeting a broken pipe, puts
    /dev/null in its place, and this one still tells whether anyone reads the output."""
    try:
        return os.dup(sys.__stdout__.fileno() if sys.__stdout__ else 1)
    except (OSError, ValueError):
        return None


def _reader_gone(stdout: int | None) -> bool:
    """Whether stdout is a pipe (or socket) nobody reads any more: polling its write end
    then reports an error condition (a terminal or a file never does)."""
    if stdout is None:
        return False
    poller = select.poll()
    poller.register(stdout, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _stop_what_this_command_started() -> None:
    """A command that had to start the embedded PostgreSQL (no `wwc up` running) stops it
    again, unless another process is using it (`infra.postgres.db.stop_servers_started_here`)."""
    try:
        stop_servers_started_here()
    except Exception as error:  # the command's own outcome stands; say what was left
        typer.echo(f"wwc: warning: could not stop the embedded PostgreSQL: {error}", err=True)


def _run(stdout: int | None = None) -> int:
    debug = "--debug" in sys.argv[1:]
    forget_settings()  # each run reads the environment once, here or in its command
    try:
        if command_name(sys.argv[1:]) in BOUND_COMMANDS:
            give_up_after(cli_settings().cli_timeout, retry_hint=retry_hint,
                          before_leaving=_stop_what_this_command_started)
        app()
    except BrokenPipeError:
        return OUTPUT_UNREAD
    except SystemExit as exit_:
        if exit_.code == 1 and _reader_gone(stdout):  # Click's and Rich's exit on EPIPE
            return OUTPUT_UNREAD
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
            return ErrorKind.UNEXPECTED.exit_code
        kind = classify(error)
        prefix = "refused" if kind is ErrorKind.REFUSED else "error"
        # One line, whatever the error quotes: its control characters shown as escapes.
        typer.echo(f"wwc: {prefix}: {escape_controls(describe(error))}", err=True)
        return kind.exit_code
    return 0
