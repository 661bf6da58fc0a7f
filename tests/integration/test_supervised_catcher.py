"""The mail catcher runs inside `wwc up` (a thread with its own event loop), so it cannot be
killed from outside as the servers are (tests/faults/test_up_supervisor.py): its loop is
ended here as a crash would end it, and the supervisor serves it again on the same port,
where the worker's SMTP URL still points."""

from __future__ import annotations

import asyncio
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

from infra.mail.catcher import MailCatcher, receptions
from infra.ops.supervisor import Backoff, MailCatcherChild, Supervisor


def send(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@wwc.local", "b@wwc.local", subject
    message["Message-ID"] = f"<{subject}@wwc.local>"
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


async def test_a_crashed_mail_catcher_serves_again_on_its_port(tmp_path: Path) -> None:
    catcher = MailCatcher(tmp_path / "mail").start()
    port, said = catcher.port, list[str]()
    try:
        supervisor = Supervisor([MailCatcherChild(catcher)], said.append, every=0.05,
                                backoff=Backoff(first=0.1))
        async with supervisor.running():
            await asyncio.to_thread(send, port, "before")
            controller = catcher._controller
            assert controller is not None
            controller.loop.call_soon_threadsafe(controller.loop.stop)  # the crash
            deadline = time.monotonic() + 20
            while not any("is back" in line for line in said):
                assert time.monotonic() < deadline, said
                await asyncio.sleep(0.05)
            await asyncio.to_thread(send, port, "after")
    finally:
        catcher.stop()
    assert catcher.port == port
    assert said[0] == f"the mail catcher (smtp://127.0.0.1:{port}) stopped; starting it " \
                      "again in 0.1 s"
    assert [r["message_id"] for r in receptions(tmp_path / "mail")] == [
        "<before@wwc.local>", "<after@wwc.local>"]
