"""Program operations as a client sees them: each command is an update on the city's (or
cohort's) workflow; a refusal comes back as `CommandRefused` with the domain's reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain import commands as c
from domain.catalog import StandardCatalog
from domain.city import city_key, city_stream, cohort_stream
from domain.clock import ProgramClock
from domain.errors import DomainError
from domain.lifecycle import CityState, Status, decide
from domain.report import Report
from domain.rules import ProgramRules
from domain.views import CityView
from workflows.city import CityInput, CityWorkflow
from workflows.cohort import CohortInput, CohortResult, CohortWorkflow

# Refusal codes that mean "the input is wrong" rather than "not allowed now".
INPUT_CODES = frozenset({"invalid_assessment", "unknown_criterion", "missing_evidence",
                         "unknown_standard", "invalid_standard", "standard_incomplete"})

T = TypeVar("T", bound=BaseModel)


class CommandRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def is_input_error(self) -> bool:
        return self.code in INPUT_CODES


class NotFound(Exception):
    pass


def _refusal(error: WorkflowUpdateFailedError) -> CommandRefused:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return CommandRefused(cause.type or "refused", cause.message)
    return CommandRefused("refused", str(cause or error))


@contextmanager
def _city_must_exist(key: str) -> Iterator[None]:
    """A city's workflow that does not exist (it never joined) is NotFound."""
    try:
        yield
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no city {key!r} (has it joined?)") from None
        raise


class Operations:
    def __init__(self, client: Client, task_queue: str, *, catalog: StandardCatalog,
                 clock: ProgramClock, rules: ProgramRules | None = None) -> None:
        self.client = client
        self.task_queue = task_queue
        self.catalog = catalog
        self.clock = clock
        self.rules = rules or ProgramRules()
        # Workflow ids this client started or joined (the tests clean up with it).
        self.touched: set[str] = set()

    def city(self, key: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(city_stream(key))

    async def join(self, command: c.JoinNetwork) -> CityView:
        """Update-with-start: the first join starts the city's workflow; a second one
        reaches the same workflow and is refused there ("already joined")."""
        key = city_key(command.country, command.name)
        # The decider's checks that need no state (eligibility, the standard) run here
        # first, so a join refused for them never starts a workflow.
        try:
            decide(CityState(), command, self.program_today(), standards=self.catalog,
                   rules=self.rules)
        except DomainError as error:
            raise CommandRefused(error.code, error.message) from None
        self.touched.add(city_stream(key))
        start = WithStartWorkflowOperation(
            CityWorkflow.run,
            CityInput(city_key=key, clock=self.clock, rules=self.rules,
                      standards=tuple(self.catalog.values())),
            id=city_stream(key), task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        try:
            # By name: the SDK's typed overloads do not accept async update methods (mypy).
            view: CityView = await self.client.execute_update_with_start_workflow(
                "join", command, start_workflow_operation=start, result_type=CityView)
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from None
        return view

    async def command(self, key: str, update: str, command: BaseModel | None = None,
                      *, update_id: str | None = None) -> CityView:
        handle = self.city(key)
        with _city_must_exist(key):
            try:
                args = [] if command is None else [command]
                view: CityView = await handle.execute_update(update, args=args, id=update_id,
                                                             result_type=CityView)
            except WorkflowUpdateFailedError as error:
                raise _refusal(error) from None
        return view

    async def view(self, key: str) -> CityView:
        view = await self._query(key, "view", CityView)
        if view.status is Status.NOT_JOINED:
            # A workflow whose join was refused ended without a member: no such city.
            raise NotFound(f"no city {key!r} (has it joined?)")
        return view

    async def report(self, key: str) -> Report | None:
        with _city_must_exist(key):
            report: Report | None = await self.city(key).query("report", result_type=Report)
        return report

    async def _query(self, key: str, name: str, result: type[T]) -> T:
        with _city_must_exist(key):
            value: T = await self.city(key).query(name, result_type=result)
        return value

    async def create_cohort(self, cohort_id: str, announce_on: date) -> None:
        self.touched.add(cohort_stream(cohort_id))
        try:
            await self.client.start_workflow(
                CohortWorkflow.run,
                CohortInput(cohort_id=cohort_id, announce_on=announce_on, clock=self.clock),
                id=cohort_stream(cohort_id), task_queue=self.task_queue)
        except RPCError as error:
            if error.status == RPCStatusCode.ALREADY_EXISTS:
                raise CommandRefused("exists", f"cohort {cohort_id} already exists") from None
            raise

    async def announce_cohort(self, cohort_id: str) -> CohortResult:
        handle = self.client.get_workflow_handle(cohort_stream(cohort_id))
        try:
            result: CohortResult = await handle.execute_update(
                "announce_now", result_type=CohortResult)
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from None
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            # A cohort's workflow completes once it is announced; it still answers queries.
            done = await self.cohort(cohort_id)
            raise CommandRefused("already_announced", f"cohort {cohort_id} is already "
                                 f"announced (on {done.announced_on})") from None
        return result

    async def cohort(self, cohort_id: str) -> CohortResult:
        handle = self.client.get_workflow_handle(cohort_stream(cohort_id))
        try:
            result: CohortResult = await handle.query(CohortWorkflow.view)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no cohort {cohort_id!r}") from None
            raise
        return result

    def program_today(self) -> date:
        return self.clock.today(datetime.now(UTC))
