"""Loading the standards catalog (shipped files plus the operator's folder), so workflows
pick up a new standard at their next cycle."""

from __future__ import annotations

from temporalio import activity

from activities.contracts import LOAD_STANDARDS, LoadStandardsRequest, LoadStandardsResponse
from activities.ports import StandardsSource


class CatalogActivities:
    def __init__(self, source: StandardsSource) -> None:
        self._source = source

    @activity.defn(name=LOAD_STANDARDS)
    async def load_standards(self, request: LoadStandardsRequest) -> LoadStandardsResponse:
        return LoadStandardsResponse(standards=tuple(self._source.load().values()))
