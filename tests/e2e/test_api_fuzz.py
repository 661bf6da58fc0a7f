"""Property-based fuzzing of the whole API from its own OpenAPI document (Schemathesis),
against the running service: whatever it is sent, no answer is a server error and every
answer conforms to the document. Bounded per operation to keep CI short."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, api

pytestmark = pytest.mark.e2e
__all__ = ["api"]
EXAMPLES_PER_OPERATION = 12
# What the issue asks of every answer: never a server error, and conforming to the
# document (status code, content type, headers, body). Not whether a schema-valid input
# is accepted: the program's rules (a city name with a letter in it, evidence as links,
# the lifecycle's states) refuse much that JSON Schema cannot express, with a 4xx.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance]


@pytest.fixture(scope="module")
def admin_token(api: ApiService) -> dict[str, str]:
    http = api.client()
    signed = http.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    token = http.post("/api/tokens", json={"email": ADMIN_EMAIL, "name": "fuzz"},
                      headers={"X-CSRF-Token": signed.json()["csrf_token"]})
    return {"Authorization": f"Bearer {token.json()['token']}"}


def test_no_server_error_and_every_answer_conforms(api: ApiService,
                                                   admin_token: dict[str, str]) -> None:
    """Each operation gets its own bounded run (schemathesis's strategies driven by
    Hypothesis directly; its pytest plugin does not load under this pytest)."""
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    failures = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            # As the admin, so the generated requests get past the sign-in to the handlers.
            case.call_and_validate(headers=admin_token, checks=CHECKS)

        try:
            fuzz()
        except Exception as failure:  # collect every operation's, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
