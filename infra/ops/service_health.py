"""`wwc status --service`: each part of the service, as it is, from the server's shell.

Nothing is started to answer: a PostgreSQL or a Temporal dev server that is not running
is reported so, never started for the check. The worker counts when one polls the task
queue: Temporal lists the recent pollers of a task queue with their identity (`PID@HOST`
by default) and their last poll, and keeps listing a dead worker for minutes, so a poller
on this host counts only while its process runs, and one elsewhere while it polled within
the last long poll."""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from infra.ops.stack import running_up
from infra.platform.config import Settings
from infra.platform.errors import describe
from infra.platform.net import split_address
from infra.platform.processes import live_process
from infra.postgres.db import EMBEDDED_DATABASE, create_pool, running_server_url
from infra.postgres.service_database import redact
from infra.readside.projections.lag import measure_projection_lag
from infra.temporal.environment import cluster_config, connect_client, namespace, running_dev_server

# A live worker polls again at least this often (a long poll lasts up to a minute).
POLLED_WITHIN = 75.0
CHECK_TIMEOUT = 5.0  # seconds for each part to answer


@dataclass
class Part:
    ok: bool
    detail: str

    @property
    def state(self) -> str:
        return "ok" if self.ok else "down"


@dataclass
class ServiceHealth:
    up_pid: int | None
    postgres: Part
    temporal: Part
    worker: Part
    api: Part
    events: int | None = None
    lag: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(part.ok for part in (self.postgres, self.temporal, self.worker, self.api))

    def parts(self) -> dict[str, Part]:
        return {"PostgreSQL": self.postgres, "Temporal": self.temporal,
                "Worker": self.worker, "API": self.api}

    def as_json(self) -> dict[str, Any]:
        return {"up": {"running": self.up_pid is not None, "pid": self.up_pid},
                "postgres": self.postgres.state, "temporal": self.temporal.state,
                "worker": self.worker.state, "api": self.api.state,
                "details": {"postgres": self.postgres.detail,
                            "temporal": self.temporal.detail,
                            "worker": self.worker.detail, "api": self.api.detail},
                "events": self.events, "lag": self.lag}


async def service_health(settings: Settings) -> ServiceHealth:
    data_dir = settings.data_dir.resolve()
    (postgres, events, lag), (temporal, worker), api = await asyncio.gather(
        _postgres(settings), _temporal_and_worker(settings), _api(settings))
    return ServiceHealth(running_up(data_dir), postgres, temporal, worker, api, events, lag)


async def _postgres(settings: Settings) -> tuple[Part, int | None, dict[str, int]]:
    url = settings.database_url or await asyncio.to_thread(
        running_server_url, settings.data_dir.resolve() / "postgres", EMBEDDED_DATABASE)
    if url is None:
        return Part(False, "not running (start it with `wwc up`)"), None, {}
    try:
        pool = await asyncio.wait_for(create_pool(url, size=1), CHECK_TIMEOUT)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return Part(False, f"cannot reach {redact(url)}: {describe(error) or 'timed out'}"), \
            None, {}
    try:
        events = int(await pool.fetchval("SELECT count(*) FROM wwc_events"))
        lag = await measure_projection_lag(pool)
    except (OSError, asyncpg.PostgresError) as error:
        return Part(False, f"{redact(url)}: {describe(error)}"), None, {}
    finally:
        await pool.close()
    return Part(True, f"{events:,} event{'' if events == 1 else 's'}"), events, lag


async def _temporal_and_worker(settings: Settings) -> tuple[Part, Part]:
    cannot_tell = Part(False, "unknown: Temporal is not reachable")
    if cluster_config(settings) is None:
        server = await asyncio.to_thread(running_dev_server, settings.data_dir.resolve())
        if server is None:
            return Part(False, "not running (start it with `wwc up`)"), cannot_tell
        address: str | None = server.address
    else:
        address = None
    try:
        client = await connect_client(settings, address, patience=CHECK_TIMEOUT)
        await asyncio.wait_for(client.service_client.check_health(), CHECK_TIMEOUT)
    except Exception as error:  # any failure to reach it is the answer
        return Part(False, f"cannot reach it: {describe(error)}"), cannot_tell
    where = address or str((cluster_config(settings) or {}).get("target_host", "the cluster"))
    return Part(True, where), await _worker(client, settings)


async def _worker(client: Client, settings: Settings) -> Part:
    queue = settings.task_queue
    try:
        answer = await asyncio.wait_for(client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(namespace=namespace(settings), task_queue=TaskQueue(
                name=queue), task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)),
            CHECK_TIMEOUT)
    except Exception as error:
        return Part(False, f"cannot list the pollers of {queue}: {describe(error)}")
    here = socket.gethostname()
    now = time.time()
    polling = sorted({poller.identity for poller in answer.pollers
                      if _polling(poller.identity, poller.last_access_time.ToSeconds(),
                                  here, now)})
    if not polling:
        return Part(False, f"no worker polls the task queue {queue} (start `wwc up` or "
                           "`wwc worker`)")
    return Part(True, f"{len(polling)} polling {queue}: {', '.join(polling)}")


def _polling(identity: str, last_poll: float, here: str, now: float) -> bool:
    pid, _, host = identity.partition("@")
    if host == here and pid.isdigit():
        return live_process(int(pid))
    return now - last_poll <= POLLED_WITHIN


async def _api(settings: Settings) -> Part:
    host, port = split_address(settings.http_address)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # listening everywhere: ask it here
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def get() -> int:
        with urllib.request.urlopen(f"{url}/healthz", timeout=CHECK_TIMEOUT) as answer:
            return int(answer.status)

    try:
        status = await asyncio.to_thread(get)
    except (OSError, urllib.error.URLError) as error:
        return Part(False, f"not answering at {url} ({getattr(error, 'reason', error)})")
    return Part(status == 200, f"{url}" if status == 200 else f"{url} answered {status}")
