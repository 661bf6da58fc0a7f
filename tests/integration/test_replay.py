"""Replay the recorded histories of the main paths with today's workflow code: a change
that is not deterministic fails here, before it can break running workflows. Histories
recorded since payloads are sealed (`-sealed-` in their names) replay with the tests' key
and sealed headers, as the workers read them; the older ones are plain JSON.

Re-record after an intended, versioned change with:
    WWC_RECORD_HISTORIES=1 .venv/bin/pytest tests/integration/test_city_lifecycle.py
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from infra.temporal.codec import sealed_data_converter
from infra.temporal.headers import WorkerActorInterceptor
from infra.temporal.keys import parse_keys
from infra.temporal.worker import WORKFLOWS, workflow_runner
from tests.temporal import TEST_PAYLOAD_KEYS

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 5, "the recorded histories are missing from tests/histories"
    assert any("-sealed-" in p.name for p in HISTORIES), "no sealed history recorded"


def replayer(path: Path) -> Replayer:
    if "-sealed-" not in path.name:
        return Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner(),
                        interceptors=[WorkerActorInterceptor()])
    return Replayer(workflows=list(WORKFLOWS), workflow_runner=workflow_runner(),
                    data_converter=sealed_data_converter(parse_keys(TEST_PAYLOAD_KEYS,
                                                                    source="tests")),
                    header_codec_behavior=HeaderCodecBehavior.CODEC,
                    interceptors=[WorkerActorInterceptor()])


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    data = json.loads(await asyncio.to_thread(path.read_text))
    # Its own workflow's id: a sealed payload opens only for the workflow it was sealed for.
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]
    history = WorkflowHistory.from_json(started.get("workflowId", path.stem), data)
    await replayer(path).replay_workflow(history)


def plain_payloads(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every payload in a history's JSON that is not sealed: (where, encoding)."""
    if isinstance(node, dict):
        encoding = (node.get("metadata") or {}).get("encoding")
        if isinstance(encoding, str) and base64.b64decode(encoding) != b"binary/encrypted":
            yield path, base64.b64decode(encoding).decode()
        for key, value in node.items():
            yield from plain_payloads(value, f"{path}/{key}")
    elif isinstance(node, list):
        for value in node:
            yield from plain_payloads(value, path)


async def test_a_sealed_history_holds_only_sealed_payloads() -> None:
    # Plain, by design: search attributes (Temporal indexes them) and the SDK's own
    # markers' bookkeeping (a local activity's sequence number, type and times; a patch's
    # id). Every input, result, argument, header and summary is sealed.
    allowed = ("/searchAttributes/", "/markerRecordedEventAttributes/details/data/",
               "/markerRecordedEventAttributes/details/patch-data/")
    for path in (p for p in HISTORIES if "-sealed-" in p.name):
        data = json.loads(await asyncio.to_thread(path.read_text))
        plain = {where for where, _ in plain_payloads(data)
                 if not any(part in f"{where}/" for part in allowed)}
        assert not plain, (path.name, plain)
