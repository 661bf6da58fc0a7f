"""The postbox behind the mail activity: who receives each message (accounts from the
accounts read model, in their language), the outbox row it is recorded in first, and its
delivery over SMTP.

Exactly-once as far as SMTP allows: a message's id derives from the event that caused it
and its recipient, the outbox keeps one row per id, and a retried activity sends only the
rows not yet `sent`. The one window left is a crash after the server's final OK and
before the row is marked: the retry then sends the same message again with the same
Message-ID header, which receivers (our catcher included) treat as one message.

A message about a person's account (an invitation, a password reset) carries a link with
a secret. Its body holds a placeholder where the link goes; the link itself (its path on
the portal) waits in the row's `link` column, is put into the message as it is sent, and
is cleared once it is: the secret is stored nowhere else in plain."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from activities.ports import DigestRequest, MailRequest, MailResult, RecordedMail
from domain.notices import DIGEST_KIND, Audience, Notice
from infra.mail.digest import digest_facts
from infra.mail.smtp import SmtpServer
from infra.mail.templates import Rendered, addressed, render

log = structlog.get_logger("wwc.mail")
# Where a message's secret link goes, until it is sent (see the module's doc).
LINK_PLACEHOLDER = "[wwc-link]"


class PostgresPostbox:
    def __init__(self, pool: asyncpg.Pool[Any], *, server: SmtpServer | None, sender: str,
                 portal_url: str) -> None:
        self._pool = pool
        self._server = server
        self._sender = sender
        self._portal_url = portal_url.rstrip("/")

    async def deliver(self, request: MailRequest,
                      progress: Callable[[], None] = lambda: None) -> MailResult:
        await self._record(request)
        return await self._send(request.cause, progress)

    async def deliver_recorded(self, request: RecordedMail,
                               progress: Callable[[], None] = lambda: None) -> MailResult:
        """Send what the outbox holds for `request.cause` (recorded by the account
        directory, e.g. an invitation) and is not sent yet."""
        return await self._send(request.cause, progress)

    async def deliver_digest(self, request: DigestRequest,
                             progress: Callable[[], None] = lambda: None) -> MailResult:
        cause = f"digest/{request.week_ending}"
        facts = {**await digest_facts(self._pool, request),
                 "outbox": f"{self._portal_url}/portal/outbox"}
        for email, language in await self._operators(digest_only=True):
            message = render(DIGEST_KIND, language, facts,
                             link=f"{self._portal_url}/portal/pipeline")
            # About the program, no city ('' as the account mails): the outbox page links
            # a row's city, and there is no /portal/cities/program.
            await self._insert(message_id(cause, DIGEST_KIND, email), cause, "",
                               DIGEST_KIND, email, language, message)
        return await self._send(cause, progress)

    async def _send(self, cause: str, progress: Callable[[], None]) -> MailResult:
        rows = await self._pool.fetch(
            "SELECT * FROM wwc_outbox WHERE cause = $1 ORDER BY message_id", cause)
        sent = already = held = 0
        for row in rows:
            if row["status"] == "sent":
                already += 1
                continue
            if self._server is None:  # recorded, and kept until a server is configured
                await self._pool.execute(
                    "UPDATE wwc_outbox SET status = 'held', last_error = $2 "
                    "WHERE message_id = $1", row["message_id"], "no WWC_SMTP_URL configured")
                held += 1
                continue
            try:
                await self._server.send(self._message(row))
            except Exception as error:
                await self._pool.execute(
                    "UPDATE wwc_outbox SET attempts = attempts + 1, last_error = $2 "
                    "WHERE message_id = $1", row["message_id"],
                    f"{type(error).__name__}: {error}"[:500])
                log.warning("mail not delivered; it will be retried",
                            message_id=row["message_id"], server=self._server.where,
                            error=type(error).__name__)
                raise
            await self._pool.execute(
                "UPDATE wwc_outbox SET status = 'sent', attempts = attempts + 1, "
                "sent_at = now(), last_error = NULL, link = NULL WHERE message_id = $1",
                row["message_id"])
            sent += 1
            progress()
        return MailResult(sent=sent, already_sent=already, held=held)

    async def _record(self, request: MailRequest) -> None:
        """One outbox row per message and recipient (none twice: the id is stable)."""
        for notice in request.notices:
            for email, language in await self._recipients(notice, request):
                link, facts = addressed(notice.kind, request.city_key, notice.facts,
                                        self._portal_url, language)
                message = render(notice.kind, language, facts, link=link)
                await self._insert(message_id(request.cause, notice.kind, email),
                                   request.cause, request.city_key, notice.kind, email,
                                   language, message)

    async def _insert(self, message_id: str, cause: str, city_key: str, kind: str,
                      recipient: str, language: str, message: Rendered) -> None:
        await self._pool.execute(
            """INSERT INTO wwc_outbox (message_id, cause, city_key, kind, recipient,
                   language, subject, body_text, body_html)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (message_id) DO NOTHING""",
            message_id, cause, city_key, kind, recipient, language, message.subject,
            message.text, message.html)

    async def _recipients(self, notice: Notice,
                          request: MailRequest) -> list[tuple[str, str]]:
        if notice.audience is Audience.EDITORS:
            rows = await self._pool.fetch(
                "SELECT email, language FROM wwc_accounts WHERE role = 'city_editor' "
                "AND NOT disabled AND $1 = ANY(cities) ORDER BY email", request.city_key)
        elif notice.audience is Audience.REVIEWER:
            rows = await self._pool.fetch(
                "SELECT email, language FROM wwc_accounts WHERE email = $1 AND NOT disabled",
                request.reviewer or "")
        else:
            return await self._operators(digest_only=False)
        return [(r["email"], r["language"]) for r in rows]

    async def _operators(self, *, digest_only: bool) -> list[tuple[str, str]]:
        """The program's operators and admins (`digest_only`: those who keep the digest)."""
        rows = await self._pool.fetch(
            "SELECT email, language FROM wwc_accounts WHERE role IN ('operator', 'admin') "
            "AND NOT disabled AND (digest OR NOT $1) ORDER BY email", digest_only)
        return [(r["email"], r["language"]) for r in rows]

    def _message(self, row: asyncpg.Record) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["Date"] = formatdate(localtime=False)
        # Stable across retries: the same message is recognised as one by its receiver.
        message["Message-ID"] = f"<{row['message_id']}@wwc.local>"
        message["X-WWC-Kind"] = row["kind"]
        if row["city_key"]:
            message["X-WWC-City"] = row["city_key"]
        text, body_html = row["body_text"], row["body_html"]
        if row.get("link"):  # a secret link, put in as the message leaves (module's doc)
            link = f"{self._portal_url}{row['link']}"
            text = text.replace(LINK_PLACEHOLDER, link)
            body_html = body_html.replace(LINK_PLACEHOLDER, html.escape(link))
        message.set_content(text)
        message.add_alternative(body_html, subtype="html")
        # After the parts exist: making them moves every Content-* header into the first.
        message["Content-Language"] = row["language"]
        return message


