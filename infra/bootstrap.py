"""The first administrator of an empty program, so the front door can be opened at all."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.accounts import CreateAccount, Role
from infra.config import Settings
from infra.identity.directory import AccountDirectory
from workflows.actors import SERVER_OPERATOR


async def ensure_first_admin(pool: asyncpg.Pool[Any], settings: Settings,
                             today: date) -> tuple[str, str | None] | None:
    """On a program with no account: create the admin (WWC_ADMIN_EMAIL) and answer its
    e-mail and, unless WWC_ADMIN_PASSWORD gave one, the one-time password made up for it
    (for the operator's terminal only: never logged). None when accounts exist."""
    directory = AccountDirectory(pool)
    if not await directory.is_empty():
        return None
    account, made_up = await directory.create(
        CreateAccount(email=settings.admin_email, display_name="Administrator",
                      role=Role.ADMIN), settings.admin_password, SERVER_OPERATOR, today)
    return account.email, made_up
