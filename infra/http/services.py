"""What the HTTP routes use, built once per process by the composition root (`serve`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import Request

from infra.application import ProgramService
from infra.config import Settings
from infra.eventstore.postgres import PostgresEventStore
from infra.identity.directory import AccountDirectory
from infra.identity.sessions import Sessions
from infra.identity.throttle import SignInThrottle


@dataclass
class HttpServices:
    program: ProgramService
    pool: asyncpg.Pool[Any]
    settings: Settings
    directory: AccountDirectory
    sessions: Sessions
    throttle: SignInThrottle
    store: PostgresEventStore
    # Behind https (a proxy that terminates TLS): session cookies are then Secure.
    secure_cookies: bool = False

    @classmethod
    def build(cls, program: ProgramService, pool: asyncpg.Pool[Any], settings: Settings,
              *, secure_cookies: bool = False) -> HttpServices:
        return cls(program=program, pool=pool, settings=settings,
                   directory=AccountDirectory(pool), sessions=Sessions(pool),
                   throttle=SignInThrottle(pool), store=PostgresEventStore(pool),
                   secure_cookies=secure_cookies)


def services(request: Request) -> HttpServices:
    found: HttpServices = request.app.state.services
    return found
