"""The program in numbers (`infra/readside/numbers.py`) over the small program of
`tests/numbers_program.py`, figure by figure, worked out by hand from its table; the
nearest-rank percentile on its edges; and the as-of boundary: nothing recorded after the
day moves a figure."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from math import ceil
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.events import Event, event_to_data
from domain.percentiles import median, nearest_rank
from infra.eventstore.model import RecordedEvent
from infra.platform.errors import InvalidInput
from infra.readside.numbers import (
    FACT_TYPES,
    ProgramNumbers,
    as_of_day,
    program_numbers,
    sample_days,
)
from infra.readside.numbers_reader import city_fact
from infra.readside.rows import AnnouncedCertification, CityFact
from tests.numbers_program import ANA, BASE, BRUNO, program


def recorded(stream: str, version: int, event: Event) -> RecordedEvent:
    return RecordedEvent(position=version, tx_id=1, stream_id=stream, stream_version=version,
                         event_id=uuid.uuid4(), event_type=event.TYPE, schema_version=1,
                         data=event_to_data(event), metadata={},
                         recorded_at=datetime.now(UTC))


def facts_of(streams: dict[str, list[Event]]) -> list[CityFact]:
    return [city_fact(recorded(stream, version, event))
            for stream, stream_events in streams.items()
            for version, event in enumerate(stream_events, 1) if event.TYPE in FACT_TYPES]


def period(key: str, tier: str, awarded: str, expires: str,
           ended: str | None = None) -> AnnouncedCertification:
    return AnnouncedCertification(
        city_key=key, name=key, country="US", tier=tier, standard_id="wwc-2022",
        cohort_id=awarded[:7], awarded_on=date.fromisoformat(awarded),
        expires_on=date.fromisoformat(expires),
        ended_on=date.fromisoformat(ended) if ended else None, decision_hash=None,
        city_certified_now=ended is None)


FACTS = facts_of(program())
# The certification periods the program's announcements, lapse and hold make.
CERTIFICATIONS = [
    period("us-reno", "silver", "2021-01-10", "2024-01-10", ended="2024-01-10"),
    period("us-denver", "gold", "2021-03-01", "2024-03-01"),  # held past expiry
    period("us-austin", "silver", "2022-06-01", "2025-06-01"),
    period("br-recife", "platinum", "2024-04-30", "2027-04-30"),
]


def numbers(day: date = BASE) -> ProgramNumbers:
    return program_numbers(FACTS, CERTIFICATIONS, day)


def by_day(rows: tuple[object, ...], day: str) -> dict[str, object]:
    found = [row.model_dump() for row in rows  # type: ignore[attr-defined]
             if row.day == date.fromisoformat(day)]  # type: ignore[attr-defined]
    assert len(found) == 1, day
    return {k: v for k, v in found[0].items() if k != "day" and v}


# --- percentiles --------------------------------------------------------------------------

def test_no_values_have_no_percentile() -> None:
    assert nearest_rank([], 90) is None
    assert median([]) is None


def test_one_value_is_every_percentile() -> None:
    assert [nearest_rank([7], p) for p in (0, 1, 50, 90, 100)] == [7] * 5


def test_ties_and_the_nearest_rank() -> None:
    assert median([9, 5, 5, 5]) == 5
    assert nearest_rank([9, 5, 5, 5], 90) == 9
    assert median([1, 2, 3, 4]) == 2  # the lower middle value, not 2.5
    assert nearest_rank(range(1, 11), 90) == 9  # rank 9 of 10, exactly
    assert nearest_rank(range(1, 11), 91) == 10
    assert nearest_rank([3, 1, 2], 0) == 1
    assert nearest_rank([3, 1, 2], 100) == 3


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="0 to 100"):
        nearest_rank([1], 101)


@given(st.lists(st.integers(0, 2000), min_size=1, max_size=60), st.integers(0, 100),
       st.integers(0, 100), st.randoms())
def test_the_percentile_is_a_value_with_p_percent_at_or_below_it(
        values: list[int], p: int, q: int, shuffle: Random) -> None:
    found = nearest_rank(values, p)
    assert found in values
    rank = max(1, ceil(p * len(values) / 100))
    assert sum(v <= found for v in values) >= rank
    assert sum(v < found for v in values) < rank
    shuffled = list(values)
    shuffle.shuffle(shuffled)
    assert nearest_rank(shuffled, p) == found  # the order given does not matter
    low, high = sorted((p, q))
    assert nearest_rank(values, low) <= nearest_rank(values, high)  # type: ignore[operator]


# --- the figures --------------------------------------------------------------------------

def test_sample_days_are_quarter_ends_then_the_day_itself() -> None:
    assert sample_days(date(2024, 2, 9), date(2024, 8, 15)) == [
        date(2024, 3, 31), date(2024, 6, 30), date(2024, 8, 15)]
    assert sample_days(date(2024, 2, 9), date(2024, 6, 30)) == [
        date(2024, 3, 31), date(2024, 6, 30)]
    assert sample_days(date(2025, 1, 1), date(2024, 6, 30)) == [date(2024, 6, 30)]


def test_certified_cities_at_each_quarters_end_by_tier() -> None:
    found = numbers().certified
    assert found[0].day == date(2020, 12, 31)
    assert found[-1].day == BASE
    assert len(found) == 17  # 2020 Q4 to 2024 Q4
    assert by_day(found, "2020-12-31") == {}
    assert by_day(found, "2021-03-31") == {"silver": 1, "gold": 1, "total": 2}
    assert by_day(found, "2022-06-30") == {"silver": 2, "gold": 1, "total": 3}
    # Reno lapsed on 2024-01-10; Denver holds past its expiry; Recife not yet announced.
    assert by_day(found, "2024-03-31") == {"silver": 1, "gold": 1, "total": 2}
    assert by_day(found, "2024-12-31") == {"silver": 1, "gold": 1, "platinum": 1, "total": 3}


def test_applications_in_each_stage_on_the_same_days() -> None:
    found = numbers().stages
    assert [row.day for row in found] == [row.day for row in numbers().certified]
    assert by_day(found, "2020-12-31") == {"decided": 2, "total": 2}
    # Denver reapplying, Recife decided, Boise under review; Lima withdrew on 03-15.
    assert by_day(found, "2024-03-31") == {"assessing": 1, "under_review": 1, "decided": 1,
                                           "total": 3}
    assert by_day(found, "2024-06-30") == {"assessing": 1, "awaiting_clarification": 1,
                                           "total": 2}
    assert by_day(found, "2024-12-31") == {"assessing": 2, "under_review": 1,
                                           "awaiting_clarification": 1, "total": 4}


def test_days_between_steps_median_and_90th_percentile() -> None:
    found = {row.step: (row.applications, row.median_days, row.p90_days)
             for row in numbers().durations}
    # Joining to submission: 10 10 20 20 29 30 30 60; to decision: 20 21 25 31 61 (Boise's
    # not-certified decision counts, Lima withdrew before one); to announcement: 50 70 80 92.
    assert found == {"join_to_submission": (8, 20, 60),
                     "submission_to_decision": (5, 25, 61),
                     "decision_to_announcement": (4, 70, 92)}


def test_reviewer_load_and_deadlines_met_or_missed() -> None:
    reviewers = {row.reviewer: row.model_dump(exclude={"reviewer"})
                 for row in numbers().reviewers}
    assert reviewers == {
        # Austin and Recife on time; Tulsa overdue and still in hand; Cali in hand.
        ANA: {"open_reviews": 2, "completed_reviews": 2, "deadlines_met": 2,
              "deadlines_missed": 1},
        # Reno and Denver on time; Boise completed after its due date.
        BRUNO: {"open_reviews": 0, "completed_reviews": 3, "deadlines_met": 2,
                "deadlines_missed": 1}}
    deadlines = {row.kind: (row.met, row.missed, row.pending) for row in numbers().deadlines}
    # A reminder is not a miss (Boise's); Tulsa's clarification was answered after it was
    # due; Cali's review and clarification are not yet due.
    assert deadlines == {"review": (4, 2, 1), "clarification": (1, 1, 1)}


def test_renewals_due_within_a_year_by_month() -> None:
    found = numbers()
    assert [m.month for m in found.renewals] == [
        "2024-12", *(f"2025-{m:02d}" for m in range(1, 13))]
    due = {m.month: (m.silver, m.gold, m.platinum) for m in found.renewals if m.total}
    assert due == {"2025-06": (1, 0, 0)}  # Austin's
    assert found.held_past_expiry == 1  # Denver's, while its reapplication is decided
    # A year earlier, Reno's (2024-01) and Denver's (2024-03) were the renewals due.
    earlier = numbers(date(2023, 12, 31))
    assert {m.month: m.total for m in earlier.renewals if m.total} == {
        "2024-01": 1, "2024-03": 1}
    assert earlier.held_past_expiry == 0


def test_before_the_first_event_every_figure_is_zero() -> None:
    found = numbers(date(2019, 6, 1))
    assert [row.day for row in found.certified] == [date(2019, 6, 1)]
    assert found.certified[0].total == found.stages[0].total == 0
    assert [row.applications for row in found.durations] == [0, 0, 0]
    assert all(row.median_days is None for row in found.durations)
    assert found.reviewers == ()
    assert all(m.total == 0 for m in found.renewals)


@given(st.dates(date(2020, 9, 1), date(2025, 3, 1)))
def test_nothing_recorded_after_the_day_moves_a_figure(day: date) -> None:
    """The figures of a day from the whole record equal those from the record as it
    stood that day: only what was dated by then, certifications not yet ended then."""
    then = [fact for fact in FACTS if fact.on <= day]
    known = [c if c.ended_on is None or c.ended_on <= day
             else c.model_copy(update={"ended_on": None})
             for c in CERTIFICATIONS if c.awarded_on <= day]
    assert program_numbers(FACTS, CERTIFICATIONS, day) == program_numbers(then, known, day)


def test_every_chart_is_a_table_of_its_rows() -> None:
    found = numbers()
    columns, rows = found.table("durations")
    assert columns == ("step", "applications", "median_days", "p90_days")
    assert rows[0] == ("join_to_submission", 8, 20, 60)
    columns, rows = found.table("certified")
    assert columns == ("day", "silver", "gold", "platinum", "total")
    assert len(rows) == len(found.certified)


def test_the_day_asked_for_is_a_date_not_after_today() -> None:
    today = date(2026, 5, 1)
    assert as_of_day(None, today) == today
    assert as_of_day("2024-02-29", today) == date(2024, 2, 29)
    for wrong in ("2024-02-30", "20240101", "2024-W01-1", "yesterday", "2024-1-5"):
        with pytest.raises(InvalidInput, match=r"^--as-of: .* is not a date"):
            as_of_day(wrong, today, field="--as-of")
    with pytest.raises(InvalidInput, match="after the program's today"):
        as_of_day((today + timedelta(days=1)).isoformat(), today)


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    from infra.web.portal.numbers_pages import to_csv

    shifty = [fact.model_copy(update={"reviewer": "=HYPERLINK(1)@x.test"})
              if fact.reviewer == ANA else fact for fact in FACTS]
    written = to_csv(program_numbers(shifty, CERTIFICATIONS, BASE), "reviewers").decode()
    assert written.splitlines()[1].startswith("'=HYPERLINK(1)@x.test,")
    assert written.splitlines()[0] == ("reviewer,open_reviews,completed_reviews,"
                                       "deadlines_met,deadlines_missed")
