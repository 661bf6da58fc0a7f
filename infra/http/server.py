"""Serving the API in this process's event loop (beside the worker in `wwc up`, alone in
`wwc serve`), with the read models kept current in the background and a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog
import uvicorn
from temporalio.client import Client

from infra.application import ProgramService
from infra.application.drafts import Drafts
from infra.clockfile import load_clock
from infra.config import Settings
from infra.eventstore.postgres import PostgresEventStore
from infra.http.app import build_app
from infra.http.services import HttpServices
from infra.identity.reviewers import ReadModelReviewers
from infra.projections import projector
from infra.service_database import open_pool
from infra.standards import StandardsFolder

log = structlog.get_logger("wwc.http")
CATCH_UP_EVERY = 0.25  # seconds between background catch-ups of the read models


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process that runs it (`wwc up`,
    `wwc serve`) owns SIGINT and SIGTERM and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"WWC_HTTP_ADDRESS {address!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


async def _keep_read_models_current(pool: asyncpg.Pool[Any], services: HttpServices) -> None:
    """Writes through the API bring their read models up to date before answering; this
    follows the program's other writers (timers, cohorts, the CLI, other servers)."""
    while True:
        try:
            read_models = projector(pool)
            await read_models.catch_up_all()
            services.generations.saw(await read_models.positions())
        except Exception as error:  # a restarting database: say so, try again shortly
            log.warning("read models not caught up", error=type(error).__name__)
        await asyncio.sleep(CATCH_UP_EVERY)


@asynccontextmanager
async def running_api(settings: Settings, client: Client) -> AsyncIterator[str]:
    """The API served at `settings.http_address` until the block exits; its base URL."""
    host, port = split_address(settings.http_address)
    async with open_pool(settings) as pool:
        catalog = StandardsFolder(settings.effective_standards_dir).load()
        program = ProgramService(
            client, settings.task_queue, catalog=catalog, clock=load_clock(settings.data_dir),
            drafts=Drafts(PostgresEventStore(pool), catalog), reviewers=ReadModelReviewers(pool))
        services = HttpServices.build(program, pool, settings,
                                      secure_cookies=settings.secure_cookies)
        app = build_app(services)
        server = _EmbeddedServer(uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
            http="httptools",
            timeout_graceful_shutdown=10, server_header=False))
        serving = asyncio.create_task(server.serve())
        background = asyncio.create_task(_keep_read_models_current(pool, services))
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # raises what stopped it (e.g. the port is taken)
                    raise RuntimeError("the API server stopped while starting")
                await asyncio.sleep(0.05)
            bound = server.servers[0].sockets[0].getsockname()[1] if port == 0 else port
            url = f"http://{host}:{bound}"
            log.info("api started", url=url)
            yield url
        finally:
            server.should_exit = True
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            await serving
