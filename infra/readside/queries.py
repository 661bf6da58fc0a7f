"""Reads of the read models: the registry and cohorts (the CLI, the demo), certifications
expiring soon and the application pipeline (the operators' views and digests). Each answers
typed rows (`infra/readside/rows.py`), never a bare record or dict."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.events import CertificationAnnounced, CertificationDecided
from domain.streams import CITY_STREAM_PREFIX, city_stream
from domain.views import CityView
from infra.readside.rows import (
    AnnouncedCertification,
    AnnouncedCohort,
    Certificate,
    CertificationPeriod,
    CertifiedCity,
    CertifiedCityPage,
    CohortRow,
    DecidingEvent,
    MapPlace,
    OutboxMessage,
    PipelineRow,
    QueuedReview,
    RegistryRow,
    TeamMember,
)

_REGISTRY = RegistryRow.columns()


async def registry(
    pool: asyncpg.Pool[Any], *, status: str | None = None, tier: str | None = None,
    country: str | None = None, expiring_before: date | None = None,
) -> list[RegistryRow]:
    rows = await pool.fetch(
        f"""SELECT {_REGISTRY} FROM wwc_registry
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR tier = $2)
              AND ($3::text IS NULL OR country = upper($3))
              AND ($4::date IS NULL OR (expires_on IS NOT NULL AND expires_on < $4))
            ORDER BY country, name""", status, tier, country, expiring_before)
    return [RegistryRow(**r) for r in rows]


async def expiring(pool: asyncpg.Pool[Any], on_or_before: date) -> list[RegistryRow]:
    """Certifications in force that expire on or before the date, soonest first."""
    rows = await pool.fetch(
        f"SELECT {_REGISTRY} FROM wwc_registry WHERE tier <> 'none' AND expires_on <= $1 "
        "ORDER BY expires_on, name", on_or_before)
    return [RegistryRow(**r) for r in rows]


async def _cohorts(pool: asyncpg.Pool[Any], *, announced_only: bool) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT c.cohort_id, c.announce_on, c.announced_on, c.city_count,
                  coalesce(json_agg(json_build_object('city_key', m.city_key,
                  'name', m.name, 'tier', m.tier) ORDER BY m.name)
                  FILTER (WHERE m.city_key IS NOT NULL), '[]') AS cities
             FROM wwc_cohorts c LEFT JOIN wwc_cohort_cities m USING (cohort_id)
            WHERE NOT $1::boolean OR c.announced_on IS NOT NULL
            GROUP BY c.cohort_id ORDER BY c.announce_on, c.cohort_id""", announced_only)


async def cohorts(pool: asyncpg.Pool[Any]) -> list[CohortRow]:
    """Every cohort, the first to announce first, with the cities announced in it."""
    return [CohortRow(**r) for r in await _cohorts(pool, announced_only=False)]


async def pipeline(pool: asyncpg.Pool[Any]) -> list[PipelineRow]:
    rows = await pool.fetch(f"SELECT {PipelineRow.columns()} FROM wwc_pipeline "
                            "ORDER BY stage, stage_since, city_key")
    return [PipelineRow(**r) for r in rows]


async def counts_by_tier(pool: asyncpg.Pool[Any]) -> dict[str, int]:
    rows = await pool.fetch("SELECT tier, count(*) AS n FROM wwc_registry "
                            "WHERE NOT withdrawn GROUP BY tier")
    return {r["tier"]: r["n"] for r in rows}


# --- what the public may see: announced certifications only --------------------------

async def public_registry(
    pool: asyncpg.Pool[Any], *, as_of: date | None = None, tier: str | None = None,
    country: str | None = None, standard: str | None = None, cohort: str | None = None,
    after: str = "", limit: int = 50,
) -> list[CertifiedCity]:
    """Cities holding an announced certification (on `as_of`, default: now), by key."""
    rows = await pool.fetch(
        """SELECT p.city_key, r.name, r.country, p.tier, p.standard_id, p.cohort_id,
                  p.awarded_on, p.expires_on
             FROM wwc_certification_periods p JOIN wwc_registry r USING (city_key)
            WHERE (CASE WHEN $1::date IS NULL THEN p.ended_on IS NULL
                        ELSE p.awarded_on <= $1 AND (p.ended_on IS NULL OR p.ended_on > $1)
                   END)
              AND ($2::text IS NULL OR p.tier = $2)
              AND ($3::text IS NULL OR r.country = upper($3))
              AND ($4::text IS NULL OR p.standard_id = $4)
              AND ($5::text IS NULL OR p.cohort_id = $5)
              AND p.city_key > $6
            ORDER BY p.city_key LIMIT $7""",
        as_of, tier, country, standard, cohort, after, limit)
    return [CertifiedCity(**r) for r in rows]


