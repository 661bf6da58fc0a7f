"""The layers' import rules, checked on the source: the domain is pure, workflows reach
only the sandbox-safe parts, and nothing outside `infra/` depends on `infra`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)
# What each layer may import beyond the standard library and itself.
ALLOWED = {
    "domain": {"domain", "pydantic"},
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
