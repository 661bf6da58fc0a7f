"""E-mail and deadlines against the real stack: PostgreSQL, the Temporal dev server, the
production worker with its postbox, and the mail catcher as the SMTP server.

Each message arrives once, to the right people, in each one's language, with the right
dates; deadlines fire on a fast program clock (reminder, then escalation) and stop when
the awaited answer arrives; a failing mail server is retried and recorded."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from babel.dates import format_date
from temporalio.testing import WorkflowEnvironment

from activities.ports import DigestRequest
from domain import commands as c
from domain import events as e
from domain.accounts import CityToJoin, CreateAccount, Role
from domain.rules import ProgramRules
from domain.streams import city_key, city_stream
from infra.eventstore.mapper import decode
from infra.identity.directory import AccountDirectory
from infra.identity.reviewers import ReadModelReviewers
from infra.mail.catcher import MailCatcher, receptions, stored_messages
from infra.mail.digest import digest_facts
from infra.mail.postbox import PostgresPostbox
from infra.mail.smtp import SmtpServer
from infra.postgres.eventstore import PostgresEventStore
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.readside.projections import projector
from infra.standards.folder import StandardsFolder, load_catalog
from infra.temporal.worker import build_worker
from tests.factories import answers
from tests.temporal import (
    Service,
    TrackedProgram,
    eventually,
    program_clock,
    terminate,
)
from workflows.actors import SERVER_OPERATOR
from workflows.digest import DigestInput, DigestWorkflow, next_monday

pytestmark = pytest.mark.integration

EDITOR, REVIEWER, OPERATOR = "editora@recife.test", "revisor@program.test", "ops@program.test"
RECIFE = CityToJoin(name="Recife", country="BR")
PASSWORD = "a long enough password 42"
WWC_2022 = load_catalog()["wwc-2022"]
START = date(2024, 3, 4)


@dataclass
class Mailroom:
    catcher: MailCatcher
    pool: asyncpg.Pool[Any]
    ops: TrackedProgram

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        return [m for m in stored_messages(self.catcher.folder)
                if to is None or m["To"] == to]

    def kinds(self, to: str) -> list[str]:
        return [str(m["X-WWC-Kind"]) for m in self.messages(to)]

    async def wait_for(self, to: str, kind: str, within: float = 60) -> EmailMessage:
        async def found() -> list[EmailMessage]:
            return [m for m in self.messages(to) if m["X-WWC-Kind"] == kind]
        return (await eventually(found, bool, within=within))[0]


@pytest.fixture
async def mailroom(temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any],
                   tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Mailroom]:
    rules: ProgramRules = getattr(request, "param", ProgramRules())
    ms_per_day = 150 if rules != ProgramRules() else 3_000
    directory = AccountDirectory(pool)
    # The editor is made before Recife joins: by its name and country.
    for email, role, language, cities in ((EDITOR, Role.CITY_EDITOR, "es", (RECIFE,)),
                                          (REVIEWER, Role.REVIEWER, "pt", ()),
                                          (OPERATOR, Role.OPERATOR, "en", ())):
        await directory.create(CreateAccount(email=email, display_name=email, role=role,
                                             language=language, cities_to_join=cities),
                               PASSWORD, SERVER_OPERATOR, START)
    task_queue = f"mail-{uuid.uuid4().hex[:8]}"
    with MailCatcher(tmp_path / "mail") as catcher:
        postbox = PostgresPostbox(pool, server=SmtpServer.from_url(catcher.url),
                                  sender="program@wwc.test", portal_url="http://portal.test")
        worker = build_worker(temporal_env.client, task_queue=task_queue,
                              store=PostgresEventStore(pool),
                              awaiting=ReadModelAwaitingAnnouncement(pool),
                              standards=StandardsFolder(Path("/nonexistent")),
                              reviewers=ReadModelReviewers(pool), postbox=postbox)
        ops = TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                             clock=program_clock(START, ms_per_day=ms_per_day), rules=rules)
        async with worker:
            try:
                yield Mailroom(catcher, pool, ops)
            finally:
                await terminate(temporal_env.client, ops.touched)


KEY = city_key("BR", "Recife")
JOIN = c.JoinNetwork(name="Recife", country="BR", population=1_488_920)


async def test_each_message_arrives_once_in_each_readers_language(mailroom: Mailroom) -> None:
    ops = mailroom.ops
    await ops.join(JOIN)
    claimed = answers(WWC_2022, 31)
    await ops.send(KEY, c.SubmitAssessment(answers=claimed))
    received = await mailroom.wait_for(EDITOR, "submission_received")
    assert received["Content-Language"] == "es"
    assert "recibimos su autoevaluación" in str(received["Subject"])
    await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER))
    assigned = await mailroom.wait_for(REVIEWER, "review_assigned")
    assert assigned["Content-Language"] == "pt"
    # The review is due 45 days after the assignment, written as Portuguese writes dates.
    stream = [decode(r) for r in await PostgresEventStore(mailroom.pool)
              .read_stream(city_stream(KEY))]
    assigned_on = next(ev.on for ev in stream if isinstance(ev, e.ReviewerAssigned))
    due = format_date(assigned_on + timedelta(days=45), format="long", locale="pt")
    assert f"(vence em {due})" in str(assigned["Subject"])
    await ops.send(KEY, c.RecordReviews(reviews=tuple(
        c.RecordCriterionReview(code=code, met=True) for code in claimed.criteria)))
    await ops.send(KEY, c.RequestClarification(criterion="DM2",
                                               question="When was the inventory updated?"))
    asked = await mailroom.wait_for(EDITOR, "clarification_asked")
    body = asked.get_body(("plain",))
    assert body is not None
    assert "When was the inventory updated?" in body.get_content()
    assert "http://portal.test/portal/cities/br-recife" in body.get_content()
    assert asked.get_body(("html",)) is not None
    await ops.send(KEY, c.AnswerClarification(clarification_id=1, answer="In March",
                                              evidence=("https://recife.example/inv",)))
    await mailroom.wait_for(REVIEWER, "city_answered")
    await ops.send(KEY, c.CompleteReview())
    await ops.send(KEY, c.Decide())
    decision = await mailroom.wait_for(EDITOR, "decision")
    assert "privada" in decision.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    await ops.create_cohort(c.CreateCohort(cohort_id=f"mail-{uuid.uuid4().hex[:6]}",
                                           announce_on=ops.program_today() + timedelta(days=1)))
    await mailroom.wait_for(EDITOR, "announcement", within=90)

    assert mailroom.kinds(EDITOR) == ["submission_received", "clarification_asked",
                                      "decision", "announcement"]
    assert mailroom.kinds(REVIEWER) == ["review_assigned", "city_answered"]
    assert mailroom.kinds(OPERATOR) == []  # nothing overdue
    # Once each: one delivery per message id, and the outbox agrees.
    deliveries = Counter(r["message_id"] for r in receptions(mailroom.catcher.folder))
    assert deliveries
    assert set(deliveries.values()) == {1}
    async def outbox() -> list[asyncpg.Record]:
        return list(await mailroom.pool.fetch("SELECT status, attempts FROM wwc_outbox"))
    # The last delivery is marked sent just after the catcher has it.
    rows = await eventually(outbox, lambda rows: all(r["status"] == "sent" for r in rows))
    assert len(rows) == len(deliveries)
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}


# A program day is 150 ms here. The test answers the second question once the first
# one's reminder has arrived, and before the second one is due: a reminder 7 days ahead
# leaves that step a second of real time (3 days, 450 ms, was missed on a loaded machine).
FAST = ProgramRules(clarification_due_days=10, clarification_reminder_days=7,
                    review_due_days=20, review_reminder_days=5, draft_nudge_days=6)


@pytest.mark.parametrize("mailroom", [FAST], indirect=True)
async def test_deadlines_remind_then_escalate_and_stop_when_answered(
        mailroom: Mailroom) -> None:
    ops = mailroom.ops
    await ops.join(JOIN)
    # A draft left alone is nudged once its days are up.
    await mailroom.wait_for(EDITOR, "draft_nudge")
    claimed = answers(WWC_2022, 31)
    await ops.send(KEY, c.SubmitAssessment(answers=claimed))
    await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER))
    await ops.send(KEY, c.RequestClarification(criterion="DM2", question="When?"))
    await ops.send(KEY, c.RequestClarification(criterion="DM3", question="With whom?"))
    # The first question is left unanswered: a reminder, then flagged as overdue.
    reminder = await mailroom.wait_for(EDITOR, "clarification_reminder")
    assert "DM" in str(reminder["Subject"])
    await ops.send(KEY, c.AnswerClarification(clarification_id=2, answer="The county",
                                              evidence=("https://recife.example/x",)))
    await mailroom.wait_for(OPERATOR, "clarification_overdue")
    await mailroom.wait_for(REVIEWER, "review_reminder")
    await mailroom.wait_for(OPERATOR, "review_escalated")

    stream = [decode(r) for r in await PostgresEventStore(mailroom.pool)
              .read_stream(city_stream(KEY))]
    reached = [ev for ev in stream if isinstance(ev, e.DeadlineReached)]
    keys = [ev.key for ev in reached]
    assigned = next(ev.on for ev in stream if isinstance(ev, e.ReviewerAssigned))
    asked = next(ev.on for ev in stream if isinstance(ev, e.ClarificationRequested))
    # Each fired once, never before its date (a reminder so many days before the due date).
    assert len(keys) == len(set(keys))
    before = {("clarification", "reminder"): FAST.clarification_reminder_days,
              ("review", "reminder"): FAST.review_reminder_days}
    for ev in reached:
        assert ev.on >= ev.due_on - timedelta(days=before.get((ev.kind, ev.step), 0)), ev
    assert "clarification:1:reminder" in keys
    assert "clarification:1:due" in keys
    assert next(ev for ev in reached if ev.key == "clarification:1:due").due_on == \
        asked + timedelta(days=FAST.clarification_due_days)
    assert f"review:{assigned}:due" in keys
    # The answered question stops its own deadlines: whichever of them had not come yet
    # never fires (its reminder may have, answered after it), and its due date never.
    assert "clarification:2:due" not in keys
    assert mailroom.kinds(OPERATOR).count("clarification_overdue") == 1


async def test_a_failing_mail_server_is_retried_and_recorded(
        temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], tmp_path: Path) -> None:
    directory = AccountDirectory(pool)
    await directory.create(CreateAccount(email=EDITOR, display_name="E", role=Role.CITY_EDITOR,
                                         cities_to_join=(RECIFE,)),
                           PASSWORD, SERVER_OPERATOR, START)
    catcher = MailCatcher(tmp_path / "mail")
    port = catcher.start().port
    catcher.stop()  # the server is down when the first message goes
    postbox = PostgresPostbox(pool, server=SmtpServer.from_url(f"smtp://127.0.0.1:{port}"),
                              sender="program@wwc.test", portal_url="http://portal.test")
    task_queue = f"mail-{uuid.uuid4().hex[:8]}"
    worker = build_worker(temporal_env.client, task_queue=task_queue,
                          store=PostgresEventStore(pool),
                          awaiting=ReadModelAwaitingAnnouncement(pool),
                          standards=StandardsFolder(Path("/nonexistent")),
                          reviewers=ReadModelReviewers(pool), postbox=postbox)
    ops = TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                         clock=program_clock(START, ms_per_day=3_000))
    async with worker:
        try:
            await ops.join(JOIN)
            await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 31)))

            async def failures() -> list[asyncpg.Record]:
                return list(await pool.fetch("SELECT * FROM wwc_outbox WHERE attempts > 0"))
            failed = await eventually(failures, bool, within=30)
            assert failed[0]["status"] == "pending"
            assert "Connect" in (failed[0]["last_error"] or "") or failed[0]["last_error"]
            with MailCatcher(tmp_path / "mail", port=port) as back:
                async def delivered() -> list[asyncpg.Record]:
                    return list(await pool.fetch(
                        "SELECT * FROM wwc_outbox WHERE status = 'sent'"))
                sent = await eventually(delivered, bool, within=60)
                assert sent[0]["attempts"] >= 2
                assert len(stored_messages(back.folder)) == 1
        finally:
            await terminate(temporal_env.client, ops.touched)


@pytest.mark.parametrize("mailroom", [FAST], indirect=True)
async def test_the_weekly_digest_goes_to_the_operators_who_want_it(
        mailroom: Mailroom, temporal_env: WorkflowEnvironment) -> None:
    directory = AccountDirectory(mailroom.pool)
    quiet, _ = await directory.create(
        CreateAccount(email="quiet@program.test", display_name="Q", role=Role.OPERATOR),
        PASSWORD, SERVER_OPERATOR, START)
    await directory.set_digest(quiet.account_id, False, SERVER_OPERATOR, START)
    ops = mailroom.ops
    await ops.join(JOIN)
    await projector(mailroom.pool).catch_up_all()  # the digest reads the read models
    # The digest of the week the join fell in (on this fast clock a week is a second, so
    # "the next Monday" when the workflow starts may already be a week later).
    joined_on = await mailroom.pool.fetchval(
        "SELECT joined_on FROM wwc_registry WHERE city_key = $1", KEY)
    handle = await temporal_env.client.start_workflow(
        DigestWorkflow.run, DigestInput(clock=ops.clock, rules=FAST,
                                        next_on=next_monday(joined_on)),
        id=f"program/digest-{uuid.uuid4().hex[:6]}", task_queue=ops.task_queue)
    try:
        digest = await mailroom.wait_for(OPERATOR, "weekly_digest", within=60)
        text = digest.get_body(("plain",))
        assert text is not None
        assert "Recife" in text.get_content()  # joined that week
        assert "joined" in str(digest["Subject"])
        assert mailroom.kinds("quiet@program.test") == []  # turned it off
    finally:
        await handle.terminate("test finished")


async def test_a_join_on_a_monday_is_in_the_next_mondays_digest(service: Service) -> None:
    # The digest goes out at the start of its Monday: a city that joins later that Monday
    # belongs to the following week's digest (it once fell in none). A program day of ten
    # minutes keeps the join on START, a Monday.
    assert START.weekday() == 0
    ops = service.operations(program_clock(START, ms_per_day=600_000))
    await ops.join(JOIN)
    await projector(service.pool).catch_up_all()
    that_morning = await digest_facts(service.pool, DigestRequest(week_ending=START))
    next_week = await digest_facts(service.pool, DigestRequest(
        week_ending=START + timedelta(days=7)))
    assert that_morning["joins_count"] == "0"
    assert (next_week["joins_count"], next_week["joins"]) == ("1", [{"name": "Recife"}])
