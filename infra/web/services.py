"""What the HTTP routes use, built once per process by the composition root (`serve`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import Request

from infra.application import Program
from infra.application.documents import Evidence
from infra.blobs.configured import blob_store
from infra.blobs.port import BlobStore
from infra.identity.directory import AccountDirectory
from infra.identity.sessions import Sessions
from infra.identity.throttle import SignInThrottle
from infra.ops.health import Health
from infra.platform.config import Settings
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.locks import AdvisoryLocks
from infra.readside.documents import DocumentsInLog
from infra.readside.projections import projector
from infra.readside.projections.fresh import FreshReadModels
from infra.web.idempotency import IdempotentPosts
from infra.web.kept import KeptLookups
from infra.web.public_cache import Generations


@dataclass
class HttpServices:
    program: Program  # the program's port: ProgramService, over Temporal
    pool: asyncpg.Pool[Any]
    settings: Settings
    directory: AccountDirectory
    sessions: Sessions
    throttle: SignInThrottle
    store: PostgresEventStore
    fresh: FreshReadModels  # read models up to date for a read, shared by concurrent reads
    generations: Generations  # of the read models (answers and look-ups kept until they move)
    kept: KeptLookups  # token owners and city views, kept while their read models stand
    health: Health  # PostgreSQL, Temporal and the read models, each checked within a bound
    idempotency: IdempotentPosts  # POSTs under an Idempotency-Key, run once per account
    blobs: BlobStore  # where evidence documents' bytes are kept
    evidence: Evidence  # taking documents in, removing them, serving them checked
    # Behind https (a proxy that terminates TLS): session cookies are then Secure.
    secure_cookies: bool = False

    async def after_write(self, *read_models: str) -> None:
        """A write's effects visible to the next read (this caller's or anyone's)."""
        await self.fresh.current(*(read_models or ("city_views",)))

    @classmethod
    def build(cls, program: Program, pool: asyncpg.Pool[Any], settings: Settings,
              *, health: Health, secure_cookies: bool = False,
              blobs: BlobStore | None = None) -> HttpServices:
        """`blobs`: the document store the composition root chose (else the one the
        settings name)."""
        generations = Generations()
        directory = AccountDirectory(pool)
        blobs = blobs if blobs is not None else blob_store(settings)
        return cls(program=program, pool=pool, settings=settings, generations=generations,
                   blobs=blobs, evidence=Evidence(program, blobs, DocumentsInLog(pool),
                                             locks=AdvisoryLocks(pool)),
                   kept=KeptLookups(pool, directory, generations),
                   directory=directory, sessions=Sessions(pool),
                   idempotency=IdempotentPosts(pool),
                   throttle=SignInThrottle(pool), store=PostgresEventStore(pool),
                   fresh=FreshReadModels(projector(pool), generations.saw), health=health,
                   secure_cookies=secure_cookies)


def services(request: Request) -> HttpServices:
    found: HttpServices = request.app.state.services
    return found
