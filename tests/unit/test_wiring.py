"""The tables that tie names together: each command type's update exists on its workflow
and takes exactly that command; every update is in the table; every event type a read
model listens to exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

import pytest
from temporalio import workflow

from domain import commands, events
from infra.projections import Projection, all_projections
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow
from workflows.digest import DigestWorkflow
from workflows.updates import CITY_UPDATES, COHORT_UPDATES

TABLES: list[tuple[type, Mapping[type[commands.Command], str]]] = [
    (CityWorkflow, CITY_UPDATES), (CohortWorkflow, COHORT_UPDATES)]


@pytest.mark.parametrize(("workflow_class", "table"), TABLES, ids=["city", "cohort"])
def test_every_update_takes_the_command_its_table_names(
    workflow_class: type, table: Mapping[type[commands.Command], str]
) -> None:
    updates = workflow._Definition.must_from_class(workflow_class).updates
    handled = {name: tuple(update.arg_types or ()) for name, update in updates.items()}
    assert handled == {name: (command,) for command, name in table.items()}


@pytest.mark.parametrize("workflow_class", [CityWorkflow, CohortWorkflow, DigestWorkflow],
                         ids=["city", "cohort", "digest"])
def test_every_update_has_a_validator(workflow_class: type) -> None:
    # The worker refuses an update that is not authenticated in the validator's stage (the
    # SDK runs that stage only for an update with a validator): one without would take
    # a forged command.
    updates = workflow._Definition.must_from_class(workflow_class).updates
    assert all(update.validator is not None for update in updates.values())


def test_operator_commands_of_a_city_all_have_an_update() -> None:
    # The program's own commands are given by the workflow itself, never by a client.
    internal = {commands.RecordDecision, commands.SendRenewalReminder, commands.Expire,
                commands.ReachDeadline}
    assert set(get_args(commands.CityCommand)) - internal == set(CITY_UPDATES)


@pytest.mark.parametrize("projection", all_projections(), ids=lambda p: p.name)
def test_every_event_type_a_read_model_listens_to_exists(projection: Projection) -> None:
    listened = projection.event_types
    assert listened, "a read model that listens to nothing"
    assert set(listened) <= set(events.EVENT_TYPES)


def test_event_type_names_are_unique_across_streams() -> None:
    names = [cls.TYPE for cls in (*events.CITY_EVENTS, *events.COHORT_EVENTS,
                                  *events.ACCOUNT_EVENTS, *events.DRAFT_EVENTS)]
    assert len(names) == len(set(names)) == len(events.EVENT_TYPES)
