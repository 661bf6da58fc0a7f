"""requirements.lock, which `make install` and CI install from, keeps up with pyproject.toml.

A dependency added to (or narrowed in) pyproject.toml without `make lock` would install on
no fresh machine (`--require-hashes` installs only what the lock pins): this says so at
once, naming the package and the command that mends it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"

# The lock is resolved for this target (see the Makefile's `lock` rule): markers in
# pyproject.toml are read as they are there.
TARGET = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


def declared_requirements(pyproject: str) -> list[Requirement]:
    """The runtime dependencies and the test extra, the ones `make install` installs."""
    project = tomllib.loads(pyproject)["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [Requirement(line) for line in lines]


def locked_pins(lock: str) -> dict[NormalizedName, Version]:
    pins: dict[NormalizedName, Version] = {}
    for line in lock.splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match["name"])] = Version(match["version"])
    return pins


def unlocked(pyproject: str, lock: str) -> list[str]:
    """Each declared requirement the lock does not pin at a version it allows."""
    pins = locked_pins(lock)
    problems = []
    for requirement in declared_requirements(pyproject):
        if requirement.marker is not None and not requirement.marker.evaluate(TARGET):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name} is locked at {pinned}, outside {requirement}")
    return problems


def test_the_lock_pins_every_declared_dependency() -> None:
    problems = unlocked((ROOT / "pyproject.toml").read_text(), LOCK.read_text())
    assert not problems, "run `make lock`: " + "; ".join(problems)


def test_every_pin_carries_hashes_and_the_lock_names_no_index() -> None:
    lock = LOCK.read_text()
    # A pin's hashes follow it on continuation lines, before the next pin.
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock)
    pinned = [entry for entry in entries if PIN.match(entry)]
    assert pinned
    assert [e.splitlines()[0] for e in pinned if "--hash=sha256:" not in e] == []
    options = [line for line in lock.splitlines() if line.lstrip().startswith("-")]
    assert [line for line in options if not line.lstrip().startswith("--hash=")] == []
    assert "://" not in lock


PYPROJECT = """
[project]
dependencies = ["fastapi>=0.115", "pywin32>=300; sys_platform == 'win32'"]
[project.optional-dependencies]
test = ["pytest>=8.3"]
"""


@pytest.mark.parametrize(
    ("lock", "problems"),
    [
        ("fastapi==0.165.0 \\\n    --hash=sha256:ab\npytest==9.2.0\n", []),
        (
            "fastapi==0.165.0\n",
            ["pytest is not in requirements.lock"],
        ),
        (
            "FastAPI==0.100.0\npytest==9.2.0\n",
            ["fastapi is locked at 0.100.0, outside fastapi>=0.115"],
        ),
    ],
)
def test_a_dependency_added_or_narrowed_without_relocking_is_named(
    lock: str, problems: list[str]
) -> None:
    assert unlocked(PYPROJECT, lock) == problems
