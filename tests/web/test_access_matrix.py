"""The authorization matrix, in process: every route of the app's route table (the API's
and the portal's pages, one test each, so a new route is in here the day it is added)
against every kind of caller, each answered as the program's access policy says: allowed,
401 (a page: off to sign in), 403, or 404 exactly as if the city did not exist. And no
caller, allowed or not, ever gets a 5xx.

The policy is the one written down by hand in `tests/unit/test_route_rules.py` (which
checks that each route declares its rule); a route without a row there fails here too,
and a rule weakened or not enforced answers someone it should not. The same matrix runs
against `wwc up` in `tests/e2e/test_api_access.py` (the API's routes, over Temporal);
this one needs no stack, so it runs on every change of the web."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.accounts import Role
from tests.factories import WWC_2022, answers
from tests.unit.test_route_rules import POLICY
from tests.web.conftest import PASSWORD, Web, route_table

CITY = "us-boise-id"
COHORT = "matrix-cohort"
# Token callers, and a browser (a session cookie and its CSRF token) for the city's editor
# and for an editor of another city: the portal's pages are met that way.
CALLERS = ("anonymous", "editor", "other_editor", "assigned_reviewer", "other_reviewer",
           "operator", "admin", "editor_browser", "other_editor_browser")
ALLOWED = "allowed"
_BY_TOKEN = ("anonymous", "editor", "other_editor", "assigned_reviewer", "other_reviewer",
             "operator", "admin")
# What each rule answers to each caller (for a route under a city's path: the city is
# CITY, which exists, so a 404 can only be the rule's).
EXPECTED: dict[str, dict[str, str | int]] = {
    "public": dict.fromkeys(_BY_TOKEN, ALLOWED),
    "signed_in": {**dict.fromkeys(_BY_TOKEN, ALLOWED), "anonymous": 401},
    "self": {**dict.fromkeys(_BY_TOKEN, ALLOWED), "anonymous": 401},
    "city": {"anonymous": 401, "editor": ALLOWED, "other_editor": 404,
             "assigned_reviewer": ALLOWED, "other_reviewer": 404, "operator": ALLOWED,
             "admin": ALLOWED},
    "city_editor": {"anonymous": 401, "editor": ALLOWED, "other_editor": 404,
                    "assigned_reviewer": 404, "other_reviewer": 404, "operator": ALLOWED,
                    "admin": ALLOWED},
    "assigned_reviewer": {"anonymous": 401, "editor": 404, "other_editor": 404,
                          "assigned_reviewer": ALLOWED, "other_reviewer": 404,
                          "operator": ALLOWED, "admin": ALLOWED},
    # One review: its reviewer's (the assigned reviewer's, for application 1), and the staff.
    "its_reviewer": {"anonymous": 401, "editor": 404, "other_editor": 404,
                     "assigned_reviewer": ALLOWED, "other_reviewer": 404,
                     "operator": ALLOWED, "admin": ALLOWED},
    "reviewer": {"anonymous": 401, "editor": 403, "other_editor": 403,
                 "assigned_reviewer": ALLOWED, "other_reviewer": ALLOWED,
                 "operator": ALLOWED, "admin": ALLOWED},
    "operator": {**dict.fromkeys(_BY_TOKEN, 403), "anonymous": 401, "operator": ALLOWED,
                 "admin": ALLOWED},
    "admin": {**dict.fromkeys(_BY_TOKEN, 403), "anonymous": 401, "admin": ALLOWED},
}
# A browser is answered as its account's token is.
AS_ACCOUNT = {"editor_browser": "editor", "other_editor_browser": "other_editor"}
# What each path parameter is filled with; a route with another parameter fails until it
# is given one here.
PATH_VALUES = {"key": CITY, "clarification_id": "1", "cohort_id": COHORT,
               "account_id": "acc-none", "token_id": "none", "operation": "decode",
               "path": "namespaces/default/workflows", "name": "portal.css",
               "awarded_on": "2026-01-01", "chart": "certified", "number": "1",
               "sha256": "0" * 64}


# Every route the app serves (the API's and the portal's pages), from its own table.
ROUTES = sorted({(method, path) for method, path, _ in route_table()})


def concrete(path: str) -> str:
    def fill(found: re.Match[str]) -> str:
        name = found.group(1).split(":")[0]
        assert name in PATH_VALUES, f"{path}: give the parameter {name!r} a value in " \
                                    "PATH_VALUES"
        return PATH_VALUES[name]

    return re.sub(r"{([^}]+)}", fill, path)


def expectation(rule: str, caller: str, path: str) -> str | int:
    assert rule in EXPECTED, f"{path}: the matrix does not know the rule {rule!r}"
    expected = EXPECTED[rule][AS_ACCOUNT.get(caller, caller)]
    # Under a city's path, what is not the caller's is not found rather than forbidden.
    return 404 if expected == 403 and "{key}" in path else expected


def verdict(answer: httpx.Response, method: str, path: str, rule: str) -> str | int:
    status = answer.status_code
    if rule == "public":
        return ALLOWED if status not in (401, 403) else status  # a 404 there is content
    if status in (401, 403):
        return status
    if status == 303 and answer.headers["location"].startswith("/sign-in?"):
        return 401  # a page that needs a sign-in sends the browser to sign in
    if status == 404 and "{key}" in path:
        if answer.headers.get("content-type", "").startswith("text/html"):
            # A page under a city that exists: only the rule hides it (the error page
            # says no more than "nothing here, or not yours").
            return 404
        if answer.json().get("detail") == f"no city {CITY!r}":
            return 404  # the rule's 404: the same answer as for a city that does not exist
    return ALLOWED


BROWSERS = {"editor_browser": "editor@matrix.test",
            "other_editor_browser": "other-editor@matrix.test"}
assert set(BROWSERS) == set(AS_ACCOUNT) == set(CALLERS) - set(_BY_TOKEN)
SIGNER = {"email": "signer@matrix.test", "password": PASSWORD}
# What a route is sent beyond `{}` (the guard runs before a body is read, so an empty one
# is enough to meet it): the sign-ins get credentials that work, so what answers is a
# sign-in, not a failed one (which the throttle would slow down).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/session"): {"json": SIGNER},
    ("POST", "/sign-in"): {"data": SIGNER},
}


@pytest.fixture(scope="module")
async def callers(web: Web) -> dict[str, dict[str, str]]:
    """Each caller's headers: an API token, or a browser's session (its cookie and CSRF
    token); CITY joined by its editor, submitted, and assigned to its reviewer; a cohort
    to come."""
    people: dict[str, tuple[Role, dict[str, Any]]] = {
        "editor": (Role.CITY_EDITOR, {"cities_to_join": [{"name": "Boise, ID",
                                                           "country": "US"}]}),
        "other_editor": (Role.CITY_EDITOR, {"cities_to_join": [{"name": "Nampa, ID",
                                                                 "country": "US"}]}),
        "assigned_reviewer": (Role.REVIEWER, {}), "other_reviewer": (Role.REVIEWER, {}),
        "operator": (Role.OPERATOR, {}), "admin": (Role.ADMIN, {})}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, (role, extra) in people.items():
        account = await web.account(f"{name.replace('_', '-')}@matrix.test", role, **extra)
        headers[name] = await web.token(account)
        if f"{name}_browser" in BROWSERS:
            headers[f"{name}_browser"] = await web.session(account)
    await web.account(SIGNER["email"], Role.OPERATOR)
    async with web.client(headers["editor"]) as editor:
        joined = await editor.post("/api/cities", json={
            "name": "Boise, ID", "country": "US", "population": 235_000})
        assert joined.status_code == 201, joined.text
        submitted = await editor.post(
            f"/api/cities/{CITY}/assessment/submit",
            json={"answers": answers(WWC_2022, 25).model_dump(mode="json")})
        assert submitted.status_code == 200, submitted.text
    async with web.client(headers["operator"]) as operator:
        assigned = await operator.post(f"/api/cities/{CITY}/reviewer",
                                       json={"reviewer": "assigned-reviewer@matrix.test"})
        assert assigned.status_code == 200, assigned.text
        cohort = await operator.post("/api/cohorts", json={
            "cohort_id": COHORT, "announce_on": str(web.today + timedelta(days=300))})
        assert cohort.status_code == 201, cohort.text
    return headers


# Routes that end or replace the caller's session: a browser calls them with a session of
# its own, so the next route still meets it signed in.
ENDS_A_SESSION = {("DELETE", "/api/session"), ("POST", "/api/session"), ("POST", "/sign-in")}


@pytest.fixture(scope="module")
async def http(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with web.client() as client:
        yield client


async def headers_of(web: Web, callers: dict[str, dict[str, str]], caller: str,
                     route: tuple[str, str]) -> dict[str, str]:
    if caller in BROWSERS and route in ENDS_A_SESSION:
        account = await web.services.directory.find_by_email(BROWSERS[caller])
        assert account is not None
        return await web.session(account)
    return callers[caller]


def test_the_route_table_was_read() -> None:
    # A table this test cannot read would make the matrix pass vacuously.
    assert len(ROUTES) >= 60
    assert set(POLICY.values()) == set(EXPECTED)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_each_route_answers_each_caller_as_the_policy_says(
        web: Web, http: httpx.AsyncClient, callers: dict[str, dict[str, str]], method: str,
        path: str) -> None:
    # The route's row: who may call it, as decided in review (a new route has none until
    # someone adds it), whatever rule the route itself declares.
    rule = POLICY.get((method, path))
    assert rule is not None, f"{method} {path} has no row in the matrix: add who may call " \
                             "it to POLICY (tests/unit/test_route_rules.py)"
    sent = BODIES.get((method, path), {"json": {}} if method in ("POST", "PUT") else {})
    wrong = []
    for caller in CALLERS:
        expected = expectation(rule, caller, path)
        headers = await headers_of(web, callers, caller, (method, path))
        http.cookies.clear()  # a sign-in's cookie stays with its caller
        answer = await http.request(method, concrete(path), headers=headers, **sent)
        found = verdict(answer, method, path, rule)
        if answer.status_code >= 500 or found != expected:
            wrong.append(f"as {caller}: {answer.status_code}, read as {found} (expected "
                         f"{expected}): {answer.text[:160]}")
    assert not wrong, f"{method} {path} [{rule}]:\n" + "\n".join(wrong)
