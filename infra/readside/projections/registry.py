"""The certification registry: each city's status, tier, standard, award and expiry dates
and last outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain import events
from domain.city_state import Stage, derive_status
from domain.streams import CITY_STREAM_PREFIX
from infra.eventstore.model import RecordedEvent
from infra.readside.projections.base import KeyedRowProjection, Row, day
from infra.readside.projections.stages import advance_stage


class RegistryProjection(KeyedRowProjection):
    name = "registry"
    table = "wwc_registry"
    key = "city_key"
    stream_prefix = CITY_STREAM_PREFIX
    columns = (
        "city_key", "name", "country", "population", "joined_on", "status", "tier",
        "standard_id", "cohort_id", "awarded_on", "expires_on", "last_outcome",
        "last_decision_tier", "last_decision_on", "last_percent", "honor_roll", "applications",
        "application_stage", "open_clarifications", "reminders_sent", "held_pending_renewal",
        "lapsed_on",
        "withdrawn", "updated_on", "latitude", "longitude",
    )
    event_types = frozenset(cls.TYPE for cls in (
        events.CityJoined, events.CityWithdrew, events.ApplicationOpened,
        events.AssessmentSubmitted, events.ReviewerAssigned, events.ClarificationRequested,
        events.ClarificationAnswered, events.ReviewCompleted, events.CertificationDecided,
        events.CertificationAnnounced, events.RenewalReminderSent,
        events.CertificationHeldPendingRenewal, events.CertificationLapsed,
    ))

    def reduce(self, row: Row | None, event_type: str, data: dict[str, Any],
               event: RecordedEvent) -> Row | None:
        if event_type == events.CityJoined.TYPE:
            row = {**(row or {}), "city_key": data["city_key"], "name": data["name"],
                   "country": data["country"], "population": data["population"],
                   "joined_on": day(data["on"]), "withdrawn": False, "tier": "none",
                   "honor_roll": False, "applications": (row or {}).get("applications", 0),
                   "reminders_sent": 0, "held_pending_renewal": False,
                   "latitude": (data.get("location") or (None, None))[0],
                   "longitude": (data.get("location") or (None, None))[1]}
            for column in ("standard_id", "cohort_id", "awarded_on", "expires_on",
                           "application_stage"):
                row[column] = None
        if row is None:
            return None  # an event before the join: nothing to show
        if event_type == events.ApplicationOpened.TYPE:
            row["applications"] = data["number"]
            if row["tier"] == "none":  # a certified city keeps its awarded standard
                row["standard_id"] = data["standard_id"]
        advance_stage(row, event_type, data)
        _REDUCERS.get(event_type, _unchanged)(row, data)
        row["updated_on"] = day(data["on"])
        return row

    def finish(self, row: Row) -> Row:
        stage = row.get("application_stage")
        row["status"] = derive_status(
            joined=True, withdrawn=row["withdrawn"], certified=row["tier"] != "none",
            reminders_sent=row["reminders_sent"] > 0,
            stage=Stage(stage) if stage else None,
            lapsed=row.get("last_outcome") == "lapsed",
        ).value
        return row


def _unchanged(row: Row, data: dict[str, Any]) -> None:
    return None


def _decided(row: Row, data: dict[str, Any]) -> None:
    row.update(last_decision_tier=data["tier"], last_decision_on=day(data["on"]),
               last_percent=Decimal(str(data["percent"])), honor_roll=data["honor_roll"])


def _announced(row: Row, data: dict[str, Any]) -> None:
    row.update(tier=data["tier"], standard_id=data["standard_id"], cohort_id=data["cohort_id"],
               awarded_on=day(data["on"]), expires_on=day(data["expires_on"]),
               last_outcome=data["outcome"], reminders_sent=0,
               held_pending_renewal=False, lapsed_on=None, honor_roll=False)


def _reminded(row: Row, data: dict[str, Any]) -> None:
    row["reminders_sent"] = row["reminders_sent"] + 1


def _held(row: Row, data: dict[str, Any]) -> None:
    row["held_pending_renewal"] = True


def _lapsed(row: Row, data: dict[str, Any]) -> None:
    row.update(tier="none", cohort_id=None, awarded_on=None, expires_on=None,
               last_outcome="lapsed", lapsed_on=day(data["on"]), reminders_sent=0,
               held_pending_renewal=False)


def _withdrew(row: Row, data: dict[str, Any]) -> None:
    row.update(withdrawn=True, tier="none", expires_on=None,
               awarded_on=None, cohort_id=None, reminders_sent=0, held_pending_renewal=False)


_REDUCERS = {
    events.CertificationDecided.TYPE: _decided,
    events.CertificationAnnounced.TYPE: _announced,
    events.RenewalReminderSent.TYPE: _reminded,
    events.CertificationHeldPendingRenewal.TYPE: _held,
    events.CertificationLapsed.TYPE: _lapsed,
    events.CityWithdrew.TYPE: _withdrew,
}
