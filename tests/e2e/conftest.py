from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

WWC = str(Path(sys.executable).parent / "wwc")
REPO = Path(__file__).resolve().parents[2]

RunWwc = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def wwc() -> RunWwc:
    """Run the installed `wwc` console script as a user would, capturing its output."""

    def run(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([WWC, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=REPO, env=env, check=False)

    return run
