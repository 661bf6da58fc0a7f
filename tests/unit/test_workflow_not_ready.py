"""A command sent while its workflow's task is in a failed state (Temporal's "workflow not
ready": the task failed, e.g. the deadlock detector on a starved worker, and runs again)
ran nothing: the door says "unavailable, retry with the same request id" (exit 5, 503),
not an unexpected error (exit 1). Seen in the fault suite under heavy load."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from infra.application.service import ProgramService, workflow_not_ready
from infra.platform.errors import ErrorKind, Unavailable, classify

NOT_READY = "Unable to perform workflow execution update due to Workflow Task in failed state."


def _service() -> ProgramService:
    service = object.__new__(ProgramService)  # `_answered` needs nothing but its timeout
    service.command_timeout = 5
    return service


async def _raises(error: BaseException) -> None:
    raise error


async def test_an_update_refused_while_the_workflow_task_is_failing_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="retry with the same request id") as caught:
        await _service()._answered(_raises(
            RPCError(NOT_READY, RPCStatusCode.FAILED_PRECONDITION, b"")))
    assert classify(caught.value) is ErrorKind.UNAVAILABLE


async def test_other_precondition_failures_are_not_taken_for_it() -> None:
    other = RPCError("something else", RPCStatusCode.FAILED_PRECONDITION, b"")
    assert not workflow_not_ready(other)
    with pytest.raises(RPCError):
        await _service()._answered(_raises(other))
