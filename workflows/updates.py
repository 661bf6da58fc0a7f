"""The tables from a command type to what carries it. Clients send a command with
`send(key, command)` and never spell an update's name: `CARRIERS` says how each command a
client may send reaches what records it, and the workflows declare their updates from
`CITY_UPDATES` and `COHORT_UPDATES`. A unit test (`tests/unit/test_wiring.py`) checks
that every command has its carrier, that each update is a handler taking exactly its
command type, and that the tables agree."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from domain import accounts, commands


class Carrier(StrEnum):
    """How a command a client sends reaches the stream that records it."""

    # The city's workflow, started by the first join (update-with-start).
    UPDATE_WITH_START = "update-with-start"
    # An update of the city's running workflow.
    CITY_UPDATE = "city update"
    # The city's draft stream, appended without a workflow update (domain/drafts.py).
    DRAFT_STREAM = "draft stream"
    # The city's review sheet stream, appended without a workflow update
    # (domain/review_sheets.py).
    REVIEW_SHEET_STREAM = "review sheet stream"
    # A cohort's workflow, started for it.
    COHORT_START = "cohort start"
    # An update of a cohort's running workflow.
    COHORT_UPDATE = "cohort update"
    # An account's stream, appended by the accounts' directory (no workflow).
    ACCOUNT_STREAM = "account stream"


CARRIERS: Mapping[type[commands.Command] | type[accounts.AccountCommand], Carrier] = {
    commands.JoinNetwork: Carrier.UPDATE_WITH_START,
    commands.SaveAssessment: Carrier.DRAFT_STREAM,
    commands.SubmitAssessment: Carrier.CITY_UPDATE,
    commands.TouchDraft: Carrier.CITY_UPDATE,
    commands.AddDocument: Carrier.CITY_UPDATE,
    commands.RemoveDocument: Carrier.CITY_UPDATE,
    commands.AssignReviewer: Carrier.CITY_UPDATE,
    commands.RecordCriterionReview: Carrier.CITY_UPDATE,
    commands.RecordReviews: Carrier.CITY_UPDATE,
    commands.SaveReviewSheet: Carrier.REVIEW_SHEET_STREAM,
    commands.RequestClarification: Carrier.CITY_UPDATE,
    commands.AnswerClarification: Carrier.CITY_UPDATE,
    commands.CompleteReview: Carrier.CITY_UPDATE,
    commands.Decide: Carrier.CITY_UPDATE,
    commands.Reapply: Carrier.CITY_UPDATE,
    commands.Withdraw: Carrier.CITY_UPDATE,
    commands.Announce: Carrier.CITY_UPDATE,
    commands.CreateCohort: Carrier.COHORT_START,
    commands.AnnounceCohort: Carrier.COHORT_UPDATE,
    accounts.CreateAccount: Carrier.ACCOUNT_STREAM,
    accounts.DisableAccount: Carrier.ACCOUNT_STREAM,
    accounts.IssueToken: Carrier.ACCOUNT_STREAM,
    accounts.RevokeToken: Carrier.ACCOUNT_STREAM,
    accounts.SetDigest: Carrier.ACCOUNT_STREAM,
    accounts.InviteAccount: Carrier.ACCOUNT_STREAM,
    accounts.ResendInvitation: Carrier.ACCOUNT_STREAM,
    accounts.SendPasswordReset: Carrier.ACCOUNT_STREAM,
    accounts.UseLink: Carrier.ACCOUNT_STREAM,
    accounts.ChangePassword: Carrier.ACCOUNT_STREAM,
    accounts.SetOneTimePassword: Carrier.ACCOUNT_STREAM,
    accounts.EnableAccount: Carrier.ACCOUNT_STREAM,
}

# The program's own commands: each workflow gives them to itself (a timer, a child's
# result), never a client; no carrier reaches them from outside.
INTERNAL: frozenset[type[commands.Command]] = frozenset({
    commands.RecordDecision, commands.SendRenewalReminder, commands.Expire,
    commands.ReachDeadline, commands.AddToCohort})

CITY_UPDATES: Mapping[type[commands.Command], str] = {
    commands.JoinNetwork: "join",
    commands.SaveAssessment: "save_assessment",
    commands.SubmitAssessment: "submit_assessment",
    commands.TouchDraft: "touch_draft",
    commands.AddDocument: "add_document",
    commands.RemoveDocument: "remove_document",
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
