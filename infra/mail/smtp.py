"""Sending over SMTP (aiosmtplib), configured by one URL: `smtp://host:port` (plain, for
the local catcher), `smtp+starttls://user:password@host:587` or `smtps://...:465`. The
password never reaches a log line: only the host and port are ever logged."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("WWC_SMTP_URL must look like smtp://HOST:PORT, "
                             "smtp+starttls://USER:PASSWORD@HOST:587 or smtps://...")
        tls, starttls = SCHEMES[parts.scheme]
        return cls(host=parts.hostname, port=parts.port or (465 if tls else 25), tls=tls,
                   starttls=starttls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(message, hostname=self.host, port=self.port, use_tls=self.tls,
                              start_tls=self.starttls, username=self.username,
                              password=self.password, timeout=30)
