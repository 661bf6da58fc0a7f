"""Tracing is configured by the standard OpenTelemetry variables, and off by default."""

from __future__ import annotations

import pytest

from infra.platform.errors import UsageError
from infra.platform.tracing import wanted_exporter


@pytest.mark.parametrize(("environ", "wanted"), [
    ({}, None),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
    ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
    ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "Console"}, "console"),
])
def test_the_exporter_follows_the_standard_variables(environ: dict[str, str],
                                                     wanted: str | None) -> None:
    assert wanted_exporter(environ) == wanted


def test_an_unknown_exporter_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="OTEL_TRACES_EXPORTER='jaeger'"):
        wanted_exporter({"OTEL_TRACES_EXPORTER": "jaeger"})
