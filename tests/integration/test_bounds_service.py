"""What no retry can mend is refused, and nothing is left stuck: a value the database
refuses, a cohort id taken (running or long announced), a cohort dated years ahead."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from temporalio.service import RPCError, RPCStatusCode

from domain import commands as c
from domain.errors import ErrorCategory
from domain.events import CohortCreated
from domain.streams import city_stream, cohort_stream
from infra.platform.errors import CommandRefused, ErrorKind
from tests.temporal import Service, program_clock
from workflows.persist import new_events

TODAY = date(2026, 6, 1)


async def test_a_value_the_database_refuses_refuses_the_command_and_leaves_nothing_stuck(
    service: Service
) -> None:
    """A join whose population PostgreSQL cannot hold, made as an older client (or one
    that skips the front door's checks) could: before, the append retried forever, the
    command hung and so did the next one on that city."""
    ops = service.operations(program_clock(TODAY, ms_per_day=60_000))
    huge = c.JoinNetwork.model_construct(name="Huge, TX", country="US", population=10**30,
                                         standard_id=None, location=None)

    with pytest.raises(CommandRefused) as refused:
        await asyncio.wait_for(ops.join(huge), timeout=30)

    assert refused.value.code == "unstorable_value"
    assert refused.value.category is ErrorCategory.INVALID_INPUT
    assert refused.value.kind is ErrorKind.INVALID_INPUT  # exit 3, 422
    assert "cannot be stored" in refused.value.message
    assert await service.store.stream_version(city_stream("us-huge-tx")) == 0
    # The city's workflow takes the next command at once.
    fine = c.JoinNetwork(name="Huge, TX", country="US", population=74_372)
    view = await asyncio.wait_for(ops.join(fine), timeout=30)
    assert view.city_key == "us-huge-tx"
    assert view.status.value == "assessing"


def _cohort_id() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


async def test_a_cohort_created_twice_is_refused_while_it_runs(service: Service) -> None:
    ops = service.operations(program_clock(TODAY, ms_per_day=60_000))
    cohort = c.CreateCohort(cohort_id=_cohort_id(), announce_on=date(2026, 12, 1))
    await ops.create_cohort(cohort)

    with pytest.raises(CommandRefused) as refused:
        await ops.create_cohort(cohort)

    assert refused.value.code == "cohort_exists"
    assert refused.value.kind is ErrorKind.REFUSED  # exit 4, 409


async def test_an_announced_cohort_is_not_created_again(service: Service) -> None:
    """Its workflow has completed: before, a second run started, found the cohort's
    stream taken and failed, and `wwc cohort create` had said yes."""
    ops = service.operations(program_clock(TODAY, ms_per_day=60_000))
    cohort_id = _cohort_id()
    await ops.create_cohort(c.CreateCohort(cohort_id=cohort_id, announce_on=date(2026, 12, 1)))
    await ops.announce_cohort(cohort_id)
    handle = service.client.get_workflow_handle(cohort_stream(cohort_id))
    await asyncio.wait_for(handle.result(), timeout=60)
    announced = await handle.describe()

    with pytest.raises(CommandRefused) as refused:
        await ops.create_cohort(c.CreateCohort(cohort_id=cohort_id,
                                               announce_on=date(2026, 12, 2)))

    assert refused.value.code == "cohort_exists"
    latest = await handle.describe()  # no second run was started
    assert (latest.run_id, latest.status) == (announced.run_id, announced.status)


async def test_a_cohort_known_only_to_the_event_store_is_not_created_again(
    service: Service
) -> None:
    """Its workflow has left the server (retention, a new cluster): its events remain."""
    ops = service.operations(program_clock(TODAY, ms_per_day=60_000))
    cohort_id = _cohort_id()
    stream = cohort_stream(cohort_id)
    await service.store.append(stream, 0, new_events(stream, 0, [CohortCreated(
        cohort_id=cohort_id, announce_on=date(2026, 12, 1), on=TODAY)], {}))

    with pytest.raises(CommandRefused) as refused:
        await ops.create_cohort(c.CreateCohort(cohort_id=cohort_id,
                                               announce_on=date(2026, 12, 1)))

    assert refused.value.code == "cohort_exists"
    with pytest.raises(RPCError) as missing:
        await service.client.get_workflow_handle(stream).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_a_cohort_dated_years_ahead_starts_nothing(service: Service) -> None:
    ops = service.operations(program_clock(TODAY, ms_per_day=60_000))
    cohort_id = _cohort_id()

    with pytest.raises(CommandRefused) as refused:
        await ops.create_cohort(c.CreateCohort(cohort_id=cohort_id,
                                               announce_on=date(9999, 12, 31)))

    assert refused.value.code == "date_too_far"
    assert refused.value.kind is ErrorKind.INVALID_INPUT  # exit 3, 422
    with pytest.raises(RPCError) as missing:
        await service.client.get_workflow_handle(cohort_stream(cohort_id)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
