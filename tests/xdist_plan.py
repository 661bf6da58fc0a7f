"""How `make test` shares the suite between two pytest-xdist workers (`pytest -n 2`).

Most of the suite's time is spent waiting (on the servers, `wwc` subprocesses, timers and
browsers its tests start), so a second worker keeps the second core busy. Each worker is
a pytest process of its own, with its own session servers (PostgreSQL, Temporal), its own
`--basetemp` folder under the run's, and free ports the kernel gives it.

What a worker gets is a whole module, never part of one: a module's expensive fixtures
(its `wwc up` stack, its browser, its demo run) start once, on one worker. The modules
expected to take longest go first, so that what is left at the end is many short modules
that even the two workers out. A developer running one file without `-n` gets none of
this (nor pays for a second worker's start)."""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Any

import pytest

# What a module of each folder typically takes, in seconds (`make test`, December 2026:
# the end-to-end and security modules each start `wwc up` or run a demo, the browser ones
# a browser too, the fault ones drive 30 cities through a fault; integration's share one
# PostgreSQL and one Temporal per worker; unit and web modules run in process). A folder
# not named here counts as integration's.
FOLDER_SECONDS = {"security": 60.0, "e2e": 50.0, "browser": 45.0, "faults": 35.0,
                  "integration": 8.0, "web": 3.0, "unit": 0.5}
# Folders whose modules one worker takes together, one after another. The fault tests:
# each keeps both cores busy on its own (30 cities, their worker, servers and `wwc`
# retries: measured, the folder takes as long on two workers as on one), and their bounds
# are timed, so two of them side by side only make each other late.
TOGETHER = ("tests/faults/",)


def module_seconds(path: str) -> float:
    """What the module at `path` (relative to the repository) is expected to take."""
    parts = PurePosixPath(path).parts
    folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
    return FOLDER_SECONDS.get(folder, FOLDER_SECONDS["integration"])


def work_unit(nodeid: str) -> str:
    """The share of the suite a worker takes whole: the test's module, or its folder if
    that is one of TOGETHER."""
    module = nodeid.split("::", 1)[0]
    return next((folder for folder in TOGETHER if module.startswith(folder)), module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Work units (above) in the order the workers collected them (longest first, below).
    Only for `-n` without a `--dist` of one's own (`-n` alone means `--dist load`)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist has no hints
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    # Keep the collection's order (xdist's default would put the units of most tests
    # first: the unit tests' modules, which take seconds).
    config.option.loadscopereorder = False
    return UnitScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On an xdist worker: the work units expected to take longest first (a unit takes
    as long as its modules together; a stable sort, so tests keep their order within a
    unit). A run without workers keeps the files' order."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    seconds: dict[str, float] = {}
    for module in dict.fromkeys(item.nodeid.split("::", 1)[0] for item in items):
        unit = work_unit(module)
        seconds[unit] = seconds.get(unit, 0.0) + module_seconds(module)
    items.sort(key=lambda item: -seconds[work_unit(item.nodeid)])
