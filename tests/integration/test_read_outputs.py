"""What the read models look like to scripts and clients, pinned byte for byte over a small
recorded history: the CLI's machine output (`wwc list --json`, `wwc list --as-of --json`,
`wwc export registry` as JSON and CSV, `wwc cohorts --json`, `wwc outbox --json`) and the
API's JSON (the staff's /api/cities, /api/pipeline, /api/reviews; the public /api/registry,
/api/registry/{key}, /api/cohorts). Field names, their order, date and number formats are
an interface: a change to any of them must show here, in `read_outputs/`, on purpose."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest
from fastapi import Request
from pydantic import BaseModel
from typer.testing import CliRunner

from domain.accounts import Role
from infra.cli import app
from infra.cli.common import forget_settings
from infra.readside.projections import projector
from infra.web.api import public, staff
from tests.integration.test_projections import build_history

PINNED = Path(__file__).parent / "read_outputs"


async def _recorded(pool: asyncpg.Pool[Any]) -> None:
    """The projections' test history, caught up, and two messages in the outbox (with
    fixed times: the outbox is the one read model dated by the clock)."""
    await build_history(pool)
    await projector(pool).catch_up_all()
    for number, (sent_at, status, error) in enumerate((
            (datetime(2023, 6, 20, 9, 0, 5, tzinfo=UTC), "sent", None),
            (None, "held", "no mail server"))):
        await pool.execute(
            "INSERT INTO wwc_outbox (message_id, cause, city_key, kind, recipient, language, "
            "subject, body_text, body_html, status, attempts, last_error, created_at, "
            "sent_at) VALUES ($1, $2, 'us-charleston-sc', 'announcement', "
            "'ed@charleston.test', 'en', 'Charleston, SC is certified', 'text', '<p>html', "
            "$3, $4, $5, $6, $7)",
            f"m-{number}", f"city/us-charleston-sc@{number + 20}", status, number + 1, error,
            datetime(2023, 6, 20, 9, number, tzinfo=UTC), sent_at)


def _matches(name: str, text: str) -> None:
    expected = (PINNED / name).read_text(encoding="utf-8")
    assert text == expected, f"{name} changed: it is an interface (see the module's doc)"


def _wwc(env: dict[str, str], *args: str) -> str:
    forget_settings()  # a new run reads the environment again, as `wwc` does
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"WWC_DATABASE_URL": db_url, "WWC_DATA_DIR": str(tmp_path / "data")}


async def test_the_clis_machine_output_keeps_its_shape(
        pool: asyncpg.Pool[Any], cli_env: dict[str, str]) -> None:
    await _recorded(pool)
    for name, args in (
            ("list.json", ("list", "--json")),
            ("list-as-of.json", ("list", "--as-of", "2023-03-01", "--json")),
            ("export-registry.json", ("export", "registry", "--format", "json")),
            ("export-registry.csv", ("export", "registry", "--format", "csv")),
            ("cohorts.json", ("cohorts", "--json")),
            ("outbox.jsonl", ("outbox", "--json"))):
        # Each command runs its own event loop, as from a shell: off this test's loop.
        _matches(name, await asyncio.to_thread(_wwc, cli_env, *args))


class _UpToDate:
    """The read models are caught up already (`_recorded`)."""

    async def current(self, *read_models: str) -> None:
        return None


def _request(pool: asyncpg.Pool[Any], role: Role) -> Request:
    """What the routes read of a request: the services (the pool) and the caller."""
    found = SimpleNamespace(pool=pool, fresh=_UpToDate())
    caller = SimpleNamespace(signed_in=SimpleNamespace(role=role, email="op@wwc.test"))
    return cast(Request, SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        services=found)), state=SimpleNamespace(caller=caller)))


def _json(answer: BaseModel | list[Any]) -> str:
    """The answer as FastAPI sends it: its response model dumped in JSON mode."""
    if isinstance(answer, list):
        return "[" + ",".join(item.model_dump_json() for item in answer) + "]\n"
    return answer.model_dump_json() + "\n"


async def test_the_apis_json_keeps_its_shape(pool: asyncpg.Pool[Any]) -> None:
    await _recorded(pool)
    operator = _request(pool, Role.OPERATOR)
    _matches("api-cities.json", _json(await staff.all_cities(
        operator, status=None, cursor=None, limit=3)))
    _matches("api-pipeline.json", _json(await staff.pipeline(operator)))
    _matches("api-reviews.json", _json(await staff.review_queue(operator)))
    _matches("api-registry.json", _json(await public.registry(
        operator, tier=None, country=None, standard=None, cohort=None,
        as_of=date(2023, 3, 1), cursor=None, limit=2)))
    _matches("api-registry-city.json", _json(await public.public_city(operator,
                                                                      "br-fortaleza")))
    _matches("api-cohorts.json", _json(await public.cohorts(operator)))
