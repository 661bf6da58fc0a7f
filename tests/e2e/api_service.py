"""`wwc up` serving the API on a free port, and clients for the program's people."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import WWC

ADMIN_EMAIL = "admin@program.test"
ADMIN_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ApiService:
    url: str
    env: dict[str, str]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=90)

    def sign_in(self, email: str, password: str) -> Person:
        client = self.client()
        answer = client.post("/api/session", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return Person(client, answer.json()["csrf_token"], answer.json()["account"])


@dataclass
class Person:
    """A signed-in browser: its cookie jar, and the CSRF token sent on every change."""

    http: httpx.Client
    csrf: str
    account: dict[str, Any]

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("POST", path, **kwargs)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    data_dir = tmp_path_factory.mktemp("wwc-api")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")}
    env |= {"WWC_DATA_DIR": str(data_dir), "WWC_LOG_FORMAT": "json",
            "WWC_HTTP_ADDRESS": f"127.0.0.1:{port}", "WWC_ADMIN_EMAIL": ADMIN_EMAIL,
            "WWC_ADMIN_PASSWORD": ADMIN_PASSWORD}
    log = data_dir / "up.log"
    process = subprocess.Popen([WWC, "up"], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while "wwc is up" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"wwc up did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield ApiService(url=f"http://127.0.0.1:{port}", env=env, log=log)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
