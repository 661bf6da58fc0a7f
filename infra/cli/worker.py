"""`wwc worker`: run the Temporal worker (activities and workflows) for this service."""

from __future__ import annotations

import asyncio

from infra.cli.common import cli_settings
from infra.platform.logs import configure_logging


def worker_command() -> None:
    """Run the worker until SIGINT/SIGTERM (then finish in-flight work and exit).

    Uses WWC_TEMPORAL_ADDRESS and WWC_DATABASE_URL, or starts the embedded Temporal dev
    server and PostgreSQL in WWC_DATA_DIR when they are not set."""
    from infra.bootstrap import serve_worker  # loaded by the command that runs it only

    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve_worker(settings))
