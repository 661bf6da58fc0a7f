"""The Temporal frontend is not a side door: someone who reaches it (on the embedded stack,
any local user: the dev server has no authentication) with the stock `temporal` CLI and no
keys reads only ciphertext, and a command, signal or workflow start they forge is refused
with nothing recorded, the city working on as before. Operators still read every history
through the API's codec endpoint. Against `wwc up`, as an attacker would go about it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import WWC, clean_env, wwc_up

pytestmark = pytest.mark.e2e
TEMPORAL = str(Path(sys.executable).parent / "temporal")  # the stock CLI the venv ships
CITY = "us-rock-hill-sc"
WORKFLOW = f"city/{CITY}"
EVIDENCE = "https://rockhill.gov/data/inventory"  # what the city's answers hold
AFFILIATED = "rev@rfa.test"  # a reviewer affiliated with the city: never its reviewer
REVIEWER = "other@rfa.test"


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    temporal: str  # the frontend's host:port
    ui: str  # the dev server's own UI port
    api: str
    operator_token: str
    reviewer_token: str

    def wwc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([WWC, *args], env=self.env, capture_output=True, text=True,
                              timeout=180, check=False)

    def ok(self, *args: str) -> str:
        done = self.wwc(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def stock(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The stock `temporal` CLI, with no key and no codec."""
        return subprocess.run([TEMPORAL, *args, "--address", self.temporal],
                              capture_output=True, text=True, timeout=180, check=False)

    def history(self, workflow_id: str = WORKFLOW) -> list[dict[str, Any]]:
        shown = self.stock("workflow", "show", "-w", workflow_id, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        events: list[dict[str, Any]] = json.loads(shown.stdout)["events"]
        return events

    def city_events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.ok("history", CITY, "--json"))
        return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("side-doors")
    env = clean_env(data_dir)

    def add(*args: str) -> str:
        done = subprocess.run([WWC, *args], env=env, capture_output=True, text=True,
                              timeout=180, check=False)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    with wwc_up(env, data_dir / "up.log"):
        # With the stack up: each would otherwise start and stop PostgreSQL of its own.
        # Accounts that act by API tokens alone (a one-time password would have to be
        # changed before a token of theirs opens anything).
        add("users", "add", AFFILIATED, "--role", "reviewer", "--affiliation", CITY,
            "--no-password")
        add("users", "add", REVIEWER, "--role", "reviewer", "--no-password")
        add("users", "add", "op@program.test", "--role", "operator", "--no-password")
        server = json.loads((data_dir / "temporal.json").read_text())
        operator = add("tokens", "create", "op@program.test", "--name", "codec").splitlines()[-1]
        reviewer = add("tokens", "create", REVIEWER, "--name", "codec").splitlines()[-1]
        found = Stack(env, data_dir, server["address"], server["ui_url"],
                      f"http://{env['WWC_HTTP_ADDRESS']}", operator, reviewer)
        found.ok("join", "--name", "Rock Hill, SC", "--country", "US", "--population", "74372")
        assessment = data_dir / "assessment.yaml"
        assessment.write_text(yaml.safe_dump({
            "standard": "wwc-2022", "outcomes": {"broadband": True},
            "criteria": {"DM1": {"met": True, "evidence": [EVIDENCE]},
                         "DM2": {"met": True, "evidence": ["https://rockhill.gov/q"]}}}))
        found.ok("assessment", "submit", CITY, str(assessment))
        yield found


def test_the_stock_cli_reads_only_ciphertext(stack: Stack) -> None:
    queried = stack.stock("workflow", "query", "-w", WORKFLOW, "--name", "application",
                          "-o", "json")
    assert EVIDENCE not in queried.stdout + queried.stderr
    assert "rockhill.gov" not in json.dumps(stack.history())
    # What it does show of a payload is the codec's envelope.
    assert base64.b64encode(b"binary/encrypted").decode() in json.dumps(stack.history())


def payloads(node: Any) -> Iterator[tuple[bytes, bytes]]:
    """Every payload in a history's JSON, as (encoding, data) decoded from base64."""
    if isinstance(node, dict):
        encoding = (node.get("metadata") or {}).get("encoding")
        if isinstance(encoding, str):
            yield base64.b64decode(encoding), base64.b64decode(node.get("data") or "")
        for value in node.values():
            yield from payloads(value)
    elif isinstance(node, list):
        for value in node:
            yield from payloads(value)


def test_the_ui_servers_own_api_shows_only_ciphertext(stack: Stack) -> None:
    path = f"api/v1/namespaces/default/workflows/{WORKFLOW.replace('/', '%2F')}/history"
    # The UI server's HTTP API, under the UI's public path (/temporal) or at its root.
    for base in (f"{stack.ui}/temporal", stack.ui):
        history = httpx.get(f"{base}/{path}", timeout=60)
        if history.headers.get("content-type", "").startswith("application/json"):
            break
    assert history.status_code == 200, history.text
    found = list(payloads(history.json()))
    assert not [data for _, data in found if b"rockhill.gov" in data]
    assert b"binary/encrypted" in {encoding for encoding, _ in found}


@pytest.mark.parametrize(("update", "argument"), [
    ("assign_reviewer", {"reviewer": AFFILIATED, "affiliations": []}),
    ("withdraw", {"reason": "forged"}),
])
def test_a_forged_update_is_refused_and_records_nothing(
        stack: Stack, update: str, argument: dict[str, Any]) -> None:
    before_events, before_history = stack.city_events(), stack.history()
    forged = stack.stock("workflow", "update", "execute", "-w", WORKFLOW, "--name", update,
                         "--input", json.dumps(argument))
    assert forged.returncode != 0, forged.stdout
    assert "unauthenticated" in forged.stdout + forged.stderr
    assert stack.city_events() == before_events
    after = stack.history()
    accepted = [e for e in after if "UpdateAccepted" in e["eventType"]]
    assert len(accepted) == len([e for e in before_history
                                 if "UpdateAccepted" in e["eventType"]])
    assert json.loads(stack.ok("status", CITY, "--json"))["status"] == "submitted"


