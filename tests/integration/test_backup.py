"""A backup restored into an empty database holds every event, and the hash chains verify."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from infra.backup import backup, restore
from infra.db import connect, with_database
from infra.verify import verify_chains
from tests.integration.test_projections import build_history


async def test_a_restored_backup_holds_every_event_and_verifies(
    pool: asyncpg.Pool[Any], db_url: str, pg_admin_url: str, tmp_path: Path
) -> None:
    await build_history(pool)
    events = await pool.fetchval("SELECT count(*) FROM wwc_events")
    archive = tmp_path / "wwc.dump"
    assert await asyncio.to_thread(backup, db_url, archive) > 0

    name = f"wwc_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = with_database(pg_admin_url, name)
        await asyncio.to_thread(restore, target, archive)
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
