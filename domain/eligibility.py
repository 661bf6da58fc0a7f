"""Who may join: population floor and the countries open to the program, by date."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

# ISO 3166-1 alpha-2 codes of North, Central and South America, the Caribbean included
# (sovereign states and the territories that lie there).
NORTH_AMERICA = frozenset({"CA", "US", "MX", "BM", "GL", "PM"})
CENTRAL_AMERICA = frozenset({"BZ", "CR", "SV", "GT", "HN", "NI", "PA"})
CARIBBEAN = frozenset({
    "AG", "BS", "BB", "CU", "DM", "DO", "GD", "HT", "JM", "KN", "LC", "VC", "TT",
    "AI", "AW", "BQ", "CW", "KY", "GP", "MQ", "MS", "PR", "BL", "MF", "SX", "TC", "VG", "VI",
})
SOUTH_AMERICA = frozenset({
    "AR", "BO", "BR", "CL", "CO", "EC", "GY", "PY", "PE", "SR", "UY", "VE", "FK", "GF",
})
AMERICAS = NORTH_AMERICA | CENTRAL_AMERICA | CARIBBEAN | SOUTH_AMERICA


class EligibilityPeriod(BaseModel):
    """The eligibility rule in force from `effective_from` until the next period starts."""

    model_config = ConfigDict(frozen=True)

    effective_from: date
    countries: frozenset[str]
    min_population: int = Field(default=30_000, ge=0)
    label: str


DEFAULT_ELIGIBILITY: tuple[EligibilityPeriod, ...] = (
    EligibilityPeriod(
        effective_from=date(2015, 4, 1), countries=frozenset({"US"}), label="U.S. cities only"
    ),
    # Version 3.0 of the standard (August 2022) opened the program to the whole Americas.
    EligibilityPeriod(
        effective_from=date(2022, 8, 1), countries=AMERICAS,
        label="cities of North, Central and South America",
    ),
)


def period_on(periods: tuple[EligibilityPeriod, ...], on: date) -> EligibilityPeriod | None:
    in_force = [p for p in periods if p.effective_from <= on]
    return max(in_force, key=lambda p: p.effective_from) if in_force else None


def first_eligible(periods: tuple[EligibilityPeriod, ...], country: str) -> date | None:
    """The first date on which cities of `country` could join (None: never)."""
    dates = [p.effective_from for p in periods if country.upper() in p.countries]
    return min(dates) if dates else None


def ineligibility_reasons(
    periods: tuple[EligibilityPeriod, ...], country: str, population: int, on: date
) -> list[str]:
    """Every reason a city may not join on `on`; empty when it may."""
    period = period_on(periods, on)
    if period is None:
        return [f"the program was not open on {on.isoformat()}"]
    reasons = []
    if population < period.min_population:
        reasons.append(
            f"population {population:,} is below the {period.min_population:,} minimum"
        )
    if country.upper() not in period.countries:
        reasons.append(
            f"country {country.upper()} is not eligible on {on.isoformat()} ({period.label})"
        )
    return reasons