def test_the_city_works_on_and_its_rules_hold_after_forgeries(stack: Stack) -> None:
    stack.stock("workflow", "update", "execute", "-w", WORKFLOW, "--name", "withdraw",
                "--input", '{"reason": "forged"}')
    # The conflict-of-interest rule takes the reviewer's affiliations from the accounts.
    conflict = stack.wwc("review", "assign", CITY, AFFILIATED)
    assert conflict.returncode == 4, conflict.stderr
    assert "conflict_of_interest" in conflict.stderr
    stack.ok("review", "assign", CITY, REVIEWER)
    status = json.loads(stack.ok("status", CITY, "--json"))
    assert (status["status"], status["reviewer"]) == ("under_review", REVIEWER)
    # Recorded as the operator on the server: its process holds the keys.
    assigned = stack.city_events()[-1]
    assert (assigned["type"], assigned["metadata"]["actor"]) == (
        "review.reviewer_assigned", "operator")


def test_a_forged_signal_changes_nothing(stack: Stack) -> None:
    before = json.loads(stack.ok("status", CITY, "--json"))
    # Twenty years on: would fire every timer the city has, and date its next events.
    clock = {"origin_real": "2026-01-01T00:00:00Z", "origin_program": "2046-01-01T00:00:00Z"}
    forged = stack.stock("workflow", "signal", "-w", WORKFLOW, "--name", "set_clock",
                         "--input", json.dumps(clock))
    assert forged.returncode == 0  # a signal is not answered; it is dropped
    # A command after it: the workflow has handled the signal (it came first) when the
    # command is answered, and the command's event is dated by the city's clock.
    stack.ok("review", "clarify", CITY, "DM1", "When was the inventory last updated?")
    after = json.loads(stack.ok("status", CITY, "--json"))
    assert after["program_date"] == before["program_date"]
    asked = stack.city_events()[-1]
    assert (asked["type"], asked["date"]) == ("review.clarification_requested",
                                              before["program_date"])


def test_a_forged_workflow_start_makes_no_city(stack: Stack) -> None:
    forged = stack.stock(
        "workflow", "start", "--type", "City", "--task-queue", "wwc-certification",
        "-w", "city/us-forgedville-tx", "--input", json.dumps({
            "city_key": "us-forgedville-tx", "standards": [],
            "clock": {"origin_real": "2026-01-01T00:00:00Z",
                      "origin_program": "2026-01-01T00:00:00Z"}}))
    assert forged.returncode == 0, forged.stderr
    described = stack.stock("workflow", "describe", "-w", "city/us-forgedville-tx",
                            "-o", "json")
    status = json.loads(described.stdout)["workflowExecutionInfo"]["status"]
    for _ in range(60):
        if status != "WORKFLOW_EXECUTION_STATUS_RUNNING":
            break
        described = stack.stock("workflow", "describe", "-w", "city/us-forgedville-tx",
                                "-o", "json")
        status = json.loads(described.stdout)["workflowExecutionInfo"]["status"]
    assert status == "WORKFLOW_EXECUTION_STATUS_FAILED"
    assert stack.wwc("status", "us-forgedville-tx").returncode == 6
    # The id is free for the city's own join.
    stack.ok("join", "--name", "Forgedville, TX", "--country", "US", "--population", "50000")


def test_operators_read_the_history_through_the_codec_endpoint(stack: Stack) -> None:
    sealed = [event["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]
              ["input"]["args"]["payloads"][0]
              for event in stack.history()
              if "workflowExecutionUpdateAcceptedEventAttributes" in event]
    body = {"payloads": sealed}
    nobody = httpx.post(f"{stack.api}/codec/decode", json=body, timeout=60)
    assert nobody.status_code == 401
    reviewer = httpx.post(f"{stack.api}/codec/decode", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {stack.reviewer_token}"})
    assert reviewer.status_code == 403
    operator = httpx.post(f"{stack.api}/codec/decode", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {stack.operator_token}"})
    assert operator.status_code == 200, operator.text
    opened = [base64.b64decode(p["data"]) for p in operator.json()["payloads"]]
    assert any(EVIDENCE.encode() in data for data in opened)


def test_what_the_codec_endpoint_seals_is_never_taken_as_a_command(stack: Stack) -> None:
    plain = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
             "data": base64.b64encode(b'{"reason": "minted"}').decode()}
    minted = httpx.post(f"{stack.api}/codec/encode", json={"payloads": [plain]}, timeout=60,
                        headers={"Authorization": f"Bearer {stack.operator_token}"})
    assert minted.status_code == 200, minted.text
    [sealed] = minted.json()["payloads"]
    meta = {key: base64.b64decode(value).decode() for key, value in sealed["metadata"].items()}
    assert meta["encoding"] == "binary/encrypted"
    before = stack.city_events()
    forged = stack.stock("workflow", "update", "execute", "-w", WORKFLOW, "--name", "withdraw",
                         "--input", sealed["data"], "--input-base64",
                         *(arg for key, value in meta.items()
                           for arg in ("--input-meta", f"{key}={value}")))
    assert forged.returncode != 0, forged.stdout
    assert "unauthenticated" in forged.stdout + forged.stderr
    assert stack.city_events() == before
