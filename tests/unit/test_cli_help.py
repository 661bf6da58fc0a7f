"""Every `wwc` command and subcommand explains itself: `--help` works and says what the
command does (walked in process over the whole command tree; the e2e suite runs the
installed `wwc --help` itself)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from infra.cli import app


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command's path under `group` (a group has `commands`: Typer's own click)."""
    for name, command in group.commands.items():
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))


def test_every_command_and_subcommand_has_help() -> None:
    found = list(commands(typer.main.get_command(app)))
    assert len(found) >= 40
    runner = CliRunner()
    for path in found:
        shown = runner.invoke(app, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output)
        lines = [line.strip() for line in shown.output.splitlines() if line.strip()]
        assert lines[0].startswith(f"Usage: wwc {' '.join(path)}"), (path, shown.output)
        # Rich's layout: the usage line, then the command's own words before the boxes.
        assert not lines[1].startswith("╭"), f"wwc {' '.join(path)} has no help text"
