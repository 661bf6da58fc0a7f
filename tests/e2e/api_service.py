"""`wwc up` serving the API on a free port, and clients for the program's people."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import clean_env, wwc_up

ADMIN_EMAIL = "admin@program.test"
ADMIN_PASSWORD = "correct horse battery staple"


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


@contextmanager
def serving(data_dir: Path) -> Iterator[ApiService]:
    """`wwc up` on its own data directory and port, with a known first administrator."""
    env = clean_env(data_dir, WWC_ADMIN_EMAIL=ADMIN_EMAIL, WWC_ADMIN_PASSWORD=ADMIN_PASSWORD)
    log = data_dir / "up.log"
    with wwc_up(env, log):
        yield ApiService(url=f"http://{env['WWC_HTTP_ADDRESS']}", env=env, log=log)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    with serving(tmp_path_factory.mktemp("wwc-api")) as service:
        yield service
