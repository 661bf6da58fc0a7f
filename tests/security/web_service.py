"""Helpers for the web's side-door tests: `wwc up` (and a second API, `wwc serve`, behind
a trusted proxy) on one data directory, and a look into its database."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.api_service import ApiService, Person
from tests.e2e.conftest import WWC, clean_env, free_port


def query(data_dir: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of `sql` on the service's embedded database (the test looks behind the API)."""

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(host=str(data_dir / "postgres"), user="postgres",
                                     database="wwc")
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


@contextmanager
def second_api(api: ApiService, **extra: str) -> Iterator[str]:
    """`wwc serve` on the same data directory (its PostgreSQL and Temporal), on a port of
    its own, with `extra` settings; its base URL."""
    env = {**api.env, "WWC_HTTP_ADDRESS": f"127.0.0.1:{free_port()}", **extra}
    log = Path(api.env["WWC_DATA_DIR"]) / f"serve-{env['WWC_HTTP_ADDRESS'][-5:]}.log"
    process = subprocess.Popen([WWC, "serve"], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while "API: http" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"wwc serve did not start:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        yield f"http://{env['WWC_HTTP_ADDRESS']}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def access_lines(log: Path, path: str) -> list[dict[str, Any]]:
    """The access log's lines for `path`, oldest first."""
    lines = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and f'"path": "{path}"' in line:
            found = json.loads(line)
            if found.get("event") == "request":
                lines.append(found)
    return lines


def sign_in(url: str, email: str, password: str) -> Person:
    client = httpx.Client(base_url=url, timeout=90)
    answer = client.post("/api/session", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return Person(client, answer.json()["csrf_token"], answer.json()["account"])


__all__ = ["access_lines", "clean_env", "query", "second_api", "sign_in"]
