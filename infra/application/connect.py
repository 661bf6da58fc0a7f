"""Connecting a front door to the running service: the Temporal client, the standards
and the deployment's program clock, from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from infra.application.service import ProgramService
from infra.clockfile import load_clock
from infra.config import Settings
from infra.standards import StandardsFolder
from infra.temporal_env import connect_client, service_temporal_address


@asynccontextmanager
async def open_program(settings: Settings | None = None) -> AsyncIterator[ProgramService]:
    """The program service of the deployment `settings` describe (from the environment by
    default). Raises `Unavailable` when the service is not running."""
    settings = settings or Settings.from_env()
    client = await connect_client(settings, await service_temporal_address(settings))
    yield ProgramService(client, settings.task_queue,
                         catalog=StandardsFolder(settings.effective_standards_dir).load(),
                         clock=load_clock(settings.data_dir))
