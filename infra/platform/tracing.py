"""Optional OpenTelemetry tracing, configured the OpenTelemetry way (by environment).

Off unless asked for: set `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) to send traces over OTLP/HTTP to a collector, or
`OTEL_TRACES_EXPORTER=console` to print them; `OTEL_SDK_DISABLED=true` or
`OTEL_TRACES_EXPORTER=none` turns it off again. The exporter reads its own settings
(`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, ...) and the service is named by
`OTEL_SERVICE_NAME` (default `wwc`).

When on, one trace follows a command end to end: the HTTP request's span (continuing the
caller's `traceparent` when it sends one), the Temporal client's update, the workflow's
handling of it and the activities it runs (Temporal's `TracingInterceptor`, which carries
the context in Temporal headers from the client to the worker)."""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from temporalio.contrib.opentelemetry import TracingInterceptor

from infra.platform.errors import UsageError

_provider: TracerProvider | None = None
_tracer = trace.get_tracer("wwc")


def wanted_exporter(environ: Mapping[str, str]) -> str | None:
    """`otlp`, `console`, or None (tracing off), from the standard variables."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    chosen = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if chosen in ("none", "console", "otlp"):
        return None if chosen == "none" else chosen
    if chosen:
        raise UsageError(f"OTEL_TRACES_EXPORTER={chosen!r}: use otlp, console or none")
    if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return "otlp"
    return None


def configure_tracing(environ: Mapping[str, str] | None = None,
                      exporter: SpanExporter | None = None) -> bool:
    """Install the tracer provider once per process when tracing is wanted (or when an
    `exporter` is given, as tests do); True when tracing is on."""
    global _provider
    if _provider is not None:
        return True
    env = os.environ if environ is None else environ
    if exporter is None:
        kind = wanted_exporter(env)
        if kind is None:
            return False
        if kind == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create(
        {"service.name": env.get("OTEL_SERVICE_NAME", "wwc")}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    atexit.register(flush_tracing)
    return True


def flush_tracing() -> None:
    """Send what is buffered (the CLI leaves with os._exit, past atexit)."""
    if _provider is not None:
        _provider.force_flush()


def tracing_on() -> bool:
    return _provider is not None


def temporal_interceptors() -> list[Any]:
    """The Temporal client's interceptors for tracing (a worker made from the client takes
    them too): none while tracing is off."""
    return [TracingInterceptor()] if _provider is not None else []


@contextmanager
def request_span(method: str, path: str,
                 headers: Iterable[tuple[bytes, bytes]]) -> Iterator[Any]:
    """The span of one HTTP request (its ASGI headers), current while the request is
    handled, continuing the caller's trace when it sends `traceparent`. None while tracing
    is off, and then the headers are not even read: this is on every request's path."""
    if _provider is None:
        yield None
        return
    carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers}
    with _tracer.start_as_current_span(
            f"{method} {path}", context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path}) as span:
        yield span
