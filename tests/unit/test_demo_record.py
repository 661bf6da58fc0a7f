"""The program's published record (the demo's default scenario) against the counts the
program published, and the demo summary's certified cities by year."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from domain.tiers import Tier
from infra.cli.demo import default_scenario
from infra.ops.demo import Scenario, ScenarioCity, certified_by_year, load_scenario

# What the program's announcements counted (the record's cohort notes give the sources).
# Only cohorts whose every city of that kind is named are listed: elsewhere the record
# names fewer than were announced, and never invents the rest.
PUBLISHED = {
    "N": {"2018-01": 9, "2019-04": 4, "2021-07": 16, "2021-12": 10, "2023-06": 7,
          "2024-01": 12, "2024-06": 9},
    "U": {"2019-04": 3, "2021-07": 3, "2023-06": 7, "2024-01": 6, "2024-06": 4},
    "R": {"2023-06": 7, "2024-01": 4},
    "HR": {"2018-01": 5, "2020-07": 4, "2021-07": 2},
}
# Cities certified since 2017, as announced with each cohort (83 + 21 new in 2025).
CERTIFIED_SINCE_2017 = {"2018-01": 9, "2019-04": 13, "2020-07": 24, "2021-07": 40,
                        "2021-12": 50, "2022-03": 55, "2023-06": 62, "2024-01": 74,
                        "2024-06": 83, "2025-06": 104}
# Where every certified city up to then is named, the record reaches the count exactly.
COMPLETE_UP_TO = "2019-04"


@pytest.fixture(scope="module")
def record() -> Scenario:
    scenario, _ = load_scenario(default_scenario())
    return scenario


def test_every_city_has_a_place_and_every_cohort_a_source(record: Scenario) -> None:
    names = {city.name for cohort in record.cohorts for city in cohort.cities}
    assert names <= set(record.places)
    assert all(cohort.source for cohort in record.cohorts)


def test_cohorts_are_named_by_their_month_and_list_a_city_once(record: Scenario) -> None:
    days = [cohort.announce_on for cohort in record.cohorts]
    assert days == sorted(set(days))
    for cohort in record.cohorts:
        assert cohort.id == f"{cohort.announce_on:%Y-%m}"
        names = [city.name for city in cohort.cities]
        assert len(names) == len(set(names)), cohort.id


@pytest.mark.parametrize("kind", sorted(PUBLISHED))
def test_each_cohort_has_its_published_size(record: Scenario, kind: str) -> None:
    counted = {cohort.id: sum(1 for city in cohort.cities if city.type == kind)
               for cohort in record.cohorts}
    assert {cohort: counted[cohort] for cohort in PUBLISHED[kind]} == PUBLISHED[kind]


def test_no_city_is_invented_to_fill_a_count(record: Scenario) -> None:
    seen: set[str] = set()
    for cohort in record.cohorts:
        seen |= {city.name for city in cohort.cities if city.tier.certified}
        if cohort.id in CERTIFIED_SINCE_2017:
            assert len(seen) <= CERTIFIED_SINCE_2017[cohort.id], cohort.id
        if cohort.id <= COMPLETE_UP_TO:
            assert len(seen) == CERTIFIED_SINCE_2017[cohort.id], cohort.id


def test_a_move_up_or_recertification_follows_from_the_record_or_says_why(
    record: Scenario,
) -> None:
    held: dict[str, Tier] = {}
    unexplained: list[str] = []
    for cohort in record.cohorts:
        for city in cohort.cities:
            before = held.get(city.name)
            if not _follows(city, before) and not city.note:
                unexplained.append(f"{cohort.id} {city.name}")
            if city.tier.certified:
                held[city.name] = city.tier
    assert unexplained == []


def _follows(city: ScenarioCity, before: Tier | None) -> bool:
    if city.type == "U":
        return before is not None and city.tier.rank > before.rank
    if city.type == "R":
        return before is city.tier
    return True


def test_certified_by_year_counts_what_was_held_on_each_years_last_day() -> None:
    periods = [
        ("silver", date(2018, 1, 25), date(2019, 4, 24)),  # replaced by its gold
        ("gold", date(2019, 4, 24), date(2022, 4, 24)),    # lapsed
        ("silver", date(2019, 12, 31), date(2020, 12, 31)),  # held on 2019-12-31 only
        ("gold", date(2020, 12, 31), None),                # replaced it on the day
        ("platinum", date(2024, 1, 23), None),
    ]
    years = certified_by_year(periods, date(2017, 7, 1), date(2024, 6, 30))
    assert [(y.year, y.on, dict(y.tiers), y.total) for y in years] == [
        (2017, date(2017, 12, 31), {}, 0),
        (2018, date(2018, 12, 31), {"silver": 1}, 1),
        (2019, date(2019, 12, 31), {"gold": 1, "silver": 1}, 2),
        (2020, date(2020, 12, 31), {"gold": 2}, 2),
        (2021, date(2021, 12, 31), {"gold": 2}, 2),
        (2022, date(2022, 12, 31), {"gold": 1}, 1),
        (2023, date(2023, 12, 31), {"gold": 1}, 1),
        (2024, date(2024, 6, 30), {"gold": 1, "platinum": 1}, 2),
    ]


def test_certified_by_year_over_the_whole_record_never_exceeds_its_cities(
    record: Scenario,
) -> None:
    # The record's own awards as periods (each lasting until the city's next award):
    # an upper bound on what the demo can hold at any year's end.
    periods: list[tuple[str, date, date | None]] = []
    last: dict[str, int] = {}
    for cohort in record.cohorts:
        for city in cohort.cities:
            if not city.tier.certified:
                continue
            if city.name in last:
                tier, awarded, _ = periods[last[city.name]]
                periods[last[city.name]] = (tier, awarded, cohort.announce_on)
            last[city.name] = len(periods)
            periods.append((city.tier.value, cohort.announce_on, None))
    years = certified_by_year(periods, record.start, date(2026, 12, 31))
    assert [y.year for y in years] == list(range(2017, 2027))
    assert all(y.total <= len(last) for y in years)
    assert Counter(p[0] for p in periods if p[2] is None) == years[-1].tiers
