"""How `make test` shares the suite between its two workers (tests/xdist_plan.py): whole
modules, the fault tests' folder as one, the costliest first."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.xdist_plan import pytest_collection_modifyitems, work_unit


@dataclass
class Item:
    nodeid: str


def test_a_worker_takes_a_module_whole_and_the_fault_tests_together() -> None:
    assert work_unit("tests/e2e/test_cli_service.py::test_x[a]") == "tests/e2e/test_cli_service.py"
    assert work_unit("tests/faults/test_worker_killed.py::test_y") == "tests/faults/"
    assert work_unit("tests/faults/test_postgres_faults.py::test_z") == "tests/faults/"


def test_workers_take_the_costliest_units_first_keeping_each_units_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ids = ["tests/browser/test_a.py::one", "tests/browser/test_a.py::two",
           "tests/e2e/test_b.py::one", "tests/faults/test_c.py::one",
           "tests/faults/test_d.py::one", "tests/faults/test_d.py::two",
           "tests/integration/test_e.py::one", "tests/security/test_f.py::one",
           "tests/unit/test_g.py::one", "tests/web/test_h.py::one", "tests/web/test_h.py::two"]
    items = [Item(i) for i in ids]
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ids  # no workers: the files' order
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "tests/faults/test_c.py::one", "tests/faults/test_d.py::one",
        "tests/faults/test_d.py::two", "tests/security/test_f.py::one",
        "tests/e2e/test_b.py::one", "tests/browser/test_a.py::one",
        "tests/browser/test_a.py::two", "tests/integration/test_e.py::one",
        "tests/web/test_h.py::one", "tests/web/test_h.py::two", "tests/unit/test_g.py::one"]
