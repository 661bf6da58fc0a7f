"""The first administrator of an empty program, so the front door can be opened at all,
and the demo's accounts, one per role."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.accounts import CityToJoin, CreateAccount, Role
from infra.identity.directory import AccountDirectory
from infra.identity.secrets import new_secret
from infra.platform.config import Settings
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


async def create_demo_accounts(pool: asyncpg.Pool[Any], settings: Settings, today: date,
                               cities: tuple[CityToJoin, ...]
                               ) -> tuple[str, list[tuple[str, Role]]]:
    """An account per role for `wwc demo` and the portal after it, all with one made-up
    password (printed to the operator's terminal only): the administrator, an operator,
    the reviewer of every application and a city editor for the demo's `cities`, which
    join after it is made (so their mail has someone to go to)."""
    directory = AccountDirectory(pool)
    password = new_secret()[:20]
    wanted: list[tuple[str, str, Role, tuple[CityToJoin, ...]]] = [
        (settings.admin_email, "Administrator", Role.ADMIN, ()),
        ("operator@demo.wwc.local", "Demo operator", Role.OPERATOR, ()),
        ("reviewer@demo.wwc.local", "Demo reviewer", Role.REVIEWER, ())]
    if cities:
        wanted.append(("editor@demo.wwc.local", "Demo city editor", Role.CITY_EDITOR, cities))
    created = []
    for email, name, role, cities in wanted:
        await directory.create(CreateAccount(email=email, display_name=name, role=role,
                                             cities_to_join=cities),
                               password, SERVER_OPERATOR, today)
        created.append((email, role))
    return password, created
