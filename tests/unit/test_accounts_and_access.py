"""Accounts as a decider, the access rules, and the program rules the front door added:
conflicts of interest, stale drafts, evidence as links, NUL characters."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain import accounts, events
from domain import commands as c
from domain.answers import Answers, CriterionAnswer
from domain.city_state import CityState, Status
from domain.errors import ErrorCategory, TransitionRefused
from domain.tiers import Tier
from domain.views import CityView
from infra.identity.directory import Account
from infra.web.access import Denied, Rule, check_role, may_see_city
from tests.factories import WWC_2022, CityDriver, answers
from tests.unit.decider import ACCOUNT, refused

D0 = date(2024, 3, 1)


def account(role: accounts.Role, *, cities: tuple[str, ...] = (),
            email: str = "p@x.test") -> Account:
    return Account(account_id="acc-1", email=email, display_name="P", role=role,
                   cities=cities)


def view(reviewer: str | None = None) -> CityView:
    return CityView(city_key="us-a-xx", name="A", country="US", status=Status.UNDER_REVIEW,
                    tier=Tier.NONE, version=5, program_date=D0, reviewer=reviewer)


def test_an_account_is_created_once_and_its_tokens_are_revoked_once() -> None:
    create = accounts.CreateAccount(email="Ed@City.Test ", display_name="Ed",
                                    role=accounts.Role.CITY_EDITOR, cities=("us-a-xx",))
    # E-mails are compared case-blind: the account records the address in lower case.
    created = events.AccountCreated(account_id="acc-1", email="ed@city.test",
                                    display_name="Ed", role="city_editor",
                                    cities=("us-a-xx",), on=D0)
    ACCOUNT.given().when(create, on=D0).then(created)
    ACCOUNT.given(created).when(create, on=D0).then(refused("exists", match="already exists"))
    issued = events.ApiTokenIssued(token_id="tok12345", name="crm",
                                   expires_on=date(2024, 4, 1), on=D0)
    ACCOUNT.given(created).when(accounts.IssueToken(
        token_id="tok12345", name="crm", expires_on=date(2024, 4, 1)), on=D0).then(issued)
    revoke = accounts.RevokeToken(token_id="tok12345")
    revoked = events.ApiTokenRevoked(token_id="tok12345", on=D0)
    ACCOUNT.given(created, issued).when(revoke, on=D0).then(revoked)
    ACCOUNT.given(created, issued, revoked).when(revoke, on=D0).then()  # once: nothing more


@pytest.mark.parametrize(("role", "cities", "affiliations", "message"), [
    (accounts.Role.CITY_EDITOR, (), (), "needs at least one city"),
    (accounts.Role.OPERATOR, ("us-a-xx",), (), "only a city editor is bound"),
    (accounts.Role.CITY_EDITOR, ("us-a-xx",), ("us-b-xx",), "only a reviewer has"),
])
def test_an_account_binds_only_what_its_role_has(role: accounts.Role, cities: tuple[str, ...],
                                                 affiliations: tuple[str, ...],
                                                 message: str) -> None:
    error = ACCOUNT.given().when(accounts.CreateAccount(
        email="a@b.test", display_name="A", role=role, cities=cities,
        affiliations=affiliations), on=D0).then(refused("invalid_account", match=message))
    assert error.category is ErrorCategory.INVALID_INPUT  # the input is wrong: exit 3, 422


def test_no_identity_is_401_and_the_wrong_role_403() -> None:
    check_role(None, Rule.PUBLIC)
    with pytest.raises(Denied) as anonymous:
        check_role(None, Rule.SIGNED_IN)
    assert anonymous.value.status == 401
    with pytest.raises(Denied) as editor:
        check_role(account(accounts.Role.CITY_EDITOR, cities=("us-a-xx",)), Rule.OPERATOR)
    assert editor.value.status == 403
    check_role(account(accounts.Role.ADMIN), Rule.OPERATOR)  # admins do what operators do
    with pytest.raises(Denied):
        check_role(account(accounts.Role.OPERATOR), Rule.ADMIN)


def test_a_city_is_seen_by_its_editors_its_reviewer_and_the_staff_only() -> None:
    own = account(accounts.Role.CITY_EDITOR, cities=("us-a-xx",))
    other = account(accounts.Role.CITY_EDITOR, cities=("us-b-xx",))
    reviewer = account(accounts.Role.REVIEWER, email="rev@rfa.test")
    assigned = view(reviewer="rev@rfa.test")
    assert may_see_city(own, Rule.CITY_EDITOR, "us-a-xx", assigned)
    assert not may_see_city(other, Rule.CITY, "us-a-xx", assigned)
    assert may_see_city(reviewer, Rule.ASSIGNED_REVIEWER, "us-a-xx", assigned)
    assert not may_see_city(reviewer, Rule.ASSIGNED_REVIEWER, "us-a-xx", view("someone@x"))
    assert not may_see_city(reviewer, Rule.CITY_EDITOR, "us-a-xx", assigned)
    assert not may_see_city(own, Rule.ASSIGNED_REVIEWER, "us-a-xx", assigned)
    assert may_see_city(account(accounts.Role.OPERATOR), Rule.CITY_EDITOR, "us-a-xx", None)


def submitted_city() -> CityDriver:
    city = CityDriver()
    city(c.JoinNetwork(name="A, XX", country="US", population=50_000), D0)
    city(c.SubmitAssessment(answers=answers(WWC_2022, 25)), D0)
    return city


def test_a_reviewer_affiliated_with_the_city_cannot_be_assigned() -> None:
    city = submitted_city()
    key = city.state.profile.city_key if city.state.profile else ""
    with pytest.raises(TransitionRefused) as refused:
        city(c.AssignReviewer(reviewer="rev@rfa.test", affiliations=(key,)), D0)
    assert refused.value.code == "conflict_of_interest"
    city(c.AssignReviewer(reviewer="rev@rfa.test", affiliations=("us-other-xx",)), D0)


def test_an_assignment_takes_the_reviewers_standing_from_the_accounts() -> None:
    city = submitted_city()
    key = city.state.profile.city_key if city.state.profile else ""
    forged = c.AssignReviewer(reviewer="Rev@RFA.test", affiliations=())
    affiliated = accounts.ReviewerStanding(email="rev@rfa.test", active_reviewer=True,
                                           affiliations=(key,))
    trusted = accounts.as_the_accounts_say(forged, affiliated)
    assert (trusted.reviewer, trusted.affiliations) == ("rev@rfa.test", (key,))
    with pytest.raises(TransitionRefused) as refused:
        city(trusted, D0)
    assert refused.value.code == "conflict_of_interest"
    for standing in (None, affiliated.model_copy(update={"active_reviewer": False}),
                     affiliated.model_copy(update={"email": "someone@else.test"})):
        with pytest.raises(TransitionRefused) as unknown:
            accounts.as_the_accounts_say(forged, standing)
        assert unknown.value.code == "unknown_reviewer"


def test_a_draft_saved_over_a_newer_one_is_refused() -> None:
    city = CityDriver()
    city(c.JoinNetwork(name="A, XX", country="US", population=50_000), D0)
    version = city.state.version
    city(c.SaveAssessment(answers=answers(WWC_2022, 2), expected_version=version), D0)
    with pytest.raises(TransitionRefused) as stale:
        city(c.SaveAssessment(answers=answers(WWC_2022, 3), expected_version=version), D0)
    assert stale.value.code == "stale_version"
    assert isinstance(city.state, CityState)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "file:///etc/passwd", "inventory",
                                  "ftp://x.test/a"])
def test_evidence_is_an_http_link(link: str) -> None:
    with pytest.raises(ValidationError, match="evidence must be an http"):
        c.SaveAssessment(answers=Answers(criteria={
            "DM1": CriterionAnswer(met=True, evidence=(link,))}))
    with pytest.raises(ValidationError, match="evidence must be an http"):
        c.AnswerClarification(clarification_id=1, answer="yes", evidence=(link,))


def test_no_text_may_hold_a_nul_character() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        c.Withdraw(reason="bye\x00")
    with pytest.raises(ValidationError, match="NUL"):
        Answers.model_validate({"criteria": {"DM1\x00": {"met": True}}})
