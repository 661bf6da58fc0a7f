"""Program rules: the durations and bars the program sets, kept as data (not constants
scattered in code) so operators can change them and tests can compress them."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from pydantic import Field, field_validator

from domain.eligibility import DEFAULT_ELIGIBILITY, EligibilityPeriod
from domain.model import Frozen


class ProgramRules(Frozen):
    validity_years: int = Field(default=3, ge=1)
    # Renewal reminders, in days before expiry.
    reminder_lead_days: tuple[int, ...] = (180, 60)
    # Honor Roll (as run 2018-2021): cities below silver with at least this share of
    # criteria met. None = no Honor Roll.
    honor_roll_percent: Fraction | None = None
    # Whether a criterion claimed as met must link its supporting documentation.
    require_evidence: bool = True
    # At launch a city that did not qualify could reapply every other year; not
    # established since, so the default is no wait.
    not_certified_reapply_wait_days: int = Field(default=0, ge=0)
    eligibility: tuple[EligibilityPeriod, ...] = DEFAULT_ELIGIBILITY
    # Deadlines (domain/deadlines.py), in days. A clarification is due this long after it
    # is asked, with a reminder to the city this long before; a review is due this long
    # after its reviewer is assigned, with a reminder to the reviewer this long before,
    # then escalation to the operators; a draft untouched this long gets a nudge.
    clarification_due_days: int = Field(default=30, ge=1)
    clarification_reminder_days: int = Field(default=7, ge=0)
    review_due_days: int = Field(default=45, ge=1)
    review_reminder_days: int = Field(default=7, ge=0)
    draft_nudge_days: int = Field(default=60, ge=1)
    # How far ahead a cohort may be announced: a date beyond is a typo (9999-12-31), and
    # its certifications' expiry would fall outside the calendar.
    cohort_horizon_years: int = Field(default=3, ge=1, le=100)
    # Evidence documents (domain/documents.py): the largest file a city may upload, and
    # the most bytes an application's documents may take together (each file counted
    # once). Checked where the bytes arrive (the upload's door: `check_upload`), the same
    # at every door.
    document_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    city_documents_max_bytes: int = Field(default=500 * 1024 * 1024, ge=1)

    @field_validator("reminder_lead_days")
    @classmethod
    def _positive_descending(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(days <= 0 for days in value):
            raise ValueError("reminder lead times must be positive numbers of days")
        return tuple(sorted(set(value), reverse=True))

    def expiry(self, announced_on: date) -> date:
        """Same calendar day `validity_years` later (29 February falls back to the 28th)."""
        return _years_after(announced_on, self.validity_years)

    def latest_cohort_date(self, today: date) -> date:
        """The last day a cohort created today may be announced on."""
        return _years_after(today, self.cohort_horizon_years)

    def reminder_dates(self, expires_on: date) -> list[tuple[int, date]]:
        return [(days, expires_on - timedelta(days=days)) for days in self.reminder_lead_days]


def _years_after(day: date, years: int) -> date:
    """Same calendar day `years` later (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
