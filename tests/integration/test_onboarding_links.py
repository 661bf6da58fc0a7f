"""Mailed links against a real PostgreSQL: a link used by many at once sets one password
(the others are told it was used), and the message carrying a link gets it only as it
leaves, through a real SMTP server (the mail catcher): the outbox keeps the link until
then, and never after."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from argon2 import PasswordHasher

from activities.ports import RecordedMail
from domain.accounts import AccountDetails, CreateAccount, Role
from infra.identity import passwords
from infra.identity.directory import AccountDirectory
from infra.mail.catcher import MailCatcher, stored_messages
from infra.mail.postbox import PostgresPostbox
from infra.mail.smtp import SmtpServer
from infra.platform.errors import CommandRefused
from workflows.actors import SERVER_OPERATOR

TODAY = date(2026, 1, 5)
PORTAL = "https://portal.example.org"


async def invited(pool: asyncpg.Pool[Any], email: str) -> tuple[AccountDirectory, str, str]:
    directory = AccountDirectory(pool)
    sent = await directory.invite(AccountDetails(email=email, display_name="Ana",
                                                 role=Role.OPERATOR, language="pt"),
                                  SERVER_OPERATOR, TODAY)
    link = await pool.fetchval("SELECT link FROM wwc_outbox WHERE cause = $1", sent.cause)
    return directory, sent.cause, link.split("token=")[1].split("&")[0]


async def test_a_link_used_by_many_at_once_sets_one_password(
        pool: asyncpg.Pool[Any], monkeypatch: Any) -> None:
    # The real hasher at its cheapest: the race is in the lock, not in the hashing.
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                             parallelism=1))
    directory, _, secret = await invited(pool, "ana@race.test")
    chosen = [f"passphrase number {n} for ana" for n in range(8)]

    async def use(password: str) -> str:
        try:
            await directory.use_link(secret, password, TODAY)
        except CommandRefused as refused:
            return refused.code or ""
        return "set"

    outcomes = await asyncio.gather(*(use(p) for p in chosen))
    assert sorted(outcomes) == ["link_used"] * 7 + ["set"]
    winner = chosen[outcomes.index("set")]
    assert await directory.check_password("ana@race.test", winner) is not None
    for other in chosen:
        if other != winner:
            assert await directory.check_password("ana@race.test", other) is None
    assert await pool.fetchval("SELECT count(*) FROM wwc_events "
                               "WHERE event_type = 'account.link_used'") == 1


async def test_a_links_message_gets_its_link_as_it_leaves_and_the_outbox_forgets_it(
        pool: asyncpg.Pool[Any], tmp_path: Path) -> None:
    _, cause, secret = await invited(pool, "ana@mail.test")
    with MailCatcher(tmp_path / "mail") as catcher:
        postbox = PostgresPostbox(pool, server=SmtpServer.from_url(catcher.url),
                                  sender="wwc@test", portal_url=PORTAL)
        result = await postbox.deliver_recorded(RecordedMail(cause=cause))
        again = await postbox.deliver_recorded(RecordedMail(cause=cause))
        [message] = stored_messages(catcher.folder)
    assert (result.sent, again.sent, again.already_sent) == (1, 0, 1)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = f"{PORTAL}/set-password?token={secret}&lang=pt"
    assert link in text
    assert "Olá, Ana" in text
    assert message["Content-Language"] == "pt"
    row = await pool.fetchrow("SELECT * FROM wwc_outbox WHERE cause = $1", cause)
    assert row is not None
    assert (row["status"], row["link"]) == ("sent", None)
    assert secret not in row["body_text"] + row["body_html"]


async def test_two_admins_disabled_at_once_leave_one(pool: asyncpg.Pool[Any]) -> None:
    directory = AccountDirectory(pool)
    made = [await directory.create(CreateAccount(email=f"admin{n}@race.test",
                                                 display_name="A", role=Role.ADMIN),
                                   "a long enough password", SERVER_OPERATOR, TODAY)
            for n in range(2)]

    async def disable(account_id: str) -> str:
        try:
            await directory.disable(account_id, "left", SERVER_OPERATOR, TODAY)
        except CommandRefused as refused:
            return refused.code or ""
        return "disabled"

    outcomes = await asyncio.gather(*(disable(account.account_id) for account, _ in made))
    assert sorted(outcomes) == ["disabled", "last_admin"]
    assert await pool.fetchval(
        "SELECT count(*) FROM wwc_accounts WHERE role = 'admin' AND NOT disabled") == 1
