"""Given, when, then for the deciders: a stream's history as events, one command on one
day, and what the decider must make of it, its events or its refusal's code.

    CITY.given(*JOINED).when(c.Reapply(), on=D0).then(refused("application_open"))
    COHORT.given(created).when(c.AnnounceCohort(), on=D1).then(e.CohortAnnounced(...))
    ACCOUNT.given(created, issued).when(revoke, on=D0).then()  # decides nothing

The history is folded with the decider's own `evolve`, as its workflow folds its stream;
`then(*events)` returns the state after the decided events, `then(refused(...))` the
refusal, for a test that goes on asking. A failure names the command and the history,
then what was expected and what the decider did: both lists of events and the fields that
differ, or the refusal's code expected and the code, or the events, it met instead."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel

from domain import accounts, commands, events, lifecycle
from domain import cohort as cohorts
from domain.catalog import StandardCatalog
from domain.city_state import CityState
from domain.errors import DomainError
from domain.rules import ProgramRules
from tests.factories import CATALOG

State = TypeVar("State")
Command = TypeVar("Command", bound=BaseModel)
Event = TypeVar("Event", bound=events.Event)

# A value longer than this is cut in a failure's listing (a whole self-assessment would
# bury the line); the fields that differ are shown in full below it.
_SHOWN = 160


@dataclass(frozen=True)
class Refused:
    """The refusal a command must meet: its `code`, and a pattern its message must hold."""

    code: str
    match: str | None = None


def refused(code: str, match: str | None = None) -> Refused:
    """A refusal with `code` (the one every front door shows); `match`, a regular
    expression searched in the message, when the test cares what it says."""
    return Refused(code, match)


@dataclass(frozen=True)
class Decider(Generic[State, Command, Event]):
    """A decider as the scenarios drive it: where a stream starts, and its two functions
    with whatever else they take (the standards, the rules, an account's id) bound."""

    name: str
    initial: State
    decide: Callable[[State, Command, date], Sequence[Event]]
    evolve: Callable[[State, Event], State]

    def given(self, *history: Event) -> Given[State, Command, Event]:
        state = self.initial
        for event in history:
            state = self.evolve(state, event)
        return Given(self, history, state)


@dataclass(frozen=True)
class Given(Generic[State, Command, Event]):
    decider: Decider[State, Command, Event]
    history: tuple[Event, ...]
    state: State

    def when(self, command: Command, *, on: date) -> When[State, Command, Event]:
        return When(self, command, on)


@dataclass(frozen=True)
class When(Generic[State, Command, Event]):
    given: Given[State, Command, Event]
    command: Command
    on: date

    @overload
    def then(self, refusal: Refused, /) -> DomainError: ...

    @overload
    def then(self, *expected: Event) -> State: ...

    def then(self, *expected: Event | Refused) -> State | DomainError:
        """Check what the decider makes of the command: exactly these events (none: it
        records nothing), or a refusal."""
        __tracebackhide__ = True  # a failure points at the test's line, not at this one
        refusals = [x for x in expected if isinstance(x, Refused)]
        wanted = [x for x in expected if not isinstance(x, Refused)]
        if refusals and len(expected) > 1:
            raise TypeError("then() takes the events expected or one refusal, not both")
        decider = self.given.decider
        try:
            decided = list(decider.decide(self.given.state, self.command, self.on))
        except DomainError as error:
            if not refusals:
                raise AssertionError(self._headline(
                    f"expected {_count(len(wanted))}, but {decider.name} refused it: "
                    f"{error.code}: {error}") + _listing("expected", wanted)) from None
            return self._check_refusal(refusals[0], error)
        if refusals:
            raise AssertionError(self._headline(
                f"expected the refusal {_refusal(refusals[0])}, but {decider.name} "
                f"decided {_count(len(decided))}") + _listing("decided", decided))
        if decided != wanted:
            raise AssertionError(self._headline(
                f"{decider.name} decided other events than expected")
                + _listing("expected", wanted) + _listing("decided", decided)
                + _differences(wanted, decided))
        state = self.given.state
        for event in decided:
            state = decider.evolve(state, event)
        return state

    def _check_refusal(self, refusal: Refused, error: DomainError) -> DomainError:
        __tracebackhide__ = True
        name = self.given.decider.name
        if error.code != refusal.code:
            raise AssertionError(self._headline(
                f"expected the refusal {_refusal(refusal)}, but {name} refused it with "
                f"{error.code}: {error}"))
        if refusal.match is not None and not re.search(refusal.match, str(error)):
            raise AssertionError(self._headline(
                f"refused with {error.code} as expected, but its message does not match "
                f"{refusal.match!r}: {error}"))
        return error

    def _headline(self, what: str) -> str:
        history = ", ".join(event.TYPE for event in self.given.history) or "nothing yet"
        return (f"when {type(self.command).__name__} on {self.on}, given {history}:\n"
                f"  {what}")


def _count(n: int) -> str:
    return "no event" if n == 0 else f"{n} event{'s' if n > 1 else ''}"


def _refusal(refusal: Refused) -> str:
    return refusal.code + (f" (matching {refusal.match!r})" if refusal.match else "")


def _listing(title: str, found: Sequence[events.Event]) -> str:
    if not found:
        return f"\n{title}: no event"
    return f"\n{title}:" + "".join(f"\n  {_line(event)}" for event in found)


def _line(event: events.Event) -> str:
    fields = ", ".join(f"{name}={_shown(value)}" for name, value in _fields(event).items())
    return f"{event.TYPE} ({fields})"


def _fields(event: events.Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}..."


def _differences(wanted: Sequence[events.Event], decided: Sequence[events.Event]) -> str:
    """Where the two lists part: the first pair of events that differ (field by field,
    in full), and the counts when they differ too."""
    found = ""
    for index, (one, other) in enumerate(zip(wanted, decided, strict=False), start=1):
        if type(one) is not type(other):
            found = f"\nevent {index}: expected {one.TYPE}, decided {other.TYPE}"
        elif one != other:
            mine, theirs = _fields(one), _fields(other)
            found = "".join(
                f"\nevent {index} ({one.TYPE}), {name}: expected {mine.get(name)!r}, "
                f"decided {theirs.get(name)!r}"
                for name in sorted(mine.keys() | theirs.keys())
                if mine.get(name) != theirs.get(name))
        if found:
            break
    if len(wanted) != len(decided):
        found += f"\nexpected {_count(len(wanted))}, decided {_count(len(decided))}"
    return found


# --- the program's deciders --------------------------------------------------------------

def city_decider(rules: ProgramRules | None = None, standards: StandardCatalog = CATALOG,
                 ) -> Decider[CityState, commands.CityCommand, events.CityEvent]:
    """The city's decider (domain/lifecycle.py) under these rules and standards."""
    bound = rules or ProgramRules()

    def decide(state: CityState, command: commands.CityCommand,
               now: date) -> list[events.CityEvent]:
        return lifecycle.decide(state, command, now, standards=standards, rules=bound)

    return Decider("the city", CityState(), decide, lifecycle.evolve)


def cohort_decider(rules: ProgramRules | None = None,
                   ) -> Decider[cohorts.CohortState, commands.CohortCommand, events.CohortEvent]:
    """A cohort's decider; with `rules`, as the front doors check a creation."""

    def decide(state: cohorts.CohortState, command: commands.CohortCommand,
               now: date) -> list[events.CohortEvent]:
        return cohorts.decide(state, command, now, rules)

    return Decider("the cohort", cohorts.CohortState(), decide, cohorts.evolve)


def account_decider(account_id: str = "acc-1",
                    given: accounts.Circumstances | None = None) -> Decider[
        accounts.AccountState, accounts.AnyAccountCommand, events.AccountEvent]:
    """An account's decider, for the account `account_id`, in the circumstances `given`
    (the real time, who asks, how many admins are active)."""

    def decide(state: accounts.AccountState, command: accounts.AnyAccountCommand,
               now: date) -> list[events.AccountEvent]:
        return accounts.decide(state, command, account_id, now, given)

    return Decider("the account", accounts.AccountState(), decide, accounts.evolve)


CITY = city_decider()
COHORT = cohort_decider()
ACCOUNT = account_decider()
