"""Loading the standards catalog (shipped files plus the operator's folder)."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from activities.contracts import LOAD_STANDARDS, LoadStandardsRequest, LoadStandardsResponse
from infra.standards import load_catalog


class CatalogActivities:
    def __init__(self, standards_dir: Path) -> None:
        self._dir = standards_dir

    @activity.defn(name=LOAD_STANDARDS)
    async def load_standards(self, request: LoadStandardsRequest) -> LoadStandardsResponse:
        catalog = load_catalog([self._dir] if self._dir.is_dir() else [])
        return LoadStandardsResponse(standards=tuple(catalog.values()))
