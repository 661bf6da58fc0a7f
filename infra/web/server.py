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

from infra.platform.net import split_address
from infra.readside.projections import projector
from infra.web.app import build_app
from infra.web.services import HttpServices

log = structlog.get_logger("wwc.http")
CATCH_UP_EVERY = 0.25  # seconds between background catch-ups of the read models


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process that runs it (`wwc up`,
    `wwc serve`) owns SIGINT and SIGTERM and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _keep_read_models_current(pool: asyncpg.Pool[Any], services: HttpServices) -> None:
    """Writes through the API bring their read models up to date before answering; this
    follows the program's other writers (timers, cohorts, the CLI, other servers). Each
    read model on its own, so one that fails does not hold the others back; its failures
    are remembered (`ReadModelHealth`: /readyz, the metrics and a log line per change),
    not logged at every attempt."""
    read_models = projector(pool)
    health = services.health.read_models
    while True:
        for name in read_models.projections:
            try:
                await read_models.catch_up(name)
            except Exception as error:  # a restarting database, a read model that breaks
                health.failed(name, error)
            else:
                health.succeeded(name)
        # Told even when some failed: the others' kept answers must still move on.
        with contextlib.suppress(Exception):
            services.generations.saw(await read_models.positions())
        await asyncio.sleep(CATCH_UP_EVERY)


@asynccontextmanager
async def serving(services: HttpServices, *, graceful_shutdown: int = 10) -> AsyncIterator[str]:
    """The API and the portal over `services` (built by the composition root,
    `infra.bootstrap.running_api`), served at the settings' `http_address` until the block
    exits; its base URL. Requests still in flight when it stops get `graceful_shutdown`
    seconds to finish."""
    settings, pool = services.settings, services.pool
    host, port = split_address(settings.http_address)
    app = build_app(services)
    proxies = settings.trusted_proxy_list
    server = _EmbeddedServer(uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
        http="httptools",
        # X-Forwarded-For / -Proto only from the proxies named in WWC_TRUSTED_PROXIES.
        # uvicorn's own default believes any process on this machine (127.0.0.1), so a
        # local caller could pick the address the sign-in throttle and the access log
        # see; with no proxy named, the socket's peer is the client.
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or [],
        timeout_graceful_shutdown=graceful_shutdown, server_header=False))
    task = asyncio.create_task(server.serve())
    background = asyncio.create_task(_keep_read_models_current(pool, services))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it (e.g. the port is taken)
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
        await task
