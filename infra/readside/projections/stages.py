"""An application's stage over read-model rows, shared by the registry and the pipeline
projections. The transitions themselves are the domain's (`stage_after`); this only keeps
the open-clarification count and the date the stage began."""

from __future__ import annotations

from typing import Any

from domain import events
from domain.city_state import Stage
from domain.lifecycle import stage_after
from infra.readside.projections.base import Row, day

_ASKED = events.ClarificationRequested.TYPE
_ANSWERED = events.ClarificationAnswered.TYPE
_OPENED = events.ApplicationOpened.TYPE


def advance_stage(row: Row, event_type: str, data: dict[str, Any]) -> None:
    """Update `application_stage`, `open_clarifications` and `stage_since` in place."""
    stored = row.get("application_stage")
    stage = Stage(stored) if stored else None
    open_questions = 0 if event_type == _OPENED else row.get("open_clarifications", 0)
    if event_type == _ASKED:
        open_questions += 1
    elif event_type == _ANSWERED:
        open_questions = max(open_questions - 1, 0)
    new = stage_after(stage, event_type, clarifications_open=open_questions,
                      certified=data.get("tier", "none") != "none")
    if new != stage or event_type == _OPENED:
        row["stage_since"] = day(data["on"])
    row["application_stage"] = new.value if new else None
    row["open_clarifications"] = open_questions if new is not None else 0
