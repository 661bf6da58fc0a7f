"""Errors as problem details: each kind its status, the unreachable ones with Retry-After,
and the refusal's code carried."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from starlette.requests import Request
from temporalio.service import RPCError, RPCStatusCode

from domain.answers import Answers
from domain.commands import SubmitAssessment
from domain.errors import AssessmentError, TransitionRefused
from infra.platform.errors import CommandRefused, Unavailable
from infra.web.problems import any_error

REQUEST = Request({"type": "http", "method": "GET", "path": "/x", "headers": []})


async def answer(error: Exception) -> tuple[int, dict[str, str], dict[str, object]]:
    response = await any_error(REQUEST, error)
    return response.status_code, dict(response.headers), json.loads(bytes(response.body))


async def test_an_unreachable_server_is_503_with_retry_after() -> None:
    for error in (Unavailable("cannot reach PostgreSQL"),
                  RPCError("down", RPCStatusCode.UNAVAILABLE, b""), ConnectionRefusedError()):
        status, headers, body = await answer(error)
        assert (status, body["kind"]) == (503, "unavailable")
        assert int(headers["retry-after"]) > 0


async def test_refusals_carry_their_code_and_kind() -> None:
    status, _, body = await answer(CommandRefused("conflict_of_interest", "no"))
    assert (status, body["code"], body["detail"]) == (409, "conflict_of_interest", "no")
    status, _, body = await answer(AssessmentError("unknown criterion", code="unknown_criterion"))
    assert (status, body["code"], body["kind"]) == (422, "unknown_criterion", "invalid_input")
    status, _, _ = await answer(TransitionRefused("no", code="wrong_stage"))
    assert status == 409


async def test_a_bug_is_500_and_says_nothing_of_itself() -> None:
    status, _, body = await answer(KeyError("secret internals"))
    assert status == 500
    assert "secret" not in json.dumps(body)


async def test_a_refusal_carries_its_facts_and_a_bad_link_its_code() -> None:
    """What a page needs to say it in words (infra/i18n/refusals.py); none without."""
    _, _, body = await answer(CommandRefused("conflict_of_interest", "no",
                                             facts={"reviewer": "r@x.org", "city": "Recife"}))
    assert body["facts"] == {"reviewer": "r@x.org", "city": "Recife"}
    _, _, body = await answer(TransitionRefused("no", code="stale_version"))
    assert "facts" not in body
    with pytest.raises(ValidationError) as refused:
        SubmitAssessment(answers=Answers.model_validate(
            {"criteria": {"DM1": {"met": True, "evidence": ["minutes.pdf"]}}}))
    status, _, body = await answer(refused.value)
    assert (status, body["code"], body["facts"]) == (422, "invalid_link",
                                                     {"link": "minutes.pdf"})
    # The detail reads as it always did.
    assert body["detail"] == ("answers: criterion DM1: evidence must be an http(s) URL, "
                              "not 'minutes.pdf'")
