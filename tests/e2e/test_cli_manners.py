"""How `wwc` ends when its reader stops reading or its question is declined: quietly,
with a documented exit code, never exit 1 (a bug) (README, "Errors and exit codes")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.temporal.keys import ensure_key_file, read_key_file
from tests.e2e.conftest import REPO, WWC, clean_env


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """`wwc ARGS | head -0`, made certain: the pipe's reading end is closed before the
    command starts, so its first write meets a broken pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([WWC, *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=60, check=False)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [
    ("score", "examples/self-assessment.yaml"),  # printed by Rich
    ("score", "examples/self-assessment.yaml", "--json"),  # by typer.echo
    ("--help",),
], ids=["rich", "echo", "help"])
def test_a_reader_that_stops_reading_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    result = run_into_closed_pipe(*args)
    assert (result.returncode, result.stderr) == (141, "")


@pytest.mark.parametrize("answer", ["n\n", ""], ids=["no", "end-of-input"])
def test_declining_a_key_rotation_changes_nothing_and_is_no_bug(
        tmp_path: Path, answer: str) -> None:
    ensure_key_file(keys := tmp_path / "payload.keys")
    before = keys.read_text()
    result = subprocess.run([WWC, "keys", "rotate"], input=answer, capture_output=True,
                            text=True, cwd=REPO, env=clean_env(tmp_path), timeout=60,
                            check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == ("wwc: error: not confirmed: nothing changed "
                                              "(--yes skips the question)")
    assert keys.read_text() == before
    assert len(read_key_file(keys).ids) == 1
