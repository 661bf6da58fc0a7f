"""Ordered, versioned SQL migrations (`infra/postgres/migrations/NNN_name.sql`), applied once each
and recorded in `wwc_schema_migrations`. Safe to run from several processes at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg
import structlog

from infra.postgres.db import connect, ensure_database, with_database

# Any constant works; it only has to be the same for every migrator.
_LOCK_KEY = 0x77776301
log = structlog.get_logger("wwc.migrate")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    pass


def migrations() -> list[Migration]:
    folder = resources.files("infra.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"),
                                   entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: asyncpg.Connection[Any]) -> list[Migration]:
    """Apply what is missing; returns the migrations applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS wwc_schema_migrations (
                   version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {r["version"]: r["checksum"] for r in
                   await conn.fetch("SELECT version, checksum FROM wwc_schema_migrations")}
        done = []
        for migration in migrations():
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} ({migration.name}) changed after it "
                        "was applied; add a new migration instead of editing an applied one")
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO wwc_schema_migrations (version, name, checksum) "
                    "VALUES ($1, $2, $3)", migration.version, migration.name, migration.checksum)
            done.append(migration)
        await heal_log_clock(conn)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def heal_log_clock(conn: asyncpg.Connection[Any]) -> int:
    """Bring the log's clock past every stored event when this database was restored or
    copied into a cluster whose transaction counter is behind (see migration 010); how far
    it moved (0 almost always: on the cluster that wrote the log it never has to)."""
    moved = int(await conn.fetchval("SELECT wwc_log_clock_heal()"))
    if moved:
        # Only a restore or copy into another cluster moves it, and it must: news, not a
        # fault (a warning here read as one after every `wwc restore`).
        log.info("log clock set past the restored events, as expected after a restore "
                 "into another cluster", by=moved)
    return moved


async def migrate_url(url: str) -> None:
    """Apply what is missing to the database at `url`, on a connection of its own."""
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def migrated_database(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server at `admin_url`, created when missing and
    migrated (a benchmark's or a fault test's own database)."""
    await ensure_database(admin_url, name)
    url = with_database(admin_url, name)
    await migrate_url(url)
    return url
