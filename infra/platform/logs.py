"""structlog configuration: JSON lines for services (with workflow id, run id and activity
bound by the worker), readable lines on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.types import EventDict

# Keys whose values never reach a log line, whatever logged them (defence in depth: our
# own code logs none of them).
SECRET_KEYS = frozenset({"password", "token", "api_key", "authorization", "cookie",
                         "session", "session_id", "csrf", "csrf_token", "secret",
                         "set-cookie"})


def redact_secrets(_logger: object, _method: str, event: EventDict) -> EventDict:
    for key in event.keys() & SECRET_KEYS:
        event[key] = "[redacted]"
    return event


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    as_json = (fmt or ("console" if sys.stderr.isatty() else "json")) == "json"
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            redact_secrets,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
