"""A bound on the `wwc` commands that only talk to the running service (program
operations, reads, accounts, the outbox): a frozen PostgreSQL or Temporal must not hang a
terminal or a script. A command waits for a workflow at most a minute already
(`infra.application.service.COMMAND_TIMEOUT`), but a query to a frozen PostgreSQL, and
even the cancelling and closing of it, waits for the server to answer. So the bound is a
timer on a thread of its own that, when it fires, says so and leaves the process at once
(exit 5, unavailable), like the Ctrl-C a user would otherwise have to type: nothing is
left half-written (every write is one transaction or one workflow update), and the
command may still complete in its workflow. Maintenance commands (rebuild, verify,
audit, backup, recover...) and the servers may rightly run for long and are not bound."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

from infra.platform.errors import ErrorKind

BOUND_COMMANDS = frozenset({
    "join", "assessment", "review", "decide", "cohort", "reapply", "withdraw",
    "status", "list", "history", "report", "cohorts", "export", "users", "accounts", "tokens",
    "outbox", "stats"})


def command_name(argv: list[str]) -> str:
    """The `wwc` subcommand named in `argv` (its first word that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), "")


def give_up_after(seconds: float, *, retry_hint: Callable[[], str] = lambda: "",
                  before_leaving: Callable[[], None] = lambda: None) -> threading.Timer:
    """Start the bound; the caller lets the process end normally before it fires.
    `retry_hint`: how to retry the command (its request id), when it changes something;
    `before_leaving`: what the command must still stop (a PostgreSQL it started)."""

    def give_up() -> None:
        sys.stdout.flush()
        hint = retry_hint()
        sys.stderr.write(
            f"wwc: error: no answer within {seconds:.0f} s (WWC_CLI_TIMEOUT): PostgreSQL "
            "or Temporal is not answering; " + (
                f"the command may still run: retry with: {hint}" if hint else
                "`wwc status CITY` shows whether a command was recorded before you repeat "
                "it") + "\n")
        sys.stderr.flush()
        try:
            before_leaving()
        finally:
            os._exit(ErrorKind.UNAVAILABLE.exit_code)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
    return timer
