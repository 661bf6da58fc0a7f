"""The authorization matrix: every route of the running API (read from its own OpenAPI
document, so a new route is in here the day it is added) against every kind of caller,
each answered as its declared rule says: allowed, 401, 403, or 404 as if the city did not
exist."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, api
from tests.factories import WWC_2022, answers

pytestmark = pytest.mark.e2e
__all__ = ["api"]

CITY = "us-boise-id"
CALLERS = ("anonymous", "editor", "other_editor", "assigned_reviewer", "other_reviewer",
           "operator", "admin")
ALLOWED = "allowed"
# What each rule answers to each caller (for a route under a city's path: the city is
# CITY, which exists, so a 404 can only be the rule's).
EXPECTED: dict[str, dict[str, str | int]] = {
    "public": dict.fromkeys(CALLERS, ALLOWED),
    "signed_in": {**dict.fromkeys(CALLERS, ALLOWED), "anonymous": 401},
    "self": {**dict.fromkeys(CALLERS, ALLOWED), "anonymous": 401},
    "city": {"anonymous": 401, "editor": ALLOWED, "other_editor": 404,
             "assigned_reviewer": ALLOWED, "other_reviewer": 404, "operator": ALLOWED,
             "admin": ALLOWED},
    "city_editor": {"anonymous": 401, "editor": ALLOWED, "other_editor": 404,
                    "assigned_reviewer": 404, "other_reviewer": 404, "operator": ALLOWED,
                    "admin": ALLOWED},
    "assigned_reviewer": {"anonymous": 401, "editor": 404, "other_editor": 404,
                          "assigned_reviewer": ALLOWED, "other_reviewer": 404,
                          "operator": ALLOWED, "admin": ALLOWED},
    "reviewer": {"anonymous": 401, "editor": 403, "other_editor": 403,
                 "assigned_reviewer": ALLOWED, "other_reviewer": ALLOWED,
                 "operator": ALLOWED, "admin": ALLOWED},
    "operator": {**dict.fromkeys(CALLERS, 403), "anonymous": 401, "operator": ALLOWED,
                 "admin": ALLOWED},
    "admin": {**dict.fromkeys(CALLERS, 403), "anonymous": 401, "admin": ALLOWED},
}


@pytest.fixture(scope="module")
def tokens(api: ApiService) -> dict[str, dict[str, str]]:
    """An API token per caller (no session, so no CSRF and no sign-out midway)."""
    http = api.client()
    signed = http.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
    # The editors are made before their cities join: by name and country.
    people = {"editor": ("city_editor", {"cities_to_join": [
                  {"name": "Boise, ID", "country": "US"}]}),
              "other_editor": ("city_editor", {"cities_to_join": [
                  {"name": "Nampa, ID", "country": "US"}]}),
              "assigned_reviewer": ("reviewer", {}), "other_reviewer": ("reviewer", {}),
              "operator": ("operator", {}), "admin": ("admin", {})}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, (role, extra) in people.items():
        email = f"{name.replace('_', '-')}@matrix.test"
        # With a password of its own: a made-up one is one-time, and a token of an
        # account that must still change it opens nothing else.
        made = http.post("/api/accounts", headers=csrf, json={
            "email": email, "display_name": name, "role": role,
            "password": "a long enough password for tests", **extra})
        assert made.status_code == 201, made.text
        token = http.post("/api/tokens", headers=csrf, json={"email": email, "name": "t"})
        headers[name] = {"Authorization": f"Bearer {token.json()['token']}"}
    as_operator = headers["operator"]
    assert http.post("/api/cities", headers=as_operator, json={
        "name": "Boise, ID", "country": "US", "population": 235_000}).status_code == 201
    submitted = http.post(f"/api/cities/{CITY}/assessment/submit", headers=as_operator,
                          json={"answers": answers(WWC_2022, 25).model_dump(mode="json")})
    assert submitted.status_code == 200, submitted.text
    assigned = http.post(f"/api/cities/{CITY}/reviewer", headers=as_operator,
                         json={"reviewer": "assigned-reviewer@matrix.test"})
    assert assigned.status_code == 200, assigned.text
    return headers


def operations(api: ApiService) -> list[tuple[str, str, str]]:
    document: dict[str, Any] = api.client().get("/openapi.json").json()
    return [(method.upper(), path, operation["x-wwc-access"])
            for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def concrete(path: str) -> str:
    return (path.replace("{key}", CITY).replace("{clarification_id}", "1")
            .replace("{cohort_id}", "no-such-cohort").replace("{account_id}", "acc-none")
            .replace("{token_id}", "none"))


def expectation(rule: str, caller: str, path: str) -> str | int:
    expected = EXPECTED[rule][caller]  # a rule the matrix does not know fails here
    # Under a city's path, what is not the caller's is not found rather than forbidden.
    return 404 if expected == 403 and "{key}" in path else expected


def verdict(answer: httpx.Response, path: str, rule: str) -> str | int:
    status = answer.status_code
    if rule == "public":
        return ALLOWED if status not in (401, 403) else status  # a 404 there is content
    if status in (401, 403):
        return status
    if status == 404 and "{key}" in path and answer.json().get("detail") == f"no city {CITY!r}":
        return 404  # the rule's 404: the same answer as for a city that does not exist
    return ALLOWED


def test_every_route_answers_every_caller_as_its_rule_says(
    api: ApiService, tokens: dict[str, dict[str, str]]
) -> None:
    found = operations(api)
    assert len(found) >= 30, "the route table was read"
    wrong = []
    with api.client() as http:
        for method, path, rule in found:
            for caller in CALLERS:
                expected = expectation(rule, caller, path)
                answer = http.request(method, concrete(path), headers=tokens[caller],
                                      json={} if method in ("POST", "PUT") else None)
                if verdict(answer, path, rule) != expected:
                    wrong.append(f"{method} {path} [{rule}] as {caller}: {answer.status_code}"
                                 f" {answer.text[:120]} (expected {expected})")
    assert not wrong, "\n".join(wrong)
