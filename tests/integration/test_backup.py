"""A backup restored into an empty database holds every event, and the hash chains verify;
restored into a new cluster, it serves every old event and every new one."""

from __future__ import annotations

import asyncio
import json
import tarfile
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from structlog.testing import capture_logs

from domain import commands as c
from infra.blobs.disk import DiskBlobStore
from infra.postgres.backup import backup, restore_database
from infra.postgres.db import (
    connect,
    create_pool,
    embedded_server_url,
    ensure_database,
    stop_embedded_server,
    with_database,
)
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.migrate import heal_log_clock
from infra.postgres.verify import verify_chains
from infra.readside import queries
from infra.readside.projections import projector
from tests.factories import CityDriver
from tests.integration.test_projections import build_history, snapshot
from workflows.persist import new_events


async def test_a_restored_backup_holds_every_event_and_verifies(
    pool: asyncpg.Pool[Any], db_url: str, pg_admin_url: str, tmp_path: Path
) -> None:
    await build_history(pool)
    events = await pool.fetchval("SELECT count(*) FROM wwc_events")
    archive = tmp_path / "wwc.dump"
    assert (await backup(db_url, archive)).size > 0

    name = f"wwc_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = with_database(pg_admin_url, name)
        await restore_database(target, archive)
        conn = await connect(target)
        try:
            assert await conn.fetchval("SELECT count(*) FROM wwc_events") == events
            result = await verify_chains(conn)
            assert (result.first_break, result.events) == (None, events)
            # Restored as it was: still append-only.
            refused = await conn.fetchval(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'wwc_events'::regclass "
                "AND NOT tgisinternal")
            assert refused >= 1
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_backup_restored_into_a_new_cluster_serves_old_and_new_events(
    pool: asyncpg.Pool[Any], db_url: str, tmp_path: Path
) -> None:
    """A new data directory is a new cluster, whose transaction counter starts far below
    the ids of the events it restores (the test session's server has run thousands of
    transactions; a fresh one a few hundred). Readers once took the restored events for
    transactions still in flight: a rebuild emptied every read model, and new events were
    never read."""
    await build_history(pool)
    read_models = projector(pool)
    await read_models.catch_up_all()
    before = await snapshot(pool)
    archive = tmp_path / "wwc.dump"
    await backup(db_url, archive)

    pgdata = tmp_path / "new-data-dir" / "postgres"
    admin = await asyncio.to_thread(embedded_server_url, pgdata)
    try:
        await ensure_database(admin, "wwc")
        target = with_database(admin, "wwc")
        with capture_logs() as logs:
            await restore_database(target, archive)
        # The log's clock moves, as it must in a new cluster: said as news, not a fault.
        [moved] = [entry for entry in logs if "log clock" in entry["event"]]
        assert moved["log_level"] == "info", moved
        assert "expected after a restore" in moved["event"]
        restored = await create_pool(target, size=4)
        try:
            rebuilt = projector(restored)
            for name in rebuilt.projections:
                await rebuilt.rebuild(name)
            assert await snapshot(restored) == before  # the same rows, not none
            # New writes after the restore are read, by a catch-up and by a rebuild.
            store = PostgresEventStore(restored)
            city = CityDriver()
            city(c.JoinNetwork(name="Tulsa, OK", country="US", population=413_066),
                 date(2024, 1, 5))
            await store.append("city/us-tulsa-ok", 0,
                               list(new_events("city/us-tulsa-ok", 0, city.events, {})))
            await rebuilt.catch_up_all()
            keys = {r.city_key for r in await queries.registry(restored)}
            assert {"us-tulsa-ok", "us-charleston-sc"} <= keys
            for name in rebuilt.projections:
                await rebuilt.rebuild(name)
            assert {r.city_key for r in await queries.registry(restored)} == keys
            async with restored.acquire() as conn:
                assert (await verify_chains(conn)).first_break is None
        finally:
            await restored.close()
    finally:
        await asyncio.to_thread(stop_embedded_server, pgdata)


async def test_the_log_clock_never_moves_on_the_cluster_that_wrote_the_log(
    pool: asyncpg.Pool[Any], db_url: str
) -> None:
    await build_history(pool)
    conn = await connect(db_url)
    try:
        assert await heal_log_clock(conn) == 0
        assert await conn.fetchval("SELECT xid_offset FROM wwc_log_clock") == 0
    finally:
        await conn.close()


async def test_a_backup_carries_the_documents_and_a_restore_puts_them_back(
    db_url: str, tmp_path: Path
) -> None:
    kept = DiskBlobStore(tmp_path / "old" / "documents")
    bodies = [b"%PDF-1.7 inventory", b"minutes of the data council", b"altered later"]
    keys = []
    for body in bodies:
        staged = await kept.stage(one_chunk(body), limit=1000)
        await kept.commit(staged)
        keys.append(staged.sha256)
    kept.path_of(keys[2]).write_bytes(b"altered by hand")
    archive = tmp_path / "wwc.backup"

    written = await backup(db_url, archive, documents=kept)
    assert (written.documents, written.unreadable) == (2, [keys[2]])  # left out, named
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
        assert tar.getnames()[-1] == "MANIFEST.json"
    assert {name: value for name, value in manifest["sha256"].items()
            if name.startswith("documents/")} == {f"documents/{k}": k for k in keys[:2]}

    # Restored over the same (throwaway) database, into another data directory's store.
    fresh = DiskBlobStore(tmp_path / "new" / "documents")
    done = await restore_database(db_url, archive, documents=fresh)
    assert (done.documents, done.documents_failed) == (2, [])
    assert sorted([key async for key in fresh.keys()]) == sorted(keys[:2])  # noqa: SIM118
    for key, body in zip(keys[:2], bodies, strict=False):
        assert b"".join([chunk async for chunk in fresh.read(key)]) == body


async def one_chunk(body: bytes) -> AsyncIterator[bytes]:
    yield body
