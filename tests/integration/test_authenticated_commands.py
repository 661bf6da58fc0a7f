"""A command reaches a city only with an authentic header (sealed with the service's keys,
for this workflow and this update, fresh), and a reviewer's standing comes from the
accounts, never from the command: refusals record nothing, in the event store or in the
workflow's history."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio import client as temporal_client
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError

from domain import commands as c
from domain.streams import city_stream
from domain.views import CityView
from infra.platform.errors import CommandRefused
from tests.factories import WWC_2022, answers
from tests.integration.test_city_lifecycle import JOIN, KEY
from tests.temporal import REVIEWER, Service, program_clock, reviewer_account
from workflows.actors import CONTEXT_HEADER, CommandHeader
from workflows.updates import city_update

Forge = Callable[[temporal_client.StartWorkflowUpdateInput], None]


class _Forging(temporal_client.Interceptor):
    """A client holding the keys but writing its own header (or none)."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge

    def intercept_client(self, next: temporal_client.OutboundInterceptor
                         ) -> temporal_client.OutboundInterceptor:
        forge = self.forge

        class Outbound(temporal_client.OutboundInterceptor):
            async def start_workflow_update(
                self, input: temporal_client.StartWorkflowUpdateInput
            ) -> temporal_client.WorkflowUpdateHandle[Any]:
                forge(input)
                return await super().start_workflow_update(input)

        return Outbound(next)


def forging(client: Client, forge: Forge) -> Client:
    config = client.config()
    config["interceptors"] = [_Forging(forge)]
    return Client(**config)


def header(input: temporal_client.StartWorkflowUpdateInput, **changes: Any) -> None:
    input.update_id = input.update_id or str(uuid.uuid4())
    values: dict[str, Any] = {"actor_id": "acc-admin", "actor_role": "admin",
                              "workflow_id": input.id, "update_id": input.update_id,
                              "issued_at": datetime.now(UTC)} | changes
    input.headers = {CONTEXT_HEADER: PayloadConverter.default.to_payload(
        CommandHeader(**values).model_dump(mode="json"))}


def no_header(input: temporal_client.StartWorkflowUpdateInput) -> None:
    input.headers = {}


def another_update(input: temporal_client.StartWorkflowUpdateInput) -> None:
    header(input, update_id="copied-from-a-history")


def another_city(input: temporal_client.StartWorkflowUpdateInput) -> None:
    header(input, workflow_id="city/us-elsewhere-xx")


def stale(input: temporal_client.StartWorkflowUpdateInput) -> None:
    header(input, issued_at=datetime.now(UTC) - timedelta(hours=1))


async def nothing_recorded(service: Service, act: Callable[[], Awaitable[object]], *,
                           in_history: bool = False) -> BaseException:
    """The refusal `act` meets; nothing in the event store, nor in the workflow's history
    unless `in_history` (a refusal after the update was accepted: a failed update)."""
    handle = service.client.get_workflow_handle(city_stream(KEY))
    events_before = await service.store.stream_version(city_stream(KEY))
    history_before = len((await handle.fetch_history()).events)
    with pytest.raises((WorkflowUpdateFailedError, CommandRefused)) as refused:
        await act()
    assert await service.store.stream_version(city_stream(KEY)) == events_before
    if not in_history:
        assert len((await handle.fetch_history()).events) == history_before
    return refused.value


@pytest.mark.parametrize("forge", [no_header, another_update, another_city, stale],
                         ids=lambda f: f.__name__)
async def test_an_update_without_an_authentic_header_is_refused(
        service: Service, forge: Forge) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    await ops.join(JOIN)
    forged = forging(service.client, forge).get_workflow_handle(city_stream(KEY))

    refused = await nothing_recorded(service, lambda: forged.execute_update(
        city_update(c.Withdraw), c.Withdraw(reason="forged"), result_type=CityView))

    assert isinstance(refused, WorkflowUpdateFailedError)
    assert isinstance(refused.cause, ApplicationError)
    assert refused.cause.type == "unauthenticated"
    # The same, with its own fresh header, goes through: the city was not stuck.
    forged_ok = forging(service.client, header).get_workflow_handle(city_stream(KEY))
    view = await forged_ok.execute_update(city_update(c.Withdraw), c.Withdraw(reason="ok"),
                                          result_type=CityView)
    assert view.status.value == "withdrawn"
    last = (await service.store.read_stream(city_stream(KEY)))[-1]
    assert (last.metadata["actor"], last.metadata["actor_role"]) == ("acc-admin", "admin")


async def test_a_reviewers_affiliations_come_from_the_accounts(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    await reviewer_account(service.pool, "affiliated@rfa.test", affiliations=(KEY,))
    await ops.join(JOIN)
    await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 25)))

    # A command that leaves the affiliation out, from a door that does not look it up
    # (the API and the CLI do, and refuse before sending): the workflow reads the
    # accounts, and refuses it once accepted (a failed update in Temporal's history).
    refused = await nothing_recorded(service, lambda: ops.send(
        KEY, c.AssignReviewer(reviewer="affiliated@rfa.test", affiliations=())),
        in_history=True)
    assert isinstance(refused, CommandRefused)
    assert refused.code == "conflict_of_interest"
    # Refused in the update's handler, its facts come along as a validator's do.
    assert refused.facts["reviewer"] == "affiliated@rfa.test"
    unknown = await nothing_recorded(service, lambda: ops.send(
        KEY, c.AssignReviewer(reviewer="nobody@rfa.test")), in_history=True)
    assert isinstance(unknown, CommandRefused)
    assert unknown.code == "unknown_reviewer"
    assigned = await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER))
    assert assigned.reviewer == REVIEWER
