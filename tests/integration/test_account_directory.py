"""The account directory against a real PostgreSQL: one account per e-mail whatever runs at
once, and the first administrator made only on a program that never had an account."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg

from domain.accounts import CreateAccount, Role
from infra.identity.directory import AccountDirectory
from infra.ops.first_accounts import ensure_first_admin
from infra.platform.config import Settings
from infra.platform.errors import CommandRefused
from infra.postgres.db import create_pool
from workflows.actors import SERVER_OPERATOR

TODAY = date(2026, 1, 5)
PASSWORD = "correct horse battery staple"


async def test_parallel_creations_of_one_e_mail_make_one_account(
    pool: asyncpg.Pool[Any]
) -> None:
    directory = AccountDirectory(pool)

    async def create(n: int) -> str:
        try:
            await directory.create(CreateAccount(email="ed@durham.test", display_name=f"Ed {n}",
                                                 role=Role.OPERATOR), PASSWORD,
                                   SERVER_OPERATOR, TODAY)
        except CommandRefused as refused:
            return refused.code or ""
        return "created"

    outcomes = await asyncio.gather(*(create(n) for n in range(8)))
    assert sorted(outcomes) == ["created"] + ["exists"] * 7
    assert await pool.fetchval(
        "SELECT count(*) FROM wwc_events WHERE event_type = 'account.created'") == 1
    assert await pool.fetchval("SELECT count(*) FROM wwc_accounts") == 1
    account = await directory.check_password("ed@durham.test", PASSWORD)
    assert account is not None


async def test_no_second_first_admin_while_the_accounts_read_model_cannot_see_it(
    pool: asyncpg.Pool[Any]
) -> None:
    """An empty read model is not an empty program: it may be rebuilding, behind a long
    transaction (as here: readers stop below the oldest one still running), or restored
    into a cluster it cannot yet read (a restore once made a second admin so)."""
    settings = Settings(admin_email="admin@wwc.test")
    async with pool.acquire() as older:
        transaction = older.transaction()
        await transaction.start()
        await older.fetchval("SELECT pg_current_xact_id()")  # runs until the test ends
        made = await ensure_first_admin(pool, settings, TODAY)
        assert made is not None
        assert made[0] == "admin@wwc.test"
        await pool.execute("DELETE FROM wwc_accounts")
        await pool.execute("DELETE FROM wwc_projection_checkpoints WHERE name = 'accounts'")
        assert await ensure_first_admin(pool, settings, TODAY) is None
        await transaction.rollback()
    assert await pool.fetchval(
        "SELECT count(*) FROM wwc_events WHERE event_type = 'account.created'") == 1


async def test_an_account_is_created_on_a_pool_of_one_connection(db_url: str) -> None:
    """`wwc up` makes the first administrator on a pool of one connection: creating it must
    not need a second one while it holds the e-mail's lock (it once waited on itself)."""
    single = await create_pool(db_url, size=1)
    try:
        made = await asyncio.wait_for(
            ensure_first_admin(single, Settings(admin_email="admin@wwc.test"), TODAY), 30)
        assert made is not None
        assert await AccountDirectory(single).find_by_email("admin@wwc.test") is not None
    finally:
        await single.close()


async def test_a_token_issued_beside_another_write_in_flight_is_answered(
    pool: asyncpg.Pool[Any]
) -> None:
    """A token's issue reads its row back from the accounts read model, whose catch-up
    stops below the oldest transaction still writing: with another request's transaction
    open, the row was not there yet and the issue failed (StopIteration: the API's
    stateful fuzz met it as a 500). It now waits, briefly, for the row."""
    directory = AccountDirectory(pool)
    account, _ = await directory.create(
        CreateAccount(email="tok@durham.test", display_name="Tok", role=Role.OPERATOR),
        PASSWORD, SERVER_OPERATOR, TODAY)
    async with pool.acquire() as other:
        transaction = other.transaction()
        await transaction.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # another write, in flight
        issuing = asyncio.create_task(directory.issue_token(
            account.account_id, "ci", 30, SERVER_OPERATOR, TODAY, request_id="r-1"))
        await asyncio.sleep(0.3)
        await transaction.commit()
        info, token = await asyncio.wait_for(issuing, 10)
    assert info.name == "ci"
    assert info.account_id == account.account_id
    assert await directory.check_token(token, TODAY) is not None
