"""Read models kept by catch-up projections."""

from __future__ import annotations

from typing import Any

import asyncpg

from infra.projections.accounts import AccountProjection
from infra.projections.base import Projection, Projector
from infra.projections.city_views import CityViewProjection
from infra.projections.cohorts import CohortProjection
from infra.projections.periods import PeriodProjection
from infra.projections.pipeline import PipelineProjection
from infra.projections.registry import RegistryProjection


def all_projections() -> list[Projection]:
    return [RegistryProjection(), CohortProjection(), PipelineProjection(), PeriodProjection(),
            AccountProjection(), CityViewProjection()]


def projector(pool: asyncpg.Pool[Any], page_size: int = 5000) -> Projector:
    return Projector(pool, all_projections(), page_size=page_size)


__all__ = ["Projection", "Projector", "all_projections", "projector"]