def message_id(cause: str, kind: str, recipient: str) -> str:
    return hashlib.sha256(f"{cause}|{kind}|{recipient}".encode()).hexdigest()[:32]


async def record_link_mail(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], *,
                           cause: str, kind: str, recipient: str, language: str,
                           facts: dict[str, str], link: str) -> None:
    """Record a message to one person carrying a secret `link` (a path on the portal,
    with its query): in the caller's transaction, so the message exists exactly when
    the event that caused it does. Delivered by `deliver_recorded(cause)`."""
    message = render(kind, language, facts, link=LINK_PLACEHOLDER)
    await conn.execute(
        """INSERT INTO wwc_outbox (message_id, cause, city_key, kind, recipient, language,
               subject, body_text, body_html, link)
           VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (message_id) DO NOTHING""",
        message_id(cause, kind, recipient), cause, kind, recipient, language,
        message.subject, message.text, message.html, link)


class LoggingPostbox:
    """For workflow tests and workers without a database: each message a log line."""

    async def deliver_recorded(self, request: RecordedMail,
                               progress: Callable[[], None] = lambda: None) -> MailResult:
        log.info("recorded mail", cause=request.cause)
        return MailResult(sent=0, already_sent=0, held=1)

    async def deliver_digest(self, request: DigestRequest,
                             progress: Callable[[], None] = lambda: None) -> MailResult:
        log.info("digest", week_ending=request.week_ending.isoformat())
        return MailResult(sent=0, already_sent=0, held=1)

    async def deliver(self, request: MailRequest,
                      progress: Callable[[], None] = lambda: None) -> MailResult:
        for notice in request.notices:
            log.info("mail", city_key=request.city_key, cause=request.cause,
                     kind=notice.kind, audience=notice.audience.value)
        return MailResult(sent=0, already_sent=0, held=len(request.notices))

