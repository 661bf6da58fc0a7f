"""Bounds in the domain: every number and text a command carries is checked where the
rule lives, so every front door refuses the same thing with the same message. What a
workflow already accepted (read back from its history, JSON) is not judged again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain import cohort as cohorts
from domain import commands as c
from domain.accounts import AccountState, CreateAccount, Role, decide
from domain.answers import Answers, CriterionAnswer
from domain.errors import DomainError, ErrorCategory
from domain.events import AccountCreated
from domain.rules import ProgramRules
from domain.streams import city_key
from domain.validation import describe_validation_error
from infra.web.api.models import JoinRequest
from infra.web.portal.render import Portal

# (What came with the bounds is imported in the tests that use it, so each test of this
# module also runs, and fails for its own reason, on the code from before.)
TODAY = date(2026, 6, 1)
MAX_POPULATION = 100_000_000
# Characters no command may carry: C0 but TAB/LF/CR, DEL, C1, the bidi embeddings,
# overrides and isolates, lone surrogates.
FORBIDDEN_CHARS = st.sampled_from(
    [chr(i) for i in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
                      *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xD800, 0xDFFF)])
CLEAN_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"),
                                   blacklist_characters="\u2028\u2029\u202a\u202b\u202c"
                                                        "\u202d\u202e\u2066\u2067\u2068"
                                                        "\u2069"), max_size=40)


def refusal(make: Any, **fields: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        make(**fields)
    return describe_validation_error(refused.value)


def join(**overrides: Any) -> c.JoinNetwork:
    return c.JoinNetwork(**{"name": "Rock Hill, SC", "country": "US", "population": 74_372,
                            **overrides})


# --- population ---------------------------------------------------------------------------

@pytest.mark.parametrize("population", [2**31, 2**63, 10**30, MAX_POPULATION + 1])
def test_a_population_beyond_the_bound_is_refused_naming_the_field(population: int) -> None:
    assert refusal(join, population=population) == (
        "population: must be at most 100,000,000 residents")


@pytest.mark.parametrize("population", ["74372", 74372.0, True, "1e30"])
def test_a_population_is_a_whole_number_not_text(population: object) -> None:
    assert refusal(join, population=population).startswith("population: Input should be")


@given(st.integers(min_value=0, max_value=MAX_POPULATION))
def test_every_population_within_the_bound_is_taken(population: int) -> None:
    assert join(population=population).population == population


def test_the_api_takes_the_domains_bound() -> None:
    """One definition: the API's body refuses what the command refuses."""
    body = {"name": "Rock Hill, SC", "country": "US"}
    assert refusal(JoinRequest, **body, population="74372").startswith("population:")
    assert "100,000,000" in refusal(JoinRequest, **body, population=2**31)
    assert c.MAX_POPULATION == MAX_POPULATION
    assert JoinRequest.model_json_schema()["properties"]["population"]["maximum"] == (
        MAX_POPULATION)


def test_a_join_read_back_from_a_workflow_history_is_not_judged_again() -> None:
    """A history recorded before the bounds (a population of 2^31, a name with ESC)
    must still replay: the data converter reads it in JSON mode."""
    recorded = ('{"name": "Big\\u001b, TX", "country": "US", "population": 2147483648, '
                '"standard_id": null, "location": null}')
    replayed = c.JoinNetwork.model_validate_json(recorded)
    assert replayed.population == 2**31
    assert replayed.name == "Big\x1b, TX"


# --- text ---------------------------------------------------------------------------------

@given(CLEAN_TEXT, FORBIDDEN_CHARS, CLEAN_TEXT)
def test_a_city_name_with_a_control_or_bidi_character_is_refused(
    before: str, bad: str, after: str
) -> None:
    message = refusal(join, name=f"Rock{before}{bad}{after} Hill")
    assert message.startswith("name: may not contain control or bidi-override characters")
    assert bad not in message  # named by its code point, never echoed