async def public_city(pool: asyncpg.Pool[Any], city_key: str) -> CertifiedCityPage | None:
    """A currently certified city's public facts and its announced tiers over time; None
    for every other city (applicants, not certified, lapsed, withdrawn)."""
    periods = [CertificationPeriod(**p) for p in await pool.fetch(
        f"SELECT {CertificationPeriod.columns()} FROM wwc_certification_periods "
        "WHERE city_key = $1 ORDER BY awarded_on", city_key)]
    current = [p for p in periods if p.ended_on is None]
    if not current:
        return None
    city = await pool.fetchrow("SELECT name, country FROM wwc_registry WHERE city_key = $1",
                               city_key)
    if city is None:
        return None
    now = current[-1]
    return CertifiedCityPage(
        city_key=city_key, name=city["name"], country=city["country"], tier=now.tier,
        standard_id=now.standard_id, cohort_id=now.cohort_id, awarded_on=now.awarded_on,
        expires_on=now.expires_on, history=tuple(periods))


async def public_cohorts(pool: asyncpg.Pool[Any]) -> list[AnnouncedCohort]:
    """Announced cohorts only, with the cities announced in them."""
    return [AnnouncedCohort(**r) for r in await _cohorts(pool, announced_only=True)]


async def reviewer_queue(pool: asyncpg.Pool[Any], reviewer: str | None) -> list[QueuedReview]:
    """Applications under review, oldest stage first: one reviewer's, or everyone's."""
    rows = await pool.fetch(
        """SELECT p.city_key, r.name, p.application, p.standard_id, p.stage, p.stage_since,
                  p.open_clarifications, p.reviewer
             FROM wwc_pipeline p JOIN wwc_registry r USING (city_key)
            WHERE p.reviewer IS NOT NULL AND ($1::text IS NULL OR p.reviewer = $1)
              AND p.stage IN ('under_review', 'awaiting_clarification', 'review_complete')
            ORDER BY p.stage_since, p.city_key""", reviewer)
    return [QueuedReview(**r) for r in rows]


async def city_view(pool: asyncpg.Pool[Any], city_key: str, today: date) -> CityView | None:
    """A city's view from its read model (as the workflow would answer, dated today)."""
    row = await pool.fetchrow("SELECT view FROM wwc_city_views WHERE city_key = $1", city_key)
    if row is None:
        return None
    return CityView.model_validate({**row["view"], "program_date": today})


async def program_streams(pool: asyncpg.Pool[Any]) -> list[str]:
    """Every city's and cohort's stream that has events (what audit and recovery walk)."""
    rows = await pool.fetch(
        "SELECT DISTINCT stream_id FROM wwc_events WHERE stream_id LIKE 'city/%' "
        "OR stream_id LIKE 'cohort/%' ORDER BY stream_id")
    return [r["stream_id"] for r in rows]


async def public_places(pool: asyncpg.Pool[Any]) -> list[MapPlace]:
    """Where each currently certified (announced) city is, for the public map."""
    rows = await pool.fetch(
        """SELECT p.city_key, r.name, p.tier, r.latitude, r.longitude
             FROM wwc_certification_periods p JOIN wwc_registry r USING (city_key)
            WHERE p.ended_on IS NULL ORDER BY p.city_key""")
    return [MapPlace(**r) for r in rows]


