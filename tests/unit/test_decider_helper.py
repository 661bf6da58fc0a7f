"""The given/when/then helper (tests/unit/decider.py) fails when it should, with a message
that says what was expected and what the decider did: a helper that passed whatever the
decider did would make every test written with it one that cannot fail."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as e
from domain.errors import DomainError
from domain.tiers import Tier
from tests.unit.decider import CITY, COHORT, refused

D0 = date(2024, 5, 1)
CREATED = e.CohortCreated(cohort_id="2024-06", announce_on=date(2024, 6, 1), on=D0)
ADD = c.AddToCohort(city_key="br-recife", name="Recife", tier=Tier.GOLD)
ADDED = e.CohortCityAdded(city_key="br-recife", name="Recife", tier=Tier.GOLD, on=D0)


def failure(excinfo: pytest.ExceptionInfo[AssertionError]) -> str:
    return str(excinfo.value)


def test_it_passes_on_the_events_decided_and_returns_the_state_after_them() -> None:
    state = COHORT.given(CREATED).when(ADD, on=D0).then(ADDED)
    assert [city.city_key for city in state.cities] == ["br-recife"]
    assert state.version == 2


def test_it_passes_on_the_refusal_met_and_returns_it() -> None:
    error = COHORT.given().when(ADD, on=D0).then(refused("not_found", match="no such"))
    assert isinstance(error, DomainError)
    assert str(error) == "no such cohort"


def test_other_events_fail_naming_both_lists_and_the_field_that_differs() -> None:
    other = ADDED.model_copy(update={"tier": Tier.SILVER})
    with pytest.raises(AssertionError) as failed:
        COHORT.given(CREATED).when(ADD, on=D0).then(other)
    assert failure(failed) == (
        "when AddToCohort on 2024-05-01, given cohort.created:\n"
        "  the cohort decided other events than expected\n"
        "expected:\n"
        "  cohort.city_added (on='2024-05-01', city_key='br-recife', name='Recife', "
        "tier='silver')\n"
        "decided:\n"
        "  cohort.city_added (on='2024-05-01', city_key='br-recife', name='Recife', "
        "tier='gold')\n"
        "event 1 (cohort.city_added), tier: expected 'silver', decided 'gold'")


def test_an_event_missing_or_one_too_many_fails_counting_them() -> None:
    with pytest.raises(AssertionError, match=r"expected 2 events, decided 1 event$"):
        COHORT.given(CREATED).when(ADD, on=D0).then(ADDED, ADDED)
    with pytest.raises(AssertionError, match=r"decided:\n  cohort.city_added"):
        COHORT.given(CREATED).when(ADD, on=D0).then()


def test_another_event_type_fails_naming_both_types() -> None:
    with pytest.raises(AssertionError, match=r"event 1: expected cohort.announced, decided "
                                              r"cohort.city_added"):
        COHORT.given(CREATED).when(ADD, on=D0).then(e.CohortAnnounced(cities=(), on=D0))


def test_nothing_decided_where_events_were_expected_fails() -> None:
    # Adding a city already in the cohort records nothing.
    with pytest.raises(AssertionError, match="decided: no event"):
        COHORT.given(CREATED, ADDED).when(ADD, on=D0).then(ADDED)


def test_events_expected_but_refused_fails_with_the_refusals_code_and_words() -> None:
    with pytest.raises(AssertionError) as failed:
        COHORT.given().when(ADD, on=D0).then(ADDED)
    assert failure(failed).startswith(
        "when AddToCohort on 2024-05-01, given nothing yet:\n"
        "  expected 1 event, but the cohort refused it: not_found: no such cohort\n"
        "expected:\n  cohort.city_added (")


def test_a_refusal_expected_but_events_decided_fails_listing_them() -> None:
    with pytest.raises(AssertionError) as failed:
        COHORT.given(CREATED).when(ADD, on=D0).then(refused("not_certified"))
    assert failure(failed).splitlines()[1:3] == [
        "  expected the refusal not_certified, but the cohort decided 1 event",
        "decided:"]


def test_another_refusal_fails_naming_both_codes() -> None:
    with pytest.raises(AssertionError) as failed:
        CITY.given().when(c.Reapply(), on=D0).then(refused("application_open"))
    assert failure(failed) == (
        "when Reapply on 2024-05-01, given nothing yet:\n"
        "  expected the refusal application_open, but the city refused it with not_joined: "
        "the city has not joined the network")


def test_the_right_code_with_other_words_fails_when_the_words_matter() -> None:
    with pytest.raises(AssertionError, match="does not match 'was announced'"):
        COHORT.given().when(ADD, on=D0).then(refused("not_found", match="was announced"))


def test_events_and_a_refusal_together_are_a_mistake_of_the_test() -> None:
    with pytest.raises(TypeError, match="not both"):
        COHORT.given(CREATED).when(ADD, on=D0).then(ADDED, refused("x"))  # type: ignore[call-overload]


def test_a_difference_and_a_missing_event_are_both_named() -> None:
    join = c.JoinNetwork(name="Rochester, MN", country="US", population=120_000)
    joined = e.CityJoined(city_key="us-rochester", name="Rochester, MN", country="US",
                          population=120_000, on=D0)
    with pytest.raises(AssertionError) as failed:
        CITY.given().when(join, on=D0).then(joined)
    assert failure(failed).splitlines()[-2:] == [
        "event 1 (city.joined), city_key: expected 'us-rochester', decided 'us-rochester-mn'",
        "expected 1 event, decided 2 events"]
