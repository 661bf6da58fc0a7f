"""What the HTTP routes use, built once per process by the composition root (`serve`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import Request

from infra.application import ProgramService
from infra.config import Settings
from infra.eventstore.postgres import PostgresEventStore
from infra.http.public_cache import Generation
from infra.identity.directory import AccountDirectory
from infra.identity.sessions import Sessions
from infra.identity.throttle import SignInThrottle
from infra.projections import projector
from infra.projections.fresh import FreshReadModels


@dataclass
class HttpServices:
    program: ProgramService
    pool: asyncpg.Pool[Any]
    settings: Settings
    directory: AccountDirectory
    sessions: Sessions
    throttle: SignInThrottle
    store: PostgresEventStore
    fresh: FreshReadModels  # read models up to date for a read, shared by concurrent reads
    generation: Generation  # of the read models the public sees (their answers are kept)
    # Behind https (a proxy that terminates TLS): session cookies are then Secure.
    secure_cookies: bool = False

    async def after_write(self, *read_models: str) -> None:
        """A write's effects visible to the next read (this caller's or anyone's)."""
        await self.fresh.current(*(read_models or ("city_views",)))

    @classmethod
    def build(cls, program: ProgramService, pool: asyncpg.Pool[Any], settings: Settings,
              *, secure_cookies: bool = False) -> HttpServices:
        generation = Generation()
        return cls(program=program, pool=pool, settings=settings, generation=generation,
                   directory=AccountDirectory(pool), sessions=Sessions(pool),
                   throttle=SignInThrottle(pool), store=PostgresEventStore(pool),
                   fresh=FreshReadModels(projector(pool), generation.saw),
                   secure_cookies=secure_cookies)


def services(request: Request) -> HttpServices:
    found: HttpServices = request.app.state.services
    return found
