"""The API document's links lead somewhere: each names an operation that exists and only
path parameters that operation has (a renamed handler or path would otherwise leave a
dead link, which clients and the stateful fuzzing would silently stop following)."""

from __future__ import annotations

import re
from typing import Any
from unittest.mock import MagicMock

from infra.web.app import build_app


def document() -> dict[str, Any]:
    found: dict[str, Any] = build_app(MagicMock()).openapi()
    return found


def test_every_operation_has_its_own_id() -> None:
    ids = [operation["operationId"] for path in document()["paths"].values()
           for operation in path.values()]
    assert len(ids) == len(set(ids))


def test_every_link_names_an_operation_and_its_path_parameters() -> None:
    paths = document()["paths"]
    by_id = {operation["operationId"]: path for path, operations in paths.items()
             for operation in operations.values()}
    links = [(name, link) for operations in paths.values() for operation in operations.values()
             for answer in operation["responses"].values()
             for name, link in answer.get("links", {}).items()]
    assert len(links) >= 20
    for name, link in links:
        target = by_id.get(link["operationId"])
        assert target is not None, f"link {name}: no operation {link['operationId']}"
        assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", target)), (name, target)
        for expression in link["parameters"].values():
            assert expression.startswith("$response.body#/"), (name, expression)
