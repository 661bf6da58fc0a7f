"""Readiness against a real PostgreSQL and Temporal: a read model whose catch-up fails for
good (a trigger of the test's own database refuses its rows) makes `/readyz` not ready,
naming it, shows in the metrics, is logged once per change rather than at every attempt,
does not hold the other read models back, and recovers once the cause is gone."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from structlog.testing import capture_logs
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from domain.streams import city_stream
from infra.bootstrap import running_api
from infra.platform import metrics
from infra.platform.config import Settings
from infra.postgres.eventstore import PostgresEventStore
from infra.web.server import CATCH_UP_EVERY
from tests.factories import CityDriver
from tests.temporal import eventually
from workflows.persist import new_events

POISON = """
CREATE FUNCTION wwc_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the test refuses this row'; END $$;
CREATE TRIGGER wwc_test_refuse BEFORE INSERT OR UPDATE ON wwc_pipeline
    FOR EACH ROW EXECUTE FUNCTION wwc_test_refuse();
"""
CURE = "DROP TRIGGER wwc_test_refuse ON wwc_pipeline"


def failing_gauge(name: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("wwc_projection_failing", {"projection": name})


def failures(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(
        "wwc_projection_failures_total", {"projection": name}) or 0.0


async def test_a_read_model_failing_for_good_makes_the_service_not_ready(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=db_url, data_dir=tmp_path, http_address="127.0.0.1:0",
                        task_queue=f"ready-{uuid.uuid4().hex[:8]}")
    city = CityDriver()
    city(c.JoinNetwork(name=f"Poison Springs {uuid.uuid4().hex[:6]}", country="US",
                       population=50_000), date(2023, 1, 5))
    key = city.state.profile.city_key  # type: ignore[union-attr]
    with capture_logs() as logs:
        async with running_api(settings, temporal_env.client) as url, \
                httpx.AsyncClient(base_url=url, timeout=10) as http:

            async def readyz() -> dict[str, Any]:
                answer = await http.get("/readyz")
                body: dict[str, Any] = answer.json()
                assert (answer.status_code == 200) == (body["status"] == "ready"), body
                return body

            assert (await readyz())["status"] == "ready"
            await pool.execute(POISON)
            stream = city_stream(key)
            await PostgresEventStore(pool).append(stream, 0,
                                                  new_events(stream, 0, city.events, {}))
            broken = await eventually(readyz, lambda body: body["status"] != "ready",
                                      within=15)
            assert broken["postgres"] == "ok", broken
            assert list(broken["read_models"]) == ["pipeline"], broken
            assert "RaiseError" in broken["read_models"]["pipeline"], broken
            assert failing_gauge("pipeline") == 1
            # The other read models are not held back by the failing one.
            assert await pool.fetchval(
                "SELECT count(*) FROM wwc_city_views WHERE city_key = $1", key) == 1
            # Several more attempts fail; the log has a line per change, not per attempt.
            attempts = failures("pipeline")
            await eventually(lambda: asyncio.sleep(0, failures("pipeline")),
                             lambda n: n >= attempts + 8, within=15)
            said = [entry for entry in logs if entry.get("read_model") == "pipeline"]
            assert [entry["log_level"] for entry in said] == ["warning", "error"], said

            await pool.execute(CURE)
            started = time.monotonic()
            healed = await eventually(readyz, lambda body: body["status"] == "ready",
                                      within=15)
            assert healed["read_models"] == "ok", healed
            assert time.monotonic() - started < 2 + 4 * CATCH_UP_EVERY
            assert failing_gauge("pipeline") == 0
            assert await pool.fetchval(
                "SELECT count(*) FROM wwc_pipeline WHERE city_key = $1", key) == 1
    said = [entry for entry in logs if entry.get("read_model") == "pipeline"]
    assert [entry["event"] for entry in said][-1] == "read model recovered", said
