"""Retrying a `wwc` command that ended "unavailable" (issue 20, finding 3): the CLI says
how to retry it, the retry with that request id runs the command once, and a plain rerun
of a command whose effect already holds records nothing and says so.

The deployment here is the production shape: a Temporal server and PostgreSQL of their
own (the test suite's), and `wwc worker` as a process, stopped to make a command go
unanswered and started again for its retry."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from domain.streams import city_key
from tests.e2e.conftest import RunWwc, clean_env
from tests.temporal import TEST_PAYLOAD_KEYS, start_worker

pytestmark = pytest.mark.e2e
RETRY = re.compile(r"retry with: (wwc .*--request-id [A-Za-z0-9._:-]+)$")


def _env(tmp_path: Path, temporal_env: WorkflowEnvironment, db_url: str) -> dict[str, str]:
    return clean_env(tmp_path, WWC_DATABASE_URL=db_url,
                     WWC_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
                     WWC_PAYLOAD_KEYS=TEST_PAYLOAD_KEYS,
                     WWC_TASK_QUEUE=f"retries-{uuid.uuid4().hex[:8]}")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0


def _events(wwc: RunWwc, env: dict[str, str], key: str) -> Counter[str]:
    found = wwc("history", key, "--json", env=env)
    assert found.returncode == 0, found.stderr
    return Counter(ev["type"] for ev in json.loads(found.stdout))


def test_a_command_left_unanswered_is_retried_with_the_printed_id_and_runs_once(
    wwc: RunWwc, temporal_env: WorkflowEnvironment, db_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, temporal_env, db_url)
    name = f"Retryville {uuid.uuid4().hex[:6]}, NV"
    key = city_key("US", name)
    assessment = tmp_path / "assessment.yaml"
    assessment.write_text(yaml.safe_dump({
        "standard": "wwc-2022", "criteria": {"DM1": True, "DM2": True},
        "evidence": {"DM1": ["https://x.gov/dm1"], "DM2": ["https://x.gov/dm2"]},
        "outcomes": {"broadband": True}}))
    reviewer = f"retries-{uuid.uuid4().hex[:6]}@rfa.test"
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        for args in (("users", "add", reviewer, "--role", "reviewer"),
                     ("join", "--name", name, "--country", "US", "--population", "50000"),
                     ("assessment", "submit", key, str(assessment)),
                     ("review", "assign", key, reviewer)):
            done = wwc(*args, env=env)
            assert done.returncode == 0, (args, done.stderr)

        # No worker answers: the command ends "unavailable" and prints how to retry it.
        _stop(worker)
        unanswered = wwc("review", "record", key, "DM1", "--met",
                         env={**env, "WWC_COMMAND_TIMEOUT": "2"})
        assert unanswered.returncode == 5, unanswered.stderr
        assert unanswered.stderr.count("\n") == 1, unanswered.stderr  # one line
        assert "no worker answered within 2 s" in unanswered.stderr
        found = RETRY.search(unanswered.stderr.strip())
        assert found, unanswered.stderr
        retry = shlex.split(found.group(1))
        assert retry[:5] == ["wwc", "review", "record", key, "DM1"]

        # The worker is back: the command left pending runs, and its retry gets its answer.
        worker = start_worker(env, tmp_path / "worker.log")
        retried = wwc(*retry[1:], env=env)
        assert retried.returncode == 0, retried.stderr
        assert "nothing new" not in retried.stdout
        assert _events(wwc, env, key)["review.criterion_reviewed"] == 1

        # A plain rerun (a new request id) of what is already recorded records nothing.
        rerun = wwc("review", "record", key, "DM1", "--met", env=env)
        assert rerun.returncode == 0, rerun.stderr
        assert "nothing new recorded: DM1 was already recorded as met" in rerun.stdout
        again = wwc("review", "assign", key, reviewer, "--json", env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["nothing_new"] == (
            f"{reviewer} is already assigned to application 1")
        changed = wwc("review", "record", key, "DM1", "--not-met", env=env)
        assert changed.returncode == 0, changed.stderr
        assert "nothing new" not in changed.stdout
        events = _events(wwc, env, key)
        assert (events["review.reviewer_assigned"], events["review.criterion_reviewed"]) == (1, 2)

        bad = wwc("review", "record", key, "DM1", "--request-id", "not an id!", env=env)
        assert bad.returncode == 2
        assert "--request-id" in bad.stderr
    finally:
        if worker.poll() is None:
            _stop(worker)


def test_a_cohort_created_again_with_its_request_id_answers_as_the_first_time(
    wwc: RunWwc, temporal_env: WorkflowEnvironment, db_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, temporal_env, db_url)
    cohort = f"retry-{uuid.uuid4().hex[:8]}"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        request = uuid.uuid4().hex
        first = wwc("cohort", "create", cohort, "--date", tomorrow, "--request-id", request,
                    env=env)
        assert first.returncode == 0, first.stderr
        assert "nothing new" not in first.stdout
        again = wwc("cohort", "create", cohort, "--date", tomorrow, "--request-id", request,
                    env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(first.stdout)
        assert f"nothing new recorded: cohort {cohort} was already created by this request" \
            in again.stdout
        other = wwc("cohort", "create", cohort, "--date", tomorrow, env=env)
        assert other.returncode == 4, other.stderr
        assert f"cohort {cohort} already exists" in other.stderr

        announced = wwc("cohort", "announce", cohort, "--request-id", request, env=env)
        assert announced.returncode == 0, announced.stderr
        # Its workflow has ended with the announcement; Temporal still has the update's
        # outcome, and a retry with its request id gets it.
        retried = wwc("cohort", "announce", cohort, "--request-id", request, env=env)
        assert (retried.returncode, retried.stdout) == (0, announced.stdout), retried.stderr
        # A retry of another request finds it announced: answered with the announcement.
        other_retry = wwc("cohort", "announce", cohort, "--request-id", "another", env=env)
        assert other_retry.returncode == 0, other_retry.stderr
        assert f"nothing new recorded: cohort {cohort} was already announced on" \
            in other_retry.stdout
        twice = wwc("cohort", "announce", cohort, env=env)  # not a retry: refused
        assert twice.returncode == 4
        assert "already announced" in twice.stderr
    finally:
        _stop(worker)


def test_accounts_and_tokens_retried_with_their_request_id_are_made_once(
    wwc: RunWwc, temporal_env: WorkflowEnvironment, db_url: str, tmp_path: Path
) -> None:
    """A retry finds the account (or token) its request made; the password (or token)
    that request made was never shown, so the retry prints a new one in its place."""
    env = _env(tmp_path, temporal_env, db_url)
    email = f"ed-{uuid.uuid4().hex[:6]}@retry.test"
    add = ("users", "add", email, "--role", "operator", "--request-id", "add-1")
    first = wwc(*add, env=env)
    assert first.returncode == 0, first.stderr
    again = wwc(*add, env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing new recorded: this request created the account" in again.stdout
    password = again.stdout.split("one-time password: ")[1].strip()
    assert password
    assert password not in first.stdout
    assert first.stdout.splitlines()[0] == again.stdout.splitlines()[1]  # the same account
    other = wwc(*add[:-2], env=env)  # another request: the account exists
    assert (other.returncode, "already exists" in other.stderr) == (4, True), other.stderr

    issue = ("tokens", "create", email, "--name", "intake", "--request-id", "tok-1")
    token = wwc(*issue, env=env)
    retried = wwc(*issue, env=env)
    assert (token.returncode, retried.returncode) == (0, 0), retried.stderr
    assert "nothing new recorded: this request issued the token" in retried.stdout
    assert token.stdout.split()[1] == retried.stdout.splitlines()[1].split()[1]  # its id
    assert token.stdout.splitlines()[-1] != retried.stdout.splitlines()[-1]
    listed = json.loads(wwc("tokens", "list", "--json", env=env).stdout)
    assert [t["name"] for t in listed if t["email"] == email] == ["intake"]

    disable = ("users", "disable", email, "--reason", "left", "--request-id", "off-1")
    assert wwc(*disable, env=env).returncode == 0
    done = wwc(*disable, env=env)
    assert done.returncode == 0, done.stderr
    assert f"nothing new recorded: {email} was already disabled" in done.stdout
