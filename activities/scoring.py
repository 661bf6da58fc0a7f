"""Scoring as an activity: its result is recorded in the workflow's history, so a later
change of the scorer never changes the replay of a running workflow."""

from __future__ import annotations

from temporalio import activity

from activities.contracts import SCORE_APPLICATION, ScoreRequest
from domain.report import Report, build_report


@activity.defn(name=SCORE_APPLICATION)
async def score_application(request: ScoreRequest) -> Report:
    return build_report(request.standard, request.answers,
                        honor_roll_percent=request.honor_roll_percent)
