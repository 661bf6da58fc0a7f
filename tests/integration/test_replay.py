"""Replay the recorded histories of the main paths with today's workflow code: a change
that is not deterministic fails here, before it can break running workflows.

Re-record after an intended, versioned change with:
    WWC_RECORD_HISTORIES=1 .venv/bin/pytest tests/integration/test_city_lifecycle.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from infra.worker import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 5, "the recorded histories are missing from tests/histories"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    await replayer.replay_workflow(history)
