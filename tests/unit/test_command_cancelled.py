"""A command whose caller is cancelled (a demo stopping, the event loop shutting down) is
a cancellation, not "no worker answered": the SDK turns a cancelled update into
`WorkflowUpdateRPCTimeoutOrCancelledError`, which a timeout also raises."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from infra.application import ProgramService
from infra.platform.errors import Unavailable


async def update_as_the_sdk_waits() -> None:
    """An update never answered; cancelled, it raises what the SDK raises."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError as error:
        raise WorkflowUpdateRPCTimeoutOrCancelledError() from error


def service(timeout: float) -> ProgramService:
    return cast(ProgramService, SimpleNamespace(command_timeout=timeout))


async def test_a_cancelled_command_stays_cancelled_when_every_task_is_cancelled() -> None:
    command = asyncio.create_task(
        ProgramService._answered(service(60), update_as_the_sdk_waits()))
    await asyncio.sleep(0.01)
    # As `asyncio.run` does on shutdown: every task at once, in no set order; here the
    # caller's last (any task its wait started is cancelled first).
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in sorted(others, key=lambda task: task is command):
        task.cancel()
    (outcome,) = await asyncio.gather(command, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError), repr(outcome)


async def test_a_command_not_answered_in_time_says_no_worker_answered() -> None:
    with pytest.raises(Unavailable, match="no worker answered within 0 s"):
        await ProgramService._answered(service(0.05), update_as_the_sdk_waits())