async def certificate(pool: asyncpg.Pool[Any], city_key: str,
                      awarded_on: date) -> Certificate | None:
    """One announced certification of a city certified now, with the event that decided
    it (its position and hash in the city's chain) and the city's public page (`city`);
    None for anything not public."""
    city = await public_city(pool, city_key)
    if city is None:
        return None  # a lapsed or withdrawn city has no public page, nor certificates
    period = await pool.fetchrow(
        f"SELECT city_key, {CertificationPeriod.columns()} FROM wwc_certification_periods "
        "WHERE city_key = $1 AND awarded_on = $2", city_key, awarded_on)
    if period is None:
        return None
    stream = city_stream(city_key)
    decided = await pool.fetchrow(
        """SELECT d.stream_version, d.position, encode(d.hash, 'hex') AS hash,
                  (d.data->>'on')::date AS decided_on, d.data->>'percent' AS percent
             FROM wwc_events a
             JOIN LATERAL (SELECT * FROM wwc_events d
                            WHERE d.stream_id = a.stream_id AND d.event_type = $3
                              AND d.stream_version < a.stream_version
                            ORDER BY d.stream_version DESC LIMIT 1) d ON true
            WHERE a.stream_id = $1 AND a.event_type = $4 AND a.data->>'on' = $2""",
        stream, awarded_on.isoformat(), "certification.decided", "certification.announced")
    return Certificate(**period, decided=DecidingEvent(**decided) if decided else None,
                       city=city)


async def announced_certifications(pool: asyncpg.Pool[Any], city_key: str | None = None,
                                   *, hashes: bool = True) -> list[AnnouncedCertification]:
    """Every announced certification (of one city, or of all), oldest first: what open
    data publishes. Periods exist only for announced certifications, so no applicant, no
    decision awaiting its announcement and no city never certified is among them. The
    hash is the one a certificate's page shows: of the last decision before the
    announcement, found in the city's own stream (its index, no scan of the log); most of
    the query's time, so a reader that needs only the dates asks `hashes=False` (every
    `decision_hash` None)."""
    rows = await pool.fetch(
        """SELECT p.city_key, r.name, r.country, p.tier, p.standard_id, p.cohort_id,
                  p.awarded_on, p.expires_on, p.ended_on,
                  encode(d.hash, 'hex') AS decision_hash,
                  EXISTS (SELECT 1 FROM wwc_certification_periods n
                           WHERE n.city_key = p.city_key AND n.ended_on IS NULL)
                    AS city_certified_now
             FROM wwc_certification_periods p JOIN wwc_registry r USING (city_key)
             LEFT JOIN LATERAL (
                  SELECT a.stream_version FROM wwc_events a
                   WHERE $5 AND a.stream_id = $1 || p.city_key AND a.event_type = $2
                     AND a.data->>'on' = to_char(p.awarded_on, 'YYYY-MM-DD')
                   ORDER BY a.stream_version DESC LIMIT 1) a ON true
             LEFT JOIN LATERAL (
                  SELECT d.hash FROM wwc_events d
                   WHERE d.stream_id = $1 || p.city_key AND d.event_type = $3
                     AND d.stream_version < a.stream_version
                   ORDER BY d.stream_version DESC LIMIT 1) d ON true
            WHERE $4::text IS NULL OR p.city_key = $4
            ORDER BY p.awarded_on, p.city_key""",
        CITY_STREAM_PREFIX, CertificationAnnounced.TYPE, CertificationDecided.TYPE, city_key,
        hashes)
    return [AnnouncedCertification(**r) for r in rows]


async def outbox(pool: asyncpg.Pool[Any], *, to: str | None = None,
                 limit: int = 200) -> list[OutboxMessage]:
    """The program's outgoing mail, newest first (no body: subject, status, attempts)."""
    rows = await pool.fetch(
        f"""SELECT {OutboxMessage.columns()}
             FROM wwc_outbox WHERE $1::text IS NULL OR recipient = lower($1)
            ORDER BY created_at DESC, message_id LIMIT $2""", to, limit)
    return [OutboxMessage(**r) for r in rows]


async def reviewers(pool: asyncpg.Pool[Any]) -> list[TeamMember]:
    """The review team, by name: whose history the staff may read."""
    rows = await pool.fetch(f"SELECT {TeamMember.columns()} FROM wwc_accounts "
                            "WHERE role = 'reviewer' ORDER BY display_name, email")
    return [TeamMember(**r) for r in rows]


async def display_names(pool: asyncpg.Pool[Any], account_ids: set[str]) -> dict[str, str]:
    """The display name of each of these accounts (those that exist), by account id."""
    rows = await pool.fetch("SELECT account_id, display_name FROM wwc_accounts "
                            "WHERE account_id = ANY($1::text[])", sorted(account_ids))
    return {r["account_id"]: r["display_name"] for r in rows}