@given(CLEAN_TEXT)
def test_clean_text_is_taken_where_free_text_goes(text: str) -> None:
    assert c.Withdraw(reason=f"x{text}").reason == f"x{text}".strip()


@pytest.mark.parametrize("bad", ["\n", "\r", "\t", "\u2028"])
def test_a_single_line_field_refuses_line_breaks_and_tabs(bad: str) -> None:
    assert refusal(join, name=f"Rock{bad}Hill").startswith(
        "name: may not contain line breaks or tabs")
    assert refusal(c.AssignReviewer, reviewer=f"RfA{bad}team").startswith("reviewer:")


def test_free_text_keeps_its_lines_but_not_control_characters() -> None:
    answer = c.AnswerClarification(clarification_id=1, answer="In May.\r\n\tSee the minutes.")
    assert "\n" in answer.answer
    assert refusal(c.AnswerClarification, clarification_id=1,
                   answer="In May \x1b]0;owned\x07").startswith("answer: may not contain")
    assert refusal(c.Withdraw, reason="why\u202etxt.exe").startswith("reason: may not contain")


def test_text_deep_in_a_command_is_named_by_its_place() -> None:
    answers = {"criteria": {"DM1": {"met": True, "evidence": ["https://a.gov/x\x1b[2J"]}}}
    assert refusal(c.SaveAssessment, answers=answers) == (
        "answers.criteria.DM1.evidence.0: may not contain control or bidi-override "
        "characters (found U+001B)")
    # Answers built first (as the CLI does from a file) are checked inside the command.
    built = Answers(criteria={"DM1": CriterionAnswer(met=True, items=("a\u2066b",))})
    assert refusal(c.SubmitAssessment, answers=built).startswith(
        "answers.criteria.DM1.items.0: may not contain")
    assert refusal(c.CompleteReview, outcomes={"air\x85": True}).startswith(
        "outcomes.air\\x85 (a key): may not contain")


def test_what_the_program_gives_itself_from_its_record_is_not_refused() -> None:
    """A city name an older version stored must never stop its cohort's announcement."""
    added = c.AddToCohort(city_key="us-old-tx", name="Old\x1b, TX", tier="gold")
    assert added.name == "Old\x1b, TX"


def test_nul_is_still_refused_everywhere() -> None:
    assert "NUL" in refusal(join, name="Rock\x00Hill")
    with pytest.raises(ValidationError, match="NUL"):
        Answers.model_validate({"criteria": {"DM1": {"evidence": ["https://a\x00"]}}})


# --- accounts -----------------------------------------------------------------------------

def test_account_text_is_single_line_and_free_of_controls() -> None:
    base = {"email": "ed@city.gov", "display_name": "Ed", "role": Role.OPERATOR}
    assert refusal(CreateAccount, **{**base, "display_name": "Ed\x1b]0;x\x07"}).startswith(
        "display_name: may not contain control")
    assert refusal(CreateAccount, **{**base, "display_name": "Ed\nAdmin"}).startswith(
        "display_name: may not contain line breaks")
    assert refusal(CreateAccount, **{**base, "email": "ed@city.gov\u202e"}).startswith("email:")


def test_a_city_still_to_join_is_named_as_its_join_will_name_it() -> None:
    from domain.accounts import CityToJoin

    command = CreateAccount(email="ed@rockhill.gov", display_name="Ed", role=Role.CITY_EDITOR,
                            cities_to_join=(CityToJoin(name="Rock Hill, SC", country="us"),))
    [created] = decide(AccountState(), command, "acc-1", TODAY)
    assert isinstance(created, AccountCreated)
    assert created.cities == (city_key("US", "Rock Hill, SC"),) == ("us-rock-hill-sc",)


def test_only_a_city_editor_names_cities_to_join() -> None:
    from domain.accounts import CityToJoin

    command = CreateAccount(email="r@rfa.org", display_name="R", role=Role.REVIEWER,
                            cities_to_join=(CityToJoin(name="Boise, ID", country="US"),))
    with pytest.raises(DomainError, match="only a city editor is bound to cities"):
        decide(AccountState(), command, "acc-1", TODAY)


