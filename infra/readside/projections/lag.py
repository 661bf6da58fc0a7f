"""How far each read model is behind the log, as the `wwc_projection_lag_events` gauge
says it (`wwc status --service`)."""

from __future__ import annotations

from typing import Any

import asyncpg

from infra.platform.metrics import PROJECTION_LAG
from infra.readside.projections import projector


async def measure_projection_lag(pool: asyncpg.Pool[Any]) -> dict[str, int]:
    read_models = projector(pool)
    lags = {name: await read_models.pending(name) for name in read_models.projections}
    for name, lag in lags.items():
        PROJECTION_LAG.labels(name).set(lag)
    return lags
