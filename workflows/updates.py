"""The one table from command type to workflow update. Clients send a command with
`send(key, command)` and never spell an update's name; the workflows declare their
updates from this table, and a unit test checks that each entry is a handler taking
exactly that command type."""

from __future__ import annotations

from collections.abc import Mapping

from domain import commands

CITY_UPDATES: Mapping[type[commands.Command], str] = {
    commands.JoinNetwork: "join",
    commands.SaveAssessment: "save_assessment",
    commands.SubmitAssessment: "submit_assessment",
    commands.TouchDraft: "touch_draft",
    commands.AssignReviewer: "assign_reviewer",
    commands.RecordCriterionReview: "record_review",
    commands.RecordReviews: "record_reviews",
    commands.RequestClarification: "request_clarification",
    commands.AnswerClarification: "answer_clarification",
    commands.CompleteReview: "complete_review",
    commands.Decide: "decide",
    commands.Reapply: "reapply",
    commands.Withdraw: "withdraw",
    commands.Announce: "announce",
}

COHORT_UPDATES: Mapping[type[commands.Command], str] = {
    commands.AnnounceCohort: "announce_now",
}


def city_update(command_type: type[commands.Command]) -> str:
    return CITY_UPDATES[command_type]


def cohort_update(command_type: type[commands.Command]) -> str:
    return COHORT_UPDATES[command_type]
