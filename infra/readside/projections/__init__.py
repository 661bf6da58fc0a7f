"""Read models kept by catch-up projections."""

from __future__ import annotations

from typing import Any

import asyncpg

from infra.readside.projections.accounts import AccountProjection
from infra.readside.projections.base import Projection, Projector
from infra.readside.projections.city_views import CityViewProjection
from infra.readside.projections.cohorts import CohortProjection
from infra.readside.projections.periods import PeriodProjection
from infra.readside.projections.pipeline import PipelineProjection
from infra.readside.projections.registry import RegistryProjection


def all_projections() -> list[Projection]:
    return [RegistryProjection(), CohortProjection(), PipelineProjection(), PeriodProjection(),
            AccountProjection(), CityViewProjection()]


def projector(pool: asyncpg.Pool[Any], page_size: int = 5000) -> Projector:
    return Projector(pool, all_projections(), page_size=page_size)


__all__ = ["Projection", "Projector", "all_projections", "projector"]
