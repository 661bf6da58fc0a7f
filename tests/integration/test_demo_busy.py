"""The demo on a machine too busy for its speed (one preparation at a time, each command
slowed): it completes and says how the run differs from the record, instead of aborting
with a cohort refused as past."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain import commands
from infra.ops import demo
from infra.ops.demo import DemoRun, Scenario, compare_with_record, demo_clock
from infra.standards.folder import load_catalog
from tests.temporal import REVIEWER, Service, TrackedProgram

START = date(2023, 1, 2)


def busy_scenario(tag: str) -> Scenario:
    """Cohort A's six cities are prepared from the start; cohort B's creation falls due
    0.8 s in, its date 1.8 s in; six slowed preparations in one slot take over 3 s."""
    return Scenario.model_validate({
        "title": "busy", "start": START, "end": START + timedelta(days=30),
        "days_per_second": 10, "lead_days": 10,
        "cohorts": [
            {"id": f"a-{tag}", "announce_on": START + timedelta(days=10),
             "standard": "wwc-2022",
             "cities": [{"name": f"Busy {n} {tag}, ID", "country": "US",
                         "population": 40_000, "tier": "silver"} for n in range(6)]},
            {"id": f"b-{tag}", "announce_on": START + timedelta(days=18),
             "standard": "wwc-2022",
             "cities": [{"name": f"Late {tag}, ID", "country": "US", "population": 40_000,
                         "tier": "gold"}]}]})


async def test_a_busy_demo_completes_and_reports_instead_of_aborting(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "CONCURRENT_ASSESSMENTS", 1)
    monkeypatch.setattr(demo, "REVIEWER", REVIEWER)
    monkeypatch.setattr(demo, "SETTLE_SECONDS", 20.0)
    tag = uuid.uuid4().hex[:6]  # workflow ids are shared by every test on the server
    plan = busy_scenario(tag)
    end = plan.end_date(START)
    program = TrackedProgram(service.client, service.settings.task_queue,
                             catalog=load_catalog(), clock=demo_clock(plan, end,
                                                                      datetime.now(UTC)))
    service.clients.append(program)
    send = program.send

    async def slowly(key: str, command: commands.CityCommand, **options: Any) -> Any:
        await asyncio.sleep(0.15)  # a busy worker
        return await send(key, command, **options)

    monkeypatch.setattr(program, "send", slowly)
    run = DemoRun(program, plan, end)
    await run.play(lambda day: None)  # before the fix: CommandRefused past_date

    assert run.created == {f"a-{tag}", f"b-{tag}"}
    assert not [p for p in run.problems if "already past" in p], run.problems
    # Both cohorts were announced (the run waited for them); the report accounts for
    # every certified city of the record, wherever the busy run put it.
    found = {}
    for cohort in plan.cohorts:
        view = await program.cohort(cohort.id)
        assert view.announced_on == cohort.announce_on
        found[cohort.id] = [c.city_key for c in view.cities]
    for difference in compare_with_record(plan, found):
        assert difference.recorded == difference.kept + len(
            difference.later + difference.earlier + difference.missing)
