"""Tracing end to end: `wwc up` configured by the standard OpenTelemetry variables sends
its spans over OTLP/HTTP to a collector (here a small receiver in the test), and one
request's trace runs from the HTTP span through the Temporal update to the workflow's
handling of it and the event append."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService
from tests.e2e.conftest import clean_env, free_port, wwc_up

# Our own trace id: the API continues the caller's trace (W3C traceparent).
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@dataclass
class Collected:
    spans: list[tuple[str, str, str]] = field(default_factory=list)  # name, trace, service
    lock: threading.Lock = field(default_factory=threading.Lock)

    def in_trace(self, trace_id: str) -> set[str]:
        with self.lock:
            return {name for name, trace, _ in self.spans if trace == trace_id}


@contextmanager
def collector() -> Iterator[tuple[str, Collected]]:
    """An OTLP/HTTP trace receiver on loopback, keeping each span's name and trace id."""
    collected = Collected()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            with collected.lock:
                for resource in request.resource_spans:
                    service = next((a.value.string_value for a in resource.resource.attributes
                                    if a.key == "service.name"), "")
                    for scope in resource.scope_spans:
                        collected.spans += [(s.name, s.trace_id.hex(), service)
                                            for s in scope.spans]
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", collected
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_is_traced_from_http_through_the_workflow_to_the_append(
    tmp_path: Path,
) -> None:
    with collector() as (endpoint, collected):
        env = clean_env(tmp_path, WWC_ADMIN_EMAIL=ADMIN_EMAIL,
                        WWC_ADMIN_PASSWORD=ADMIN_PASSWORD,
                        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="wwc-test",
                        OTEL_BSP_SCHEDULE_DELAY="100")
        log = tmp_path / "up.log"
        with wwc_up(env, log):
            service = ApiService(url=f"http://{env['WWC_HTTP_ADDRESS']}", env=env, log=log)
            admin = service.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
            joined = admin.post("/api/cities", headers={"traceparent": TRACEPARENT},
                                json={"name": "Tempe, AZ", "country": "US",
                                      "population": 180_587})
            assert joined.status_code == 201, joined.text

            deadline = time.monotonic() + 30
            while not {"POST /api/cities", "HandleUpdate:join"} <= collected.in_trace(
                    TRACE_ID) or not any(name.startswith("RunActivity:append_events")
                                         for name in collected.in_trace(TRACE_ID)):
                assert time.monotonic() < deadline, sorted(collected.in_trace(TRACE_ID))
                time.sleep(0.2)

    names = collected.in_trace(TRACE_ID)
    # The client's side of the update, in the same trace.
    assert any("Update" in name and name != "HandleUpdate:join" for name in names), names
    assert {service for _, _, service in collected.spans} == {"wwc-test"}
    # Nothing of another request strays into this trace: the sign-in has its own.
    assert "POST /api/session" not in names
