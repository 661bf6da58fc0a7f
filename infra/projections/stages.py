"""How application events move a city's application from stage to stage; shared by the
registry and the pipeline projections (the decider's own rules, restated over rows)."""

from __future__ import annotations

from typing import Any

from domain.lifecycle import Stage
from infra.projections.base import Row, day

_CLOSING = {"certification.announced", "city.withdrew"}


def advance_stage(row: Row, event_type: str, data: dict[str, Any]) -> None:
    """Update `application_stage`, `open_clarifications` and `stage_since` in place."""
    stage = row.get("application_stage")
    new: str | None = stage
    if event_type == "application.opened":
        new = Stage.ASSESSING.value
        row["open_clarifications"] = 0
    elif event_type == "assessment.submitted":
        new = Stage.SUBMITTED.value
    elif event_type == "review.reviewer_assigned" and stage == Stage.SUBMITTED.value:
        new = Stage.UNDER_REVIEW.value
    elif event_type == "review.clarification_requested":
        row["open_clarifications"] = row.get("open_clarifications", 0) + 1
        new = Stage.AWAITING_CLARIFICATION.value
    elif event_type == "review.clarification_answered":
        row["open_clarifications"] = max(row.get("open_clarifications", 0) - 1, 0)
        new = (Stage.AWAITING_CLARIFICATION.value if row["open_clarifications"]
               else Stage.UNDER_REVIEW.value)
    elif event_type == "review.completed":
        new = Stage.REVIEW_COMPLETE.value
    elif event_type == "certification.decided":
        new = None if data["tier"] == "none" else Stage.DECIDED.value
    elif event_type in _CLOSING:
        new = None
    if new != stage or event_type == "application.opened":
        row["stage_since"] = day(data["on"])
    row["application_stage"] = new
    if new is None:
        row["open_clarifications"] = 0
