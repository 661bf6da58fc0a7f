"""The tables that tie names together: each command type's update exists on its workflow
and takes exactly that command; every update is in the table; every event type a read
model listens to exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

import pytest
from temporalio import workflow

from domain import accounts, commands, events
from infra.readside.projections import Projection, all_projections
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow
from workflows.digest import DigestWorkflow
from workflows.updates import CARRIERS, CITY_UPDATES, COHORT_UPDATES, INTERNAL, Carrier

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
    assert set(get_args(commands.CityCommand)) - INTERNAL == set(CITY_UPDATES)


def _command_types() -> set[type]:
    return {cls for module, base in ((commands, commands.Command),
                                     (accounts, accounts.AccountCommand))
            for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base}


def test_every_command_has_one_carrier_or_is_the_programs_own() -> None:
    assert set(CARRIERS) | INTERNAL == _command_types()
    assert not set(CARRIERS) & INTERNAL


def test_the_carriers_agree_with_the_update_tables() -> None:
    by_carrier = {carrier: {t for t, c in CARRIERS.items() if c is carrier} for carrier in Carrier}
    # Every carrier is used: a carrier nothing travels by would be dead code in `send`.
    assert all(by_carrier.values())
    assert by_carrier[Carrier.CITY_UPDATE] | by_carrier[Carrier.UPDATE_WITH_START] <= set(
        CITY_UPDATES)
    assert by_carrier[Carrier.COHORT_UPDATE] == set(COHORT_UPDATES)
    assert all(issubclass(t, accounts.AccountCommand)
               for t in by_carrier[Carrier.ACCOUNT_STREAM])
    assert all(issubclass(t, commands.Command) for t in by_carrier[Carrier.CITY_UPDATE])


@pytest.mark.parametrize("projection", all_projections(), ids=lambda p: p.name)
def test_every_event_type_a_read_model_listens_to_exists(projection: Projection) -> None:
    listened = projection.event_types
    assert listened, "a read model that listens to nothing"
    assert set(listened) <= set(events.EVENT_TYPES)


def test_event_type_names_are_unique_across_streams() -> None:
    names = [cls.TYPE for cls in (*events.CITY_EVENTS, *events.COHORT_EVENTS,
                                  *events.ACCOUNT_EVENTS, *events.DRAFT_EVENTS,
                                  *events.REVIEW_SHEET_EVENTS)]
    assert len(names) == len(set(names)) == len(events.EVENT_TYPES)
