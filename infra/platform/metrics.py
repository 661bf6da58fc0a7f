"""Our Prometheus metrics (the API serves them at `/metrics`; a lone `wwc worker` on
WWC_METRICS_ADDRESS), and the Temporal SDK's own runtime metrics on their endpoint
(WWC_TEMPORAL_METRICS_ADDRESS): workflow and activity task latencies, poll counts, sticky
cache hits, and the rest the SDK reports."""

from __future__ import annotations

from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_APPENDED = Counter(
    "wwc_events_appended_total", "Domain events appended to the event store by the worker",
    ["stream_kind"], registry=REGISTRY)
REFUSALS = Counter(
    "wwc_command_refusals_total", "Commands the program's rules refused, by refusal code",
    ["code"], registry=REGISTRY)
ACTIVITY_RETRIES = Counter(
    "wwc_activity_retries_total", "Activity attempts after the first, by activity",
    ["activity"], registry=REGISTRY)
PROJECTION_LAG = Gauge(
    "wwc_projection_lag_events", "Events of its types a read model has not applied yet",
    ["projection"], registry=REGISTRY)
PROJECTION_FAILING = Gauge(
    "wwc_projection_failing", "1 while a read model's catch-up keeps failing (the service "
    "is then not ready), else 0", ["projection"], registry=REGISTRY)
PROJECTION_FAILURES = Counter(
    "wwc_projection_failures_total", "Failed catch-ups of a read model by the API's "
    "background loop", ["projection"], registry=REGISTRY)
HTTP_REQUESTS = Histogram(
    "wwc_http_request_seconds", "HTTP requests by route template, method and status",
    ["route", "method", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(address: str) -> None:
    """Our metrics on their own port (for a process without the API)."""
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1", registry=REGISTRY)


@cache
def temporal_runtime(address: str) -> Runtime:
    """One runtime per process whose SDK metrics are served at `address` (HOST:PORT)."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
