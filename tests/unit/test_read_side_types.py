"""The read side answers typed rows (issue 22): no public function of its query modules is
annotated to return a bare asyncpg record, a `dict[str, Any]` (nor a list, tuple or
optional of one), or `Any`. Its callers then read rows by attribute, checked by mypy,
instead of by string keys that break only at run time."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, get_args, get_origin

import asyncpg
import pytest

from infra.readside import announcements, as_of, queries
from infra.readside.rows import CertifiedCity, RegistryRow

QUERY_MODULES = (queries, as_of, announcements)


def public_functions(module: ModuleType) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The module's own public functions, and the public methods of its own classes."""
    for name, member in vars(module).items():
        if name.startswith("_") or getattr(member, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(member):
            yield f"{module.__name__}.{name}", member
        elif inspect.isclass(member):
            for attribute, method in vars(member).items():
                if not attribute.startswith("_") and inspect.isfunction(method):
                    yield f"{module.__name__}.{name}.{attribute}", method


def returned(function: Callable[..., Any]) -> Any:
    """The function's return annotation, evaluated in its module (only that one: asyncpg's
    `Pool[Any]` in the parameters is a stub's generic, not subscriptable at run time)."""
    annotation = function.__annotations__.get("return", Any)
    # The modules postpone their annotations: each is a string of names they import.
    return eval(annotation, function.__globals__) if isinstance(annotation, str) else annotation


def untyped(annotation: Any) -> bool:
    """Whether the annotation leaves what is inside a row unsaid anywhere in it."""
    if annotation is Any or annotation is asyncpg.Record:
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation in (dict, Mapping) or (origin in (dict, Mapping) and args[1] in (Any, object)):
        return True
    return any(untyped(arg) for arg in args)


@pytest.mark.parametrize("annotation", [
    dict[str, Any], list[dict[str, Any]], dict[str, Any] | None, tuple[dict[str, object], ...],
    Mapping[str, Any], list[asyncpg.Record], Any, dict])
def test_the_check_sees_an_untyped_row(annotation: Any) -> None:
    assert untyped(annotation)


@pytest.mark.parametrize("annotation", [
    list[RegistryRow], CertifiedCity | None, dict[str, int], list[str], None])
def test_the_check_lets_a_typed_answer_pass(annotation: Any) -> None:
    assert not untyped(annotation)


def test_no_read_side_query_answers_untyped_rows() -> None:
    found = {name: returned(function)
             for module in QUERY_MODULES for name, function in public_functions(module)}
    # Not vacuous: the registry, the public city, the as-of registry, the announcements.
    assert {"infra.readside.queries.registry", "infra.readside.queries.public_city",
            "infra.readside.as_of.certified_as_of",
            "infra.readside.announcements.ReadModelAwaitingAnnouncement.cities"} <= set(found)
    assert not {name: hint for name, hint in found.items() if untyped(hint)}
