"""Onboarding as the account's decider rules it, the same for every door: who may invite
and manage accounts, how long a link lives, that it works once and only while it is the
newest, that a password an admin set must be changed, a password's bounds, and that the
last admin (or one's own account) cannot be disabled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st

from domain import accounts, events
from domain.accounts import (
    INVITATION_LIFETIME,
    RESET_LIFETIME,
    Circumstances,
    Credential,
    Role,
)
from tests.unit.decider import account_decider, refused

D0 = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ADMIN = Circumstances(at=T0, by_account="acc-admin", by_role="admin", active_admins=2)
PERSON = Circumstances(at=T0, by_role=accounts.ANYONE)
CREATED = events.AccountCreated(account_id="acc-1", email="ed@city.test", display_name="Ed",
                                role="operator", on=D0)
INVITE = accounts.InviteAccount(email="ed@city.test", display_name="Ed", role=Role.OPERATOR,
                                link_id="link0001")
INVITED = events.AccountInvited(link_id="link0001", expires_at=T0 + INVITATION_LIFETIME,
                                on=D0)


def test_lifetimes_are_a_week_for_an_invitation_and_an_hour_for_a_reset() -> None:
    assert timedelta(days=7) == INVITATION_LIFETIME
    assert timedelta(hours=1) == RESET_LIFETIME


def test_an_admin_invites_and_the_account_waits_without_a_password() -> None:
    state = account_decider(given=ADMIN).given().when(INVITE, on=D0).then(CREATED, INVITED)
    assert state.password is Credential.NONE
    assert not state.must_change_password


@pytest.mark.parametrize("role", ["operator", "reviewer", "city_editor", accounts.ANYONE])
def test_only_an_admin_or_the_servers_shell_manages_accounts(role: str) -> None:
    asking = Circumstances(at=T0, by_account="acc-x", by_role=role, active_admins=2)
    for command in (INVITE, accounts.DisableAccount(reason="left"),
                    accounts.EnableAccount(), accounts.ResendInvitation(link_id="link0002"),
                    accounts.SetOneTimePassword()):
        account_decider(given=asking).given(CREATED, INVITED).when(command, on=D0).then(
            refused("needs_admin"))
    shell = Circumstances(at=T0, by_role=accounts.SERVER)
    account_decider(given=shell).given().when(INVITE, on=D0).then(CREATED, INVITED)


def test_a_link_works_once() -> None:
    use = accounts.UseLink(link_id="link0001")
    person = account_decider(given=PERSON)
    used = events.LinkUsed(link_id="link0001", on=D0)
    state = person.given(CREATED, INVITED).when(use, on=D0).then(used)
    assert state.password is Credential.OWN
    person.given(CREATED, INVITED, used).when(use, on=D0).then(refused("link_used"))


@pytest.mark.parametrize(("kind", "lifetime"), [("invitation", INVITATION_LIFETIME),
                                                ("reset", RESET_LIFETIME)])
def test_a_link_works_until_it_expires_and_not_a_moment_after(kind: str,
                                                              lifetime: timedelta) -> None:
    sent: events.AccountEvent = (
        INVITED if kind == "invitation" else
        events.PasswordResetSent(link_id="link0001", expires_at=T0 + lifetime, on=D0))
    use = accounts.UseLink(link_id="link0001")
    just_before = Circumstances(at=T0 + lifetime - timedelta(seconds=1), by_role="anyone")
    account_decider(given=just_before).given(CREATED, sent).when(use, on=D0).then(
        events.LinkUsed(link_id="link0001", on=D0))
    at_expiry = Circumstances(at=T0 + lifetime, by_role="anyone")
    error = account_decider(given=at_expiry).given(CREATED, sent).when(use, on=D0).then(
        refused("link_expired"))
    assert error.facts == {"expired_on": (T0 + lifetime).date().isoformat()}


def test_only_the_newest_link_works_and_a_password_change_closes_them() -> None:
    reset = accounts.SendPasswordReset(link_id="link0002")
    sent = events.PasswordResetSent(link_id="link0002", expires_at=T0 + RESET_LIFETIME, on=D0)
    account_decider(given=PERSON).given(CREATED, INVITED).when(reset, on=D0).then(sent)
    person = account_decider(given=PERSON)
    person.given(CREATED, INVITED, sent).when(accounts.UseLink(link_id="link0001"), on=D0) \
        .then(refused("link_replaced"))
    changed = events.PasswordChanged(on=D0)
    person.given(CREATED, sent, changed).when(accounts.UseLink(link_id="link0002"), on=D0) \
        .then(refused("link_replaced"))
    person.given(CREATED).when(accounts.UseLink(link_id="nope0000"), on=D0) \
        .then(refused("link_unknown"))


def test_no_link_works_for_a_disabled_account_and_none_is_sent_to_it() -> None:
    disabled = events.AccountDisabled(reason="left", on=D0)
    person = account_decider(given=PERSON)
    person.given(CREATED, INVITED, disabled).when(accounts.UseLink(link_id="link0001"),
                                                  on=D0).then(refused("disabled"))
    person.given(CREATED, disabled).when(accounts.SendPasswordReset(link_id="link0002"),
                                         on=D0).then(refused("disabled"))


def test_an_invitation_is_sent_again_only_while_no_password_was_chosen() -> None:
    again = accounts.ResendInvitation(link_id="link0002")
    admin = account_decider(given=ADMIN)
    admin.given(CREATED, INVITED).when(again, on=D0).then(events.AccountInvited(
        link_id="link0002", expires_at=T0 + INVITATION_LIFETIME, on=D0))
    admin.given(CREATED).when(again, on=D0).then(refused("has_password"))


def test_a_password_an_admin_set_must_be_changed_and_a_change_clears_it() -> None:
    create = accounts.CreateAccount(email="ed@city.test", display_name="Ed",
                                    role=Role.OPERATOR, one_time_password=True)
    state = account_decider(given=ADMIN).given().when(create, on=D0).then(
        CREATED, events.OneTimePasswordSet(on=D0))
    assert state.must_change_password
    changed = account_decider(given=PERSON).given(
        CREATED, events.OneTimePasswordSet(on=D0)).when(
        accounts.ChangePassword(), on=D0).then(events.PasswordChanged(on=D0))
    assert not changed.must_change_password
    # Accounts created before one-time passwords existed keep theirs.
    assert not account_decider().given(CREATED).state.must_change_password


def test_an_admin_cannot_disable_their_own_account_nor_the_last_admin() -> None:
    admin_created = CREATED.model_copy(update={"role": "admin"})
    disable = accounts.DisableAccount(reason="left")
    own = Circumstances(at=T0, by_account="acc-1", by_role="admin", active_admins=2)
    account_decider(given=own).given(admin_created).when(disable, on=D0).then(
        refused("own_account"))
    last = Circumstances(at=T0, by_role=accounts.SERVER, active_admins=1)
    error = account_decider(given=last).given(admin_created).when(disable, on=D0).then(
        refused("last_admin"))
    assert error.facts == {"email": "ed@city.test"}
    two = Circumstances(at=T0, by_account="acc-2", by_role="admin", active_admins=2)
    account_decider(given=two).given(admin_created).when(disable, on=D0).then(
        events.AccountDisabled(reason="left", on=D0))
    # An operator is never the last admin.
    account_decider(given=last).given(CREATED).when(disable, on=D0).then(
        events.AccountDisabled(reason="left", on=D0))


def test_enabling_an_active_account_records_nothing() -> None:
    disabled = events.AccountDisabled(reason="left", on=D0)
    admin = account_decider(given=ADMIN)
    state = admin.given(CREATED, disabled).when(accounts.EnableAccount(), on=D0).then(
        events.AccountEnabled(on=D0))
    assert not state.disabled
    admin.given(CREATED).when(accounts.EnableAccount(), on=D0).then()


@hypothesis_given(st.text(min_size=0, max_size=1100))
def test_a_password_is_refused_exactly_outside_its_bounds(password: str) -> None:
    problem = accounts.password_problem(password)
    inside = accounts.PASSWORD_MIN <= len(password) <= accounts.PASSWORD_MAX
    assert (problem is None) == inside
    if problem is not None:
        assert problem.code == "weak_password"
        assert problem.facts == {"minimum": 12, "maximum": 1024}
