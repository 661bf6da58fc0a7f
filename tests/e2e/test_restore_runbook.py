"""The README's runbook for restoring a backup, followed as written: a program backed up
from one data directory and restored into a new one (a new PostgreSQL cluster, an empty
Temporal) serves every old event and every new one, with the same read models, the same
accounts and passwords, and no second first administrator."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import stat
import subprocess
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import yaml

from infra.blobs.disk import DiskBlobStore
from infra.postgres.db import stop_embedded_server
from tests.e2e.conftest import REPO, WWC, clean_env, wwc_up

pytestmark = pytest.mark.e2e
MARK = "<!-- runbook: restore"
SCENARIO = {
    "title": "Restore scenario", "start": "2023-01-02", "end": "2024-07-01",
    "days_per_second": 40, "lead_days": 200,
    "cohorts": [
        {"id": "2023-09", "announce_on": "2023-09-01", "standard": "wwc-2022", "cities": [
            {"name": "Boise, ID", "country": "US", "population": 235684, "tier": "gold"},
            {"name": "Recife", "country": "BR", "population": 1488920, "tier": "silver"},
            {"name": "Tiny Test, ID", "country": "US", "population": 40000, "tier": "none",
             "type": "HR"}]},
        {"id": "2024-06", "announce_on": "2024-06-01", "standard": "wwc-2022", "cities": [
            {"name": "Recife", "country": "BR", "population": 1488920, "tier": "platinum",
             "type": "U"}]}]}


def runbook() -> list[list[str]]:
    """The commands of the README's restore runbook, in order (comments dropped)."""
    text = (REPO / "README.md").read_text()
    block = text.split(MARK, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.strip()]


def run(args: list[str], env: dict[str, str], cwd: Path,
        timeout: float = 240) -> subprocess.CompletedProcess[str]:
    assert args[0] == "wwc", args
    done = subprocess.run([WWC, *args[1:]], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def readings(env: dict[str, str], cwd: Path) -> dict[str, object]:
    """What operators read of the program: the registry, cohorts, a city's history."""
    history = json.loads(run(["wwc", "history", "br-recife", "--json"], env, cwd).stdout)
    return {"list": json.loads(run(["wwc", "list", "--json"], env, cwd).stdout),
            "cohorts": json.loads(run(["wwc", "cohorts", "--json"], env, cwd).stdout),
            "history": [(e["type"], e["version"]) for e in history]}


def verified(env: dict[str, str], cwd: Path) -> tuple[int, int]:
    """Events and streams in the log, every hash chain checked."""
    found = json.loads(run(["wwc", "verify", "--json"], env, cwd).stdout)
    assert found["ok"], found
    return found["events"], found["streams"]


async def keep_document(data_dir: Path, body: bytes) -> str:
    """A document in the data directory's store, as an upload keeps it."""
    store = DiskBlobStore(data_dir / "documents")

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    staged = await store.stage(chunks(), limit=len(body))
    await store.commit(staged)
    return staged.sha256


def test_the_restore_runbook_brings_the_program_back_in_a_new_data_directory(
    tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old = clean_env(old_dir, COLUMNS="120")
    try:
        played = run(["wwc", "demo", "--scenario", str(scenario)], old, tmp_path)
        found = re.search(r"password (\S+) \(shown this once\)", played.stdout)
        assert found is not None, played.stdout
        password = found.group(1)
        before = readings(old, tmp_path)
        stored = verified(old, tmp_path)
        document = asyncio.run(keep_document(old_dir, b"%PDF-1.7 open data policy"))
        run(["wwc", "backup", "wwc-backup.dump"], old, tmp_path)
    finally:
        stop_embedded_server(old_dir / "postgres")
    assert stat.S_IMODE((tmp_path / "wwc-backup.dump").stat().st_mode) == 0o600

    new = clean_env(new_dir, COLUMNS="120")
    steps = runbook()
    assert [s[:2] for s in steps] == [["wwc", "restore"], ["wwc", "verify"],
                                      ["wwc", "projections"], ["wwc", "up"],
                                      ["wwc", "recover"], ["wwc", "audit"]]
    with ExitStack() as running:
        for step in steps:
            if step == ["wwc", "up"]:
                running.enter_context(wwc_up(new, new_dir / "up.log"))
            else:
                run(step, new, tmp_path)
        up_log = (new_dir / "up.log").read_text()
        assert "First admin" not in up_log  # the restored accounts are there
        assert readings(new, tmp_path) == before
        assert verified(new, tmp_path) == stored  # none lost, none doubled
        assert (new_dir / "clock.json").read_text() == (old_dir / "clock.json").read_text()
        # The evidence documents are back in the new data directory's store, sound.
        assert asyncio.run(DiskBlobStore(new_dir / "documents").verify(document)) is None

        # The restored accounts sign in with their passwords.
        api = f"http://{new['WWC_HTTP_ADDRESS']}"
        signed = httpx.post(f"{api}/api/session",
                            json={"email": "admin@wwc.local", "password": password})
        assert signed.status_code == 200, signed.text

        # New commands are recorded after the restored events and read back.
        run(["wwc", "join", "--name", "Tulsa, OK", "--country", "US",
             "--population", "413066"], new, tmp_path)
        keys = {row["city_key"] for row in json.loads(
            run(["wwc", "list", "--json"], new, tmp_path).stdout)}
        assert keys == {"us-boise-id", "br-recife", "us-tiny-test-id", "us-tulsa-ok"}
        assert verified(new, tmp_path) == (stored[0] + 2, stored[1] + 1)  # joined, opened
        run(["wwc", "audit"], new, tmp_path)
