"""The embedded stack's mail server: a local SMTP server (aiosmtpd) that keeps every
message it receives in `DATA_DIR/mail/` (one .eml file per Message-ID, so the same
message sent twice is kept once) and logs each reception in `received.jsonl` (every
delivery, duplicates included, which is what the tests count). `wwc outbox` and the
portal's outbox page show what the service sent."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from infra.platform.net import free_port

RECEIVED_LOG = "received.jsonl"


class _Keep:
    def __init__(self, folder: Path, rcpt_delay: float = 0.0) -> None:
        self.folder = folder
        self.rcpt_delay = rcpt_delay
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        # A slow server (the fault tests): a sender killed here has sent nothing yet.
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else \
            str(envelope.content).encode()
        message = message_from_bytes(content, policy=policy.default)
        message_id = str(message.get("Message-ID", "")) or hashlib.sha256(content).hexdigest()
        name = hashlib.sha256(message_id.encode()).hexdigest()[:32] + ".eml"
        with self._lock:
            (self.folder / name).write_bytes(content)
            with (self.folder / RECEIVED_LOG).open("a", encoding="utf-8") as log:
                log.write(json.dumps({"message_id": message_id, "file": name,
                                      "to": list(envelope.rcpt_tos),
                                      "at": datetime.now(UTC).isoformat()}) + "\n")
        return "250 Message accepted for delivery"


@dataclass
class MailCatcher:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 0
    rcpt_delay: float = 0.0  # seconds before accepting each recipient (a slow server)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailCatcher:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Keep(self.folder, self.rcpt_delay), hostname=self.host,
                                      port=self.port or free_port(self.host))
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None and self._serving(controller):
            controller.stop()

    @staticmethod
    def _serving(controller: Controller) -> bool:
        # The controller serves from a thread running its own event loop; when that loop
        # ends (stopped, or failed), the thread ends and the port is closed.
        thread = controller._thread
        return thread is not None and thread.is_alive()

    def alive(self) -> bool:
        return self._controller is not None and self._serving(self._controller)

    def restart(self) -> MailCatcher:
        """Serve again on the same port (the worker's SMTP URL names it)."""
        self.stop()
        return self.start()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def stored_messages(folder: Path) -> list[EmailMessage]:
    """Every message the catcher kept (one per Message-ID), oldest first."""
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in files]


def receptions(folder: Path) -> list[dict[str, Any]]:
    """Every delivery the catcher accepted, duplicates included."""
    log = folder / RECEIVED_LOG
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]

