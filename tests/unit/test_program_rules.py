from datetime import date

import pytest

from domain.eligibility import (
    AMERICAS,
    DEFAULT_ELIGIBILITY,
    first_eligible,
    ineligibility_reasons,
)
from domain.rules import ProgramRules


@pytest.mark.parametrize(
    ("country", "population", "on", "eligible"),
    [
        ("US", 30_000, date(2018, 1, 1), True),
        ("US", 29_999, date(2018, 1, 1), False),
        ("CA", 500_000, date(2022, 7, 31), False),  # the Americas opened in August 2022
        ("CA", 500_000, date(2022, 8, 1), True),
        ("BR", 400_000, date(2023, 1, 1), True),
        ("JM", 600_000, date(2023, 1, 1), True),  # the Caribbean is included
        ("FR", 2_000_000, date(2023, 1, 1), False),
        ("US", 100_000, date(2014, 1, 1), False),  # before the program existed
    ],
)
def test_eligibility_by_country_population_and_date(
    country: str, population: int, on: date, eligible: bool
) -> None:
    reasons = ineligibility_reasons(DEFAULT_ELIGIBILITY, country, population, on)
    assert (reasons == []) is eligible


def test_every_reason_is_given_at_once() -> None:
    reasons = ineligibility_reasons(DEFAULT_ELIGIBILITY, "MX", 10_000, date(2020, 1, 1))
    assert reasons == [
        "population 10,000 is below the 30,000 minimum",
        "country MX is not eligible on 2020-01-01 (U.S. cities only)",
    ]


def test_the_americas_include_north_central_south_and_the_caribbean() -> None:
    assert {"US", "CA", "MX", "GT", "PA", "CU", "PR", "AR", "BR", "UY"} <= AMERICAS
    assert "ES" not in AMERICAS
    assert "PT" not in AMERICAS


def test_certification_runs_three_years_to_the_day() -> None:
    rules = ProgramRules()
    assert rules.expiry(date(2024, 6, 17)) == date(2027, 6, 17)
    assert rules.expiry(date(2024, 2, 29)) == date(2027, 2, 28)


def test_reminders_default_to_180_and_60_days_before_expiry() -> None:
    assert ProgramRules().reminder_dates(date(2027, 6, 17)) == [
        (180, date(2026, 12, 19)), (60, date(2027, 4, 18))]


def test_reminder_lead_times_are_configurable_and_validated() -> None:
    assert ProgramRules(reminder_lead_days=(30, 90)).reminder_lead_days == (90, 30)
    with pytest.raises(ValueError, match="positive"):
        ProgramRules(reminder_lead_days=(0,))


def test_first_eligible_date_by_country() -> None:
    assert first_eligible(DEFAULT_ELIGIBILITY, "us") == date(2015, 4, 1)
    assert first_eligible(DEFAULT_ELIGIBILITY, "BR") == date(2022, 8, 1)
    assert first_eligible(DEFAULT_ELIGIBILITY, "FR") is None
