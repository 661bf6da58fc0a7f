"""The layers' import rules, checked on the source: the domain is pure and free of import
cycles, workflows reach only the sandbox-safe parts, nothing outside `infra/` depends on
`infra`, and inside `infra/` every folder imports only the folders below it (the floor
plan in the README)."""

from __future__ import annotations

import ast
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)
# What each layer may import beyond the standard library and itself.
ALLOWED = {
    "domain": {"domain", "pydantic", "pydantic_core"},  # pydantic_core: its error types
    "workflows": {"workflows", "domain", "activities.contracts", "activities.ports",
                  "temporalio", "pydantic"},
    "activities": {"activities", "domain", "temporalio", "pydantic", "structlog"},
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def allowed(module: str, rules: set[str]) -> bool:
    top = module.split(".")[0]
    return top == "__future__" or top in STDLIB or any(
        module == rule or module.startswith(f"{rule}.") for rule in rules)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_what_it_may(layer: str) -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for module in imports_of(path) if not allowed(module, ALLOWED[layer])
    }
    assert not offending


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root` by its dotted name (a package by its own)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def module_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Which of `package`'s modules each of its modules imports, wherever the import
    stands (a function's late import counts: it is a cycle put off, not gone). `from p
    import m` counts as importing `p.m` when `m` is a module; a package's face (its
    `__init__`) is left out, being what every `from p.x import y` runs first."""
    modules = package_modules(root, package)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named.add(node.module)
                named.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[module] = {name for name in named
                         if name in modules and name != module and not _is_package(modules[name])}
    return graph


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def import_cycle(root: Path, package: str) -> list[str]:
    """One cycle among `package`'s modules (the first module repeated at its end), or []."""
    try:
        TopologicalSorter(module_graph(root, package)).prepare()
    except CycleError as found:
        return list(found.args[1])
    return []


def test_the_domain_has_no_import_cycle() -> None:
    """Each domain module can be read (and imported) after the ones it names: the state
    before the deadlines, both before the decider."""
    cycle = import_cycle(ROOT, "domain")
    assert not cycle, f"domain modules import each other: {' -> '.join(reversed(cycle))}"


def test_a_cycle_is_found_even_behind_a_late_import(tmp_path: Path) -> None:
    """The check above can fail: two modules that import each other, one of them inside
    a function (as lifecycle.py once imported deadlines.py), are named with the path."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "state.py").write_text("X = 1\n")
    (package / "rules.py").write_text("from pkg.state import X\nfrom pkg import decider\n")
    (package / "decider.py").write_text(
        "from pkg import state\n\n\ndef f() -> None:\n    from pkg.rules import X\n")
    assert sorted(set(import_cycle(tmp_path, "pkg"))) == ["pkg.decider", "pkg.rules"]
    (package / "decider.py").write_text("from pkg import state\n")
    assert import_cycle(tmp_path, "pkg") == []


# infra's floor plan, lowest first: a folder imports only folders on a lower floor. The web
# is three floors: its core (routing, access, middleware), its two faces, and the app and
# server that put the faces together.
FLOORS: dict[str, int] = {
    "platform": 0,
    "i18n": 1, "eventstore": 1, "standards": 1, "mail": 1, "blobs": 1,
    "postgres": 2,
    "readside": 3,
    "identity": 4,
    "temporal": 5,
    "application": 6,
    "ops": 7,
    "web": 8,
    "web.api": 9, "web.portal": 9,
    "web.root": 10,
    # The composition root builds the service, the worker and the web; the CLI, the door
    # an operator starts them from, asks it to.
    "bootstrap": 11,
    "cli": 12,
}
WEB_ROOT = {"infra.web.app", "infra.web.server"}


def room(module: str) -> str | None:
    """The floor plan's name for an infra module (None outside infra, or its face)."""
    parts = module.split(".")
    if parts[0] != "infra" or len(parts) < 2:
        return None
    if parts[1] == "web":
        if module in WEB_ROOT:
            return "web.root"
        if len(parts) > 2 and parts[2] in ("api", "portal"):
            return f"web.{parts[2]}"
    return parts[1]


def infra_modules() -> dict[str, Path]:
    return package_modules(ROOT, "infra")


def infra_imports(path: Path) -> set[str]:
    """What a module imports from infra, `from infra.x import y` counted as `infra.x.y`
    when `y` is a module (so `from infra.web import signing_in` names its room)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("infra"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.startswith("infra"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names
                         if (ROOT / f"{node.module}.{a.name}".replace(".", "/")).exists()
                         or (ROOT / (f"{node.module}.{a.name}".replace(".", "/") + ".py")).exists())
    return names


def test_infra_has_no_loose_module_but_its_face_and_the_composition_root() -> None:
    loose = {p.name for p in (ROOT / "infra").glob("*.py")}
    assert loose == {"__init__.py", "bootstrap.py"}


def test_every_infra_folder_has_its_floor() -> None:
    rooms = {name for module in infra_modules() if (name := room(module)) is not None}
    assert rooms <= set(FLOORS), f"place {sorted(rooms - set(FLOORS))} in FLOORS"


def test_infra_folders_import_only_the_floors_below_them() -> None:
    """No arrow runs back up and, so, no cycle between folders."""
    upward = sorted(
        f"{path.relative_to(ROOT)} ({room(module)}) imports {name} ({room(name)})"
        for module, path in infra_modules().items() if room(module) in FLOORS
        for name in infra_imports(path)
        if room(name) in FLOORS and room(name) != room(module)
        and FLOORS[str(room(name))] >= FLOORS[str(room(module))])
    assert not upward


def test_the_webs_two_faces_never_import_each_other() -> None:
    crossing = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in infra_modules().items()
        if room(module) in ("web.api", "web.portal")
        for name in infra_imports(path)
        if room(name) in ("web.api", "web.portal") and room(name) != room(module))
    assert not crossing


def test_nothing_below_the_web_imports_it() -> None:
    below = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in infra_modules().items()
        if FLOORS.get(str(room(module)), 99) < FLOORS["web"]
        for name in infra_imports(path) if name.startswith("infra.web"))
    assert not below
