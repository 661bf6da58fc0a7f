"""The rows of the read models, one small frozen model each, as the queries answer them
(`infra/readside/queries.py`): what the CLI, the web, the demo and the audit read, by
attribute, checked by mypy. Fields carry the column types as PostgreSQL hands them over
(`numeric` a Decimal, `date` a date) and, where a row mirrors a table, its columns in the
table's order: the CLI's and the API's JSON keep that order (pinned by
tests/integration/test_read_outputs.py).

Pydantic, like the rest of the code base. Measured against frozen dataclasses (10,000 rows,
on a shared 2-core machine): the registry's 26 columns 65-85 ms either way; the public
registry's 8 columns 30-40 ms against 15-25 ms. The most any reader takes is the portal's
registry page (up to 10,000 certified cities), where rendering the table costs far more."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class ReadRow(BaseModel):
    """A row as read: immutable, and refusing a column it does not name (a query and its
    model that drift apart fail at once, rather than drop a column silently)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def columns(cls) -> str:
        """The model's fields as a SELECT list, in their order."""
        return ", ".join(cls.model_fields)


class RegistryRow(ReadRow):
    """The certification registry (`wwc_registry`): one row per city in the program."""

    city_key: str
    name: str
    country: str
    population: int
    joined_on: date
    status: str
    tier: str
    standard_id: str | None
    cohort_id: str | None
    awarded_on: date | None
    expires_on: date | None
    last_outcome: str | None
    last_decision_tier: str | None
    last_decision_on: date | None
    last_percent: Decimal | None
    honor_roll: bool
    applications: int
    application_stage: str | None
    open_clarifications: int
    reminders_sent: int
    held_pending_renewal: bool
    lapsed_on: date | None
    withdrawn: bool
    updated_on: date
    latitude: float | None
    longitude: float | None


class PipelineRow(ReadRow):
    """The application pipeline (`wwc_pipeline`): a city's open application, its stage
    since when, and its reviewer."""

    city_key: str
    application: int
    standard_id: str
    reapplication: bool
    stage: str
    stage_since: date
    open_clarifications: int
    opened_on: date
    reviewer: str | None


class QueuedReview(ReadRow):
    """An application in a reviewer's queue: the pipeline's row with the city's name."""

    city_key: str
    name: str
    application: int
    standard_id: str
    stage: str
    stage_since: date
    open_clarifications: int
    reviewer: str


class CohortCity(ReadRow):
    """A city announced in a cohort (`wwc_cohort_cities`)."""

    city_key: str
    name: str
    tier: str


class CohortRow(ReadRow):
    """A cohort (`wwc_cohorts`) with the cities announced in it, by name."""

    cohort_id: str
    announce_on: date
    announced_on: date | None
    city_count: int
    cities: tuple[CohortCity, ...]


class AnnouncedCohort(CohortRow):
    """A cohort already announced: what the public may see."""

    announced_on: date


class CertifiedCity(ReadRow):
    """A city holding an announced certification (`wwc_certification_periods` with the
    registry's name and country): a row of the public registry."""

    city_key: str
    name: str
    country: str
    tier: str
    standard_id: str
    cohort_id: str
    awarded_on: date
    expires_on: date


class CertificationPeriod(ReadRow):
    """One announced certification of a city: which tier from when until when, and how
    it ended (`ended_on` None: in force)."""

    tier: str
    standard_id: str
    cohort_id: str
    awarded_on: date
    expires_on: date
    ended_on: date | None
    outcome: str


class CertifiedCityPage(CertifiedCity):
    """A city certified now, with every announced certification it held, oldest first."""

    history: tuple[CertificationPeriod, ...]


class MapPlace(ReadRow):
    """Where a certified city is, for the public map (no location: not drawn)."""

    city_key: str
    name: str
    tier: str
    latitude: float | None
    longitude: float | None


class DecidingEvent(ReadRow):
    """The event that decided a certification: its place in the city's hash chain."""

    stream_version: int
    position: int
    hash: str
    decided_on: date | None
    percent: str | None


class Certificate(CertificationPeriod):
    """One announced certification of a city certified now, the event that decided it
    (None if the log has none before its announcement) and the city's public page."""

    city_key: str
    decided: DecidingEvent | None
    city: CertifiedCityPage


class AnnouncedCertification(ReadRow):
    """One announced certification, as open data publishes it: the period
    (`wwc_certification_periods`) with the city's name and country, the hash of the event
    that decided it (None if the log has none before its announcement), and whether the
    city holds a certification now (its certificates' pages are public only then)."""

    city_key: str
    name: str
    country: str
    tier: str
    standard_id: str
    cohort_id: str
    awarded_on: date
    expires_on: date
    ended_on: date | None
    decision_hash: str | None
    city_certified_now: bool


class OutboxMessage(ReadRow):
    """A message of the program's outgoing mail (`wwc_outbox`), without its body."""

    message_id: str
    created_at: datetime
    sent_at: datetime | None
    recipient: str
    language: str
    city_key: str
    kind: str
    subject: str
    status: str
    attempts: int
    last_error: str | None


class CityFact(ReadRow):
    """What the operators' numbers read of one city event (`infra/readside/numbers.py`):
    its type and day, and the few fields they count by (None where the event has none)."""

    city_key: str
    type: str
    on: date
    reviewer: str | None = None  # a reviewer assigned
    clarification: int | None = None  # a clarification asked or answered
    deadline: str | None = None  # a deadline reached: its key ("review:2026-01-05:due")
    kind: str | None = None  # ... its kind (review, clarification, draft)
    step: str | None = None  # ... its step (reminder, due, nudge)
    certified: bool | None = None  # a decision: whether its tier certifies


class TeamMember(ReadRow):
    """A reviewer's account, as the staff pick whose history of reviews to read."""

    email: str
    display_name: str
