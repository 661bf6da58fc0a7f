"""What the web needs of the program: the port its routes and pages call. `ProgramService`
(over Temporal) is the one the service runs on; the in-process HTTP tests run the routes
over an implementation without Temporal (`tests/web/program.py`), so both must satisfy it
(mypy checks each where it is handed to the web).

The errors are the service's: a refusal is `CommandRefused` (the domain's code and
category), an unknown city or cohort `NotFound`, an unreachable program `Unavailable`."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from temporalio.converter import PayloadCodec

from domain import commands
from domain.catalog import StandardCatalog
from domain.city_state import Application
from domain.clock import ProgramClock
from domain.drafts import DraftState
from domain.report import Report
from domain.review_sheets import SheetState
from domain.rules import ProgramRules
from domain.views import CityView, CommandAnswer
from workflows.actors import RequestContext
from workflows.messages import CohortResult


class Program(Protocol):
    @property
    def catalog(self) -> StandardCatalog: ...

    @property
    def rules(self) -> ProgramRules: ...

    @property
    def clock(self) -> ProgramClock:
        """The program's clock (a badge's freshness runs to its expiry on it)."""

    @property
    def payload_codec(self) -> PayloadCodec | None:
        """What seals the program's payloads in Temporal (the operators' codec endpoint
        opens them with its keys); None when nothing is sealed."""

    def program_today(self) -> date: ...

    async def send(self, key: str, command: commands.CityCommand, *,
                   context: RequestContext = ...,
                   update_id: str | None = None) -> CommandAnswer:
        """Give `command` to the city `key`; the same `update_id` twice runs it once."""

    async def join(self, command: commands.JoinNetwork, *, context: RequestContext = ...,
                   update_id: str | None = None) -> CommandAnswer: ...

    async def save_draft(self, key: str, command: commands.SaveAssessment, *,
                         context: RequestContext = ..., update_id: str | None = None,
                         view: CityView | None = None) -> tuple[CommandAnswer, DraftState]:
        ...

    async def save_review_sheet(self, key: str, command: commands.SaveReviewSheet, *,
                                context: RequestContext = ..., update_id: str | None = None,
                                view: CityView | None = None
                                ) -> tuple[CommandAnswer, SheetState]:
        ...

    async def review_sheet(self, key: str) -> SheetState: ...

    async def application(self, key: str) -> Application | None: ...

    async def application_and_draft(self, key: str) -> tuple[Application | None, DraftState]:
        ...

    async def report(self, key: str) -> Report | None: ...

    async def create_cohort(self, command: commands.CreateCohort, *,
                            request_id: str | None = None) -> str | None: ...

    async def announce_cohort(self, cohort_id: str, *,
                              update_id: str | None = None) -> CohortResult: ...

    async def cohort(self, cohort_id: str) -> CohortResult: ...

    async def deliver_mail(self, cause: str) -> None:
        """Have what the outbox holds for `cause` sent (a person's invitation or password
        reset, recorded by the account directory with its event)."""
