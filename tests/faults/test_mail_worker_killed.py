"""Fault: the worker is SIGKILLed while it sends a batch of messages through a slow mail
server, and a new worker takes over. Every message arrives exactly once (the catcher logs
every delivery, duplicates included) and the outbox shows each sent."""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from domain.accounts import CityToJoin, CreateAccount, Role
from domain.streams import city_key
from infra.identity.directory import AccountDirectory
from infra.mail.catcher import MailCatcher, receptions, stored_messages
from infra.standards.folder import load_catalog
from tests.factories import WWC_2022, answers
from tests.temporal import (
    TEST_PAYLOAD_KEYS,
    TrackedProgram,
    eventually,
    program_clock,
    start_worker,
    terminate,
)
from workflows.actors import SERVER_OPERATOR

EDITORS = [f"editor{n}@recife.test" for n in range(6)]
KEY = city_key("BR", "Recife")



async def test_a_worker_killed_mid_send_sends_no_message_twice(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str, tmp_path: Path,
) -> None:
    directory = AccountDirectory(pool)
    for email in EDITORS:
        await directory.create(CreateAccount(email=email, display_name=email,
                                             role=Role.CITY_EDITOR, cities_to_join=(
                                                 CityToJoin(name="Recife", country="BR"),)),
                               "a long enough password 42", SERVER_OPERATOR, date(2024, 1, 8))
    # Each recipient takes the server a second: the kill lands in the middle of a batch.
    with MailCatcher(tmp_path / "mail", rcpt_delay=1.0) as catcher:
        task_queue = f"mailkill-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "WWC_DATABASE_URL": db_url, "WWC_TASK_QUEUE": task_queue,
               "WWC_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
               "WWC_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
               "WWC_DATA_DIR": str(tmp_path), "WWC_LOG_FORMAT": "json",
               "WWC_SMTP_URL": catcher.url}
        log = tmp_path / "worker.log"
        ops = TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                             clock=program_clock(date(2024, 1, 8), ms_per_day=5_000))
        first = start_worker(env, log)
        second = None
        try:
            await ops.join(c.JoinNetwork(name="Recife", country="BR", population=1_488_920))
            await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 31)))

            async def delivered() -> int:
                return len(receptions(catcher.folder))

            async def marked_sent() -> int:
                return int(await pool.fetchval(
                    "SELECT count(*) FROM wwc_outbox WHERE status = 'sent'"))
            # Killed once the second message is marked sent, so inside the next one's
            # second at the server: not in the instant between a delivery and its mark,
            # the window SMTP leaves open (README: a resend with the same Message-ID), which
            # killing at the second delivery hit under load.
            await eventually(marked_sent, lambda n: n >= 2, within=60)
            first.send_signal(signal.SIGKILL)
            first.wait()
            assert await delivered() < len(EDITORS), "the batch finished before the kill"
            second = start_worker(env, log)

            async def sent() -> list[asyncpg.Record]:
                return list(await pool.fetch("SELECT * FROM wwc_outbox"))
            rows = await eventually(sent, lambda rows: len(rows) == len(EDITORS) and all(
                r["status"] == "sent" for r in rows), within=120)
            counts = Counter(r["message_id"] for r in receptions(catcher.folder))
            assert len(counts) == len(EDITORS)
            assert set(counts.values()) == {1}, f"delivered twice: {counts}"
            assert sorted(str(m["To"]) for m in stored_messages(catcher.folder)) == EDITORS
            assert {r["kind"] for r in rows} == {"submission_received"}
        finally:
            await terminate(temporal_env.client, ops.touched)
            for worker in (first, second):
                if worker is not None and worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(timeout=60)
