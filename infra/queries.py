"""Reads of the read models: the registry and cohorts (the CLI, the demo), certifications
expiring soon and the application pipeline (the operators' views and digests)."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

RegistryRow = dict[str, Any]


async def registry(
    pool: asyncpg.Pool[Any], *, status: str | None = None, tier: str | None = None,
    country: str | None = None, expiring_before: date | None = None,
) -> list[RegistryRow]:
    rows = await pool.fetch(
        """SELECT * FROM wwc_registry
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR tier = $2)
              AND ($3::text IS NULL OR country = upper($3))
              AND ($4::date IS NULL OR (expires_on IS NOT NULL AND expires_on < $4))
            ORDER BY country, name""", status, tier, country, expiring_before)
    return [dict(r) for r in rows]


async def expiring(pool: asyncpg.Pool[Any], on_or_before: date) -> list[RegistryRow]:
    """Certifications in force that expire on or before the date, soonest first."""
    rows = await pool.fetch(
        "SELECT * FROM wwc_registry WHERE tier <> 'none' AND expires_on <= $1 "
        "ORDER BY expires_on, name", on_or_before)
    return [dict(r) for r in rows]


async def cohorts(pool: asyncpg.Pool[Any]) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT c.*, coalesce(json_agg(json_build_object('city_key', m.city_key,
                  'name', m.name, 'tier', m.tier) ORDER BY m.name)
                  FILTER (WHERE m.city_key IS NOT NULL), '[]') AS cities
             FROM wwc_cohorts c LEFT JOIN wwc_cohort_cities m USING (cohort_id)
            GROUP BY c.cohort_id ORDER BY c.announce_on, c.cohort_id""")
    return [dict(r) for r in rows]


async def pipeline(pool: asyncpg.Pool[Any]) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT * FROM wwc_pipeline ORDER BY stage, stage_since, city_key")
    return [dict(r) for r in rows]


async def counts_by_tier(pool: asyncpg.Pool[Any]) -> dict[str, int]:
    rows = await pool.fetch("SELECT tier, count(*) AS n FROM wwc_registry "
                            "WHERE NOT withdrawn GROUP BY tier")
    return {r["tier"]: r["n"] for r in rows}
