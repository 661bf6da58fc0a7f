"""Sending the program's messages: thin, over the postbox port. Idempotent: every message
id derives from the event that caused it, and the postbox skips what an earlier attempt
delivered, so a retried or restarted activity sends nothing twice."""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.contracts import SEND_DIGEST, SEND_MAIL, SEND_RECORDED_MAIL
from activities.ports import DigestRequest, MailRequest, MailResult, Postbox, RecordedMail

log = structlog.get_logger("wwc.mail")


class MailActivities:
    def __init__(self, postbox: Postbox) -> None:
        self._postbox = postbox

    @activity.defn(name=SEND_MAIL)
    async def send_mail(self, request: MailRequest) -> MailResult:
        # A failed delivery raises: Temporal retries it with backoff (the workflow's retry
        # policy), and the outbox records each attempt and its error.
        # Heartbeats after each message: a worker that dies mid-send is noticed within the
        # heartbeat timeout, and the retry goes on from the first message not yet sent.
        result = await self._postbox.deliver(request, activity.heartbeat)
        log.info("mail delivered", city_key=request.city_key, cause=request.cause,
                 kinds=[n.kind for n in request.notices], sent=result.sent,
                 already_sent=result.already_sent, held=result.held)
        return result

    @activity.defn(name=SEND_DIGEST)
    async def send_digest(self, request: DigestRequest) -> MailResult:
        result = await self._postbox.deliver_digest(request, activity.heartbeat)
        log.info("digest delivered", week_ending=request.week_ending.isoformat(),
                 sent=result.sent, already_sent=result.already_sent, held=result.held)
        return result

    @activity.defn(name=SEND_RECORDED_MAIL)
    async def send_recorded_mail(self, request: RecordedMail) -> MailResult:
        # Recorded with the event that caused it (a person's invitation or reset); the
        # cause names the event, never the person or the link.
        result = await self._postbox.deliver_recorded(request, activity.heartbeat)
        log.info("recorded mail delivered", cause=request.cause, sent=result.sent,
                 already_sent=result.already_sent, held=result.held)
        return result