# --- cohorts ------------------------------------------------------------------------------

def test_a_cohort_dated_years_ahead_is_refused_as_invalid_input() -> None:
    rules = ProgramRules()
    far = c.CreateCohort(cohort_id="far", announce_on=date(9999, 12, 31))
    with pytest.raises(DomainError) as refused:
        cohorts.decide(cohorts.CohortState(), far, TODAY, rules)
    assert refused.value.code == "date_too_far"
    assert refused.value.category is ErrorCategory.INVALID_INPUT
    assert str(refused.value).startswith("announce_on: 9999-12-31 is more than 3 years ahead")


@given(st.integers(min_value=0, max_value=4 * 366))
def test_the_cohort_horizon_is_the_same_day_three_years_on(days: int) -> None:
    rules = ProgramRules()
    day = date.fromordinal(TODAY.toordinal() + days)
    command = c.CreateCohort(cohort_id="c", announce_on=day)
    if day <= date(2029, 6, 1):
        assert cohorts.decide(cohorts.CohortState(), command, TODAY, rules)
    else:
        with pytest.raises(DomainError, match="3 years ahead"):
            cohorts.decide(cohorts.CohortState(), command, TODAY, rules)


def test_the_cohorts_workflow_decides_its_creation_without_the_horizon() -> None:
    """Checked by the front door before it starts; a history recorded before the bound
    (a cohort dated 9999-12-31) replays."""
    far = c.CreateCohort(cohort_id="far", announce_on=date(9999, 12, 31))
    assert cohorts.decide(cohorts.CohortState(), far, TODAY)


# --- showing what older versions stored ---------------------------------------------------

@given(st.text(max_size=60))
def test_escaped_text_holds_no_control_or_bidi_character(text: str) -> None:
    from domain.text import FORBIDDEN, escape_controls

    shown = escape_controls(text)
    assert FORBIDDEN.search(shown) is None
    assert "\n" not in shown
    assert "\t" not in shown


@given(CLEAN_TEXT)
def test_clean_text_is_shown_as_it_is(text: str) -> None:
    from domain.text import escape_controls

    assert escape_controls(text, keep_lines=True) == text


def test_a_terminal_title_sequence_is_shown_not_obeyed() -> None:
    from domain.text import escape_controls

    assert escape_controls("Evil\x1b]0;pwned\x07, TX") == "Evil\\x1b]0;pwned\\x07, TX"
    assert escape_controls("abc\u202etxt.exe") == "abc\\u202etxt.exe"


@pytest.mark.parametrize(("stored", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("Evil\x1b]0;x\x07", "Evil\\x1b]0;x\\x07"), ("\tx", "'\\x09x"),
    ("Rock Hill, SC", "Rock Hill, SC"), (74372, 74372), (None, None),
])
def test_a_csv_cell_is_neither_a_formula_nor_a_control_sequence(stored: object,
                                                                 cell: object) -> None:
    from infra.cli.reading import csv_cell

    assert csv_cell(stored) == cell


def test_json_output_escapes_what_json_leaves_raw() -> None:
    import json

    from domain.text import FORBIDDEN
    from infra.cli.common import json_safe

    value = {"name": "a\u202eb\x9bc\x7f"}
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert FORBIDDEN.search(text) is None
    assert json.loads(text) == value


def test_the_portal_shows_a_stored_bidi_override_as_an_escape() -> None:
    template = Portal().env.from_string("<p>{{ name }}</p><p>{{ names|join(', ') }}</p>")
    page = template.render(name="Evil\u202e<b>x</b>", names=["a\x1bb", "c"])
    assert page == "<p>Evil\\u202e&lt;b&gt;x&lt;/b&gt;</p><p>a\\x1bb, c</p>"
