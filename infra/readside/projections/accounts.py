"""Accounts and their API tokens, for sign-in and access look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain import events
from domain.accounts import ACCOUNT_STREAM_PREFIX
from infra.eventstore.mapper import current_data
from infra.eventstore.model import RecordedEvent
from infra.postgres.db import Connection
from infra.readside.projections.base import day


class AccountProjection:
    name = "accounts"
    tables: tuple[str, ...] = ("wwc_api_tokens", "wwc_accounts")
    event_types = frozenset(cls.TYPE for cls in events.ACCOUNT_EVENTS)
    omit_data_keys: tuple[str, ...] = ()

    async def apply(self, conn: Connection, page: Sequence[RecordedEvent]) -> None:
        # Account events are few (people, not cities' answers): one statement each.
        for event in page:
            data = current_data(event)
            account_id = event.stream_id.removeprefix(ACCOUNT_STREAM_PREFIX)
            if event.event_type == events.AccountCreated.TYPE:
                await conn.execute(
                    "INSERT INTO wwc_accounts (account_id, email, display_name, role, cities, "
                    "affiliations, language, created_on) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                    "$8) ON CONFLICT (account_id) DO NOTHING",
                    account_id, data["email"], data["display_name"], data["role"],
                    data["cities"], data["affiliations"], data["language"], day(data["on"]))
            elif event.event_type == events.AccountDisabled.TYPE:
                await conn.execute("UPDATE wwc_accounts SET disabled = true "
                                   "WHERE account_id = $1", account_id)
            elif event.event_type == events.ApiTokenIssued.TYPE:
                await conn.execute(
                    "INSERT INTO wwc_api_tokens (token_id, account_id, name, expires_on, "
                    "issued_on) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING",
                    data["token_id"], account_id, data["name"], day(data["expires_on"]),
                    day(data["on"]))
            elif event.event_type == events.DigestPreferenceSet.TYPE:
                await conn.execute("UPDATE wwc_accounts SET digest = $2 WHERE account_id = $1",
                                   account_id, data["enabled"])
            elif event.event_type == events.ApiTokenRevoked.TYPE:
                await conn.execute("UPDATE wwc_api_tokens SET revoked = true "
                                   "WHERE token_id = $1", data["token_id"])
            elif event.event_type == events.AccountEnabled.TYPE:
                await conn.execute("UPDATE wwc_accounts SET disabled = false "
                                   "WHERE account_id = $1", account_id)
            elif event.event_type == events.AccountInvited.TYPE:
                await conn.execute(
                    "UPDATE wwc_accounts SET password_state = 'none', invited_until = $2 "
                    "WHERE account_id = $1", account_id, moment(data["expires_at"]))
            elif event.event_type == events.OneTimePasswordSet.TYPE:
                await conn.execute("UPDATE wwc_accounts SET password_state = 'one_time' "
                                   "WHERE account_id = $1", account_id)
            elif event.event_type in _PASSWORD_CHOSEN:
                await conn.execute(
                    "UPDATE wwc_accounts SET password_state = 'own', invited_until = NULL "
                    "WHERE account_id = $1", account_id)
            # A reset sent changes nothing here: the account's stream knows its links.


# The person chose their password: by a link, or knowing the current one.
_PASSWORD_CHOSEN = frozenset({events.LinkUsed.TYPE, events.PasswordChanged.TYPE})


def moment(value: str | datetime) -> datetime:
    """A stored event's instant (ISO text in its JSON data) as a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
