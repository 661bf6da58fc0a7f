"""Adapters of the reviewer-accounts port (`activities.ports.ReviewerAccounts`): what the
program's accounts say of a reviewer, for the city's workflow to assign one."""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.accounts import ACCOUNT_STREAM_PREFIX, AccountState, ReviewerStanding, Role, evolve
from domain.events import ACCOUNT_EVENTS, as_account_event
from infra.eventstore.mapper import decode
from infra.eventstore.model import START, EventStore
from infra.identity.directory import AccountDirectory


def _standing(email: str, role: Role | None, disabled: bool,
              affiliations: tuple[str, ...]) -> ReviewerStanding:
    return ReviewerStanding(email=email, active_reviewer=role is Role.REVIEWER and not disabled,
                            affiliations=affiliations)


class ReadModelReviewers:
    """From the accounts read model, brought up to date first (an account created a moment
    ago is found)."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._directory = AccountDirectory(pool)

    async def standing(self, email: str) -> ReviewerStanding | None:
        account = await self._directory.find_by_email(email)
        if account is None:
            return None
        return _standing(account.email, account.role, account.disabled, account.affiliations)


class FoldedReviewers:
    """By folding every account's stream: for the in-memory store, where there are no read
    models (fast workflow tests)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def standing(self, email: str) -> ReviewerStanding | None:
        states: dict[str, AccountState] = {}
        after = START
        while page := await self._store.read_all(after, types=[c.TYPE for c in ACCOUNT_EVENTS]):
            for recorded in page:
                if recorded.stream_id.startswith(ACCOUNT_STREAM_PREFIX):
                    state = states.get(recorded.stream_id, AccountState())
                    states[recorded.stream_id] = evolve(state,
                                                        as_account_event(decode(recorded)))
            after = page[-1].cursor
        for state in states.values():
            if state.email is not None and state.email == email.strip().lower():
                return _standing(state.email, state.role, state.disabled, state.affiliations)
        return None
