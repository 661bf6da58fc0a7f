"""The application pipeline: which city is at which stage, since when."""

from __future__ import annotations

from typing import Any

from domain import events
from domain.streams import CITY_STREAM_PREFIX
from infra.eventstore.model import RecordedEvent
from infra.readside.projections.base import KeyedRowProjection, Row, day
from infra.readside.projections.stages import advance_stage


class PipelineProjection(KeyedRowProjection):
    name = "pipeline"
    table = "wwc_pipeline"
    key = "city_key"
    stream_prefix = CITY_STREAM_PREFIX
    columns = ("city_key", "application", "standard_id", "reapplication", "stage",
               "stage_since", "open_clarifications", "opened_on", "reviewer")
    event_types = frozenset(cls.TYPE for cls in (
        events.ApplicationOpened, events.AssessmentSubmitted, events.ReviewerAssigned,
        events.ClarificationRequested, events.ClarificationAnswered, events.ReviewCompleted,
        events.CertificationDecided, events.CertificationAnnounced, events.CityWithdrew,
    ))

    def reduce(self, row: Row | None, event_type: str, data: dict[str, Any],
               event: RecordedEvent) -> Row | None:
        if event_type == events.ApplicationOpened.TYPE:
            row = {"city_key": event.stream_id[len(CITY_STREAM_PREFIX):],
                   "application": data["number"], "standard_id": data["standard_id"],
                   "reapplication": data["reapplication"], "opened_on": day(data["on"]),
                   "application_stage": None}
        if row is None:
            return None
        row = {**row, "application_stage": row.get("application_stage", row.get("stage"))}
        if event_type == events.ReviewerAssigned.TYPE:
            row["reviewer"] = data["reviewer"]
        advance_stage(row, event_type, data)
        stage = row.pop("application_stage")
        return None if stage is None else {**row, "stage": stage}
