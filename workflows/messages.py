"""What crosses a workflow's boundary: the city's and the cohort's inputs and results, and
the messages between cohort and city workflows (signals both ways, no activity in the
middle holding a worker slot while the other side works).

They live here, outside the workflow modules, because the sandbox imports a workflow's
module afresh for every run, and building a pydantic model class is costly; this module
is passed through, so its classes are built once per worker (profiled: a few per cent
of the worker's CPU in the lifecycle benchmark, where every city runs three times)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain import cohort as cohorts
from domain.city_state import CityState
from domain.clock import ProgramClock
from domain.model import Frozen
from domain.rules import ProgramRules
from domain.standard import Standard
from domain.tiers import Tier


class CohortAnnouncement(BaseModel):
    """Cohort -> city: be announced in this cohort on this date, then reply."""

    model_config = ConfigDict(frozen=True)

    cohort_id: str
    announced_on: date
    reply_to: str  # the cohort's workflow id


class CohortReply(BaseModel):
    """City -> cohort: whether it was announced (and if not, the domain's reason)."""

    model_config = ConfigDict(frozen=True)

    city_key: str
    announced: bool
    tier: Tier
    reason: str = ""


class CityInput(Frozen):
    city_key: str
    clock: ProgramClock
    rules: ProgramRules = ProgramRules()
    standards: tuple[Standard, ...]
    # Carried over continue-as-new; None for a new city.
    state: CityState | None = None
    # A command whose effect already holds records nothing (domain/lifecycle.py:
    # already_holds). Every start and continue-as-new sets it; a run begun before (its
    # input has no such field) decides a repeat as it did, so its recorded history replays
    # the same, and takes the rule up at its next cycle. (Not `workflow.patched`: a second
    # patch marker in a city's first task made Temporal keep each rejected update's
    # workflow task in the history, where a refusal must leave nothing.)
    repeats_record_nothing: bool = False


class CohortInput(Frozen):
    cohort_id: str
    announce_on: date
    clock: ProgramClock
    # The program date the operator asked on (the cohort is created as of it, so a request
    # made just before midnight does not turn into "a date already past" in the workflow).
    requested_on: date | None = None
    # Recovery from the event log (`wwc recover`): the cohort as its stream folds; nothing
    # is recorded again, an announced cohort just answers.
    state: cohorts.CohortState | None = None


class CohortResult(Frozen):
    cohort_id: str
    announced_on: date | None
    cities: tuple[cohorts.CohortCity, ...]
    skipped: tuple[str, ...] = ()
