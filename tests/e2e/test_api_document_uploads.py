"""Document uploads against the running service (`wwc up`: PostgreSQL, Temporal, the API)
where the in-process tests cannot reach: parallel uploads racing for the city's limit, and
bodies the client cuts off before their end. The city's limit is set to 1 MB so the files
stay small."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person
from tests.e2e.conftest import clean_env, wwc_up

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password for tests"
RACING = "us-durham-nc"
CUT = "us-tempe-az"
MB = 1024 * 1024
# Each file takes 30% of the city's 1 MB: of six sent at once, three fit.
FILE_BYTES = 300_000


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    data_dir = tmp_path_factory.mktemp("wwc-uploads")
    env = clean_env(data_dir, WWC_ADMIN_EMAIL=ADMIN_EMAIL, WWC_ADMIN_PASSWORD=ADMIN_PASSWORD,
                    WWC_CITY_DOCUMENTS_LIMIT_MB="1", WWC_DOCUMENT_LIMIT_MB="1")
    log = data_dir / "up.log"
    with wwc_up(env, log):
        yield ApiService(url=f"http://{env['WWC_HTTP_ADDRESS']}", env=env, log=log)


@dataclass
class City:
    key: str
    editor: Person


def joined(api: ApiService, key: str, name: str) -> City:
    admin = api.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    email = f"editor@{key}.test"
    made = admin.post("/api/accounts", json={
        "email": email, "display_name": key, "role": "city_editor", "password": PASSWORD,
        "cities_to_join": [{"name": name, "country": "US"}]})
    assert made.status_code == 201, made.text
    editor = api.sign_in(email, PASSWORD)
    city = editor.post("/api/cities", json={"name": name, "country": "US",
                                            "population": 200_000})
    assert (city.status_code, city.json()["city_key"]) == (201, key), city.text
    return City(key, editor)


def text_file(label: str, size: int = FILE_BYTES) -> bytes:
    line = f"{label}: minutes of the data governance committee\n".encode()
    return (line * (size // len(line) + 1))[:size]


def document_events(city: City) -> list[dict[str, Any]]:
    answer = city.editor.get(f"/api/cities/{city.key}/history")
    assert answer.status_code == 200, answer.text
    return [e for e in answer.json() if e["type"].startswith("evidence.document")]


def documents_dir(api: ApiService) -> Path:
    return Path(api.env["WWC_DATA_DIR"]) / "documents"


def stored_blobs(api: ApiService) -> set[str]:
    return {p.name for p in documents_dir(api).rglob("*")
            if p.is_file() and ".spool" not in p.parts}


def spool_files(api: ApiService) -> list[Path]:
    spool = documents_dir(api) / ".spool"
    return sorted(spool.iterdir()) if spool.is_dir() else []


def upload_path(city: City, name: str) -> str:
    return f"/api/cities/{city.key}/documents?criterion=DM1&name={name}"


def test_parallel_uploads_never_take_the_city_past_its_limit(api: ApiService) -> None:
    """Six uploads sent at once, each checked while none is recorded yet: only as many as
    the city's 1 MB holds are recorded (three), the others are refused with the limit's
    code, and none of the refused ones leaves its bytes in the store."""
    city = joined(api, RACING, "Durham, NC")
    files = {f"minutes-{n}.txt": text_file(f"meeting {n}") for n in range(6)}
    # Every body waits here after its first bytes, so all six requests are in before any
    # is complete: each one's check runs while the others are still arriving.
    started = threading.Barrier(len(files), timeout=60)

    def body(data: bytes) -> Iterator[bytes]:
        yield data[:1024]
        started.wait()
        yield data[1024:]

    def send(name: str) -> httpx.Response:
        with httpx.Client(base_url=api.url, cookies=city.editor.http.cookies,
                          timeout=90) as client:
            return client.post(upload_path(city, name), content=body(files[name]),
                               headers={"X-CSRF-Token": city.editor.csrf,
                                        "Content-Type": "text/plain"})

    with ThreadPoolExecutor(len(files)) as pool:
        answers = dict(zip(files, pool.map(send, files), strict=True))

    kept = {name for name, answer in answers.items() if answer.status_code == 201}
    refused = {name: answer.json() for name, answer in answers.items() if name not in kept}
    assert len(kept) == 3, {name: a.status_code for name, a in answers.items()}
    assert {(p["status"], p["code"]) for p in refused.values()} == {
        (413, "city_documents_too_large")}, refused
    assert all(p["detail"].startswith("body: ") and "\n" not in p["detail"]
               for p in refused.values())
    digests = {hashlib.sha256(files[name]).hexdigest() for name in kept}
    listed = city.editor.get(f"/api/cities/{city.key}/documents").json()["documents"]
    assert {d["sha256"] for d in listed} == digests
    assert sum(d["size"] for d in listed) <= MB
    assert [e["type"] for e in document_events(city)] == ["evidence.document_added"] * 3
    # Nothing half-stored: only the recorded files' bytes are kept, no spool is left.
    assert stored_blobs(api) == digests
    assert spool_files(api) == []


def raw_upload(api: ApiService, city: City, name: str, head: bytes, sent: bytes) -> bytes:
    """Sends `head` (the request line and headers) and `sent` of the body, then ends its
    half of the connection; what the server answered (b"" when it could not)."""
    host, port = api.env["WWC_HTTP_ADDRESS"].rsplit(":", 1)
    cookie = "; ".join(f"{k}={v}" for k, v in city.editor.http.cookies.items())
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST {upload_path(city, name)} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Cookie: {cookie}\r\nX-CSRF-Token: {city.editor.csrf}\r\n"
                     f"Idempotency-Key: {name}\r\nContent-Type: text/plain\r\n".encode()
                     + head + b"\r\n" + sent)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


def settled(api: ApiService) -> None:
    """Waits (bounded) until the server has let go of every spool file."""
    deadline = time.monotonic() + 30
    while spool_files(api) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert spool_files(api) == [], "a cut-off upload's spool file was left behind"


def chunked(data: bytes, size: int = 16_384) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                    for i in range(0, len(data), size))


def test_an_upload_cut_off_before_its_end_records_nothing_and_can_be_sent_again(
        api: ApiService) -> None:
    """A body shorter than its Content-Length, and a chunked body without its last
    chunk: refused as the client's (400 when an answer can still be sent), no event, no
    spool file, no blob; the same upload sent whole afterwards, under the same
    Idempotency-Key, is recorded."""
    city = joined(api, CUT, "Tempe, AZ")
    data = text_file("budget hearing", 200_000)
    digest = hashlib.sha256(data).hexdigest()
    before = stored_blobs(api)

    short = raw_upload(api, city, "hearing.txt", f"Content-Length: {len(data)}\r\n".encode(),
                       data[:len(data) // 2])
    endless = raw_upload(api, city, "hearing.txt", b"Transfer-Encoding: chunked\r\n",
                         chunked(data[:len(data) // 2]))
    for answer in (short, endless):
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer[:300]
    settled(api)
    assert document_events(city) == []
    assert stored_blobs(api) == before

    whole = city.editor.post(upload_path(city, "hearing.txt"), content=data,
                             headers={"Content-Type": "text/plain",
                                      "Idempotency-Key": "hearing.txt"})
    assert whole.status_code == 201, whole.text
    assert whole.json()["sha256"] == digest
    assert [e["type"] for e in document_events(city)] == ["evidence.document_added"]
    assert stored_blobs(api) == before | {digest}
    assert spool_files(api) == []
    assert "Traceback" not in api.log.read_text()
