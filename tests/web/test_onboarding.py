"""Onboarding in process, as its people meet it: an admin invites someone from the
accounts page (cities picked, not typed), the invitee opens the mailed link (found in the
outbox, where the worker would send it from), chooses a password in their language and
lands signed in; the link then says it was used. "Forgot password" answers the same for
an address with an account and one without, and is throttled. An account whose password
an admin set reaches only its password until it changes it, by session and by token
alike. The accounts page finds accounts by name, e-mail or city, shows a long city list
folded, sends resets instead of passwords, and disables and enables (never the asking
admin's own account, never the last admin). Nothing secret reaches the log, a page or an
answer: only the outbox row holds the link, until it is sent."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.accounts import CityToJoin, CreateAccount, Role
from infra.identity.secrets import digest
from tests.web.conftest import PASSWORD, Browser, Web
from workflows.actors import SERVER_OPERATOR

NEW_PASSWORD = "a brand new passphrase for me"
CITY = "us-provo-ut"


@pytest.fixture(scope="module")
async def admin(web: Web) -> Browser:
    await web.account("admin@onboard.test", Role.ADMIN, language="en")
    await web.account("editor@provo.test", Role.CITY_EDITOR,
                      cities_to_join=[CityToJoin(name="Provo, UT", country="US")])
    provo = await web.sign_in("editor@provo.test")
    joined = await provo.post("/api/cities", json={"name": "Provo, UT", "country": "US",
                                                   "population": 115_000})
    assert joined.status_code == 201, joined.text
    return await web.sign_in("admin@onboard.test")


async def outbox(web: Web, email: str, kind: str) -> Any:
    return await web.pool.fetchrow(
        "SELECT * FROM wwc_outbox WHERE recipient = $1 AND kind = $2 "
        "ORDER BY created_at DESC LIMIT 1", email, kind)


async def mailed_link(web: Web, email: str, kind: str) -> str:
    row = await web.pool.fetchrow(
        "SELECT * FROM wwc_outbox WHERE recipient = $1 AND kind = $2 "
        "ORDER BY created_at DESC LIMIT 1", email, kind)
    assert row is not None, f"no {kind} mail to {email}"
    link: str = row["link"]
    return link


def form_of(page: httpx.Response) -> dict[str, str]:
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))


async def test_an_admin_invites_and_the_invitee_chooses_a_password_and_is_signed_in(
        web: Web, admin: Browser) -> None:
    page = await admin.get("/portal/accounts")
    assert page.status_code == 200
    # The picker offers the cities that have joined, by name, to tick (not to type).
    assert f'name="cities" value="{CITY}"' in page.text
    assert "Provo, UT" in page.text
    form = form_of(page)
    sent = await admin.post("/portal/accounts/invite", data={
        "csrf_token": form["csrf_token"], "nonce": form["nonce"],
        "email": "Ana@Provo.test", "display_name": "Ana", "role": "city_editor",
        "language": "es", "cities": CITY}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    # Posted twice (a double click), it invites once and says the same.
    again = await admin.post("/portal/accounts/invite", data={
        "csrf_token": form["csrf_token"], "nonce": form["nonce"],
        "email": "ana@provo.test", "display_name": "Ana", "role": "city_editor",
        "language": "es", "cities": CITY}, follow_redirects=False)
    assert again.headers["location"] == sent.headers["location"]
    listed = await admin.get(sent.headers["location"] + "&lang=en")
    assert "Invitation sent to ana@provo.test" in listed.text
    assert 'data-account="ana@provo.test"' in listed.text

    row = await outbox(web, "ana@provo.test", "invitation")
    assert row is not None
    assert (row["kind"], row["language"], row["status"]) == ("invitation", "es", "pending")
    assert row["cause"] in web.program.mailed  # handed to the worker to send
    # The outbox page lists it, with no city to link to (an empty link reads as nothing).
    listed_mail = (await admin.get("/portal/outbox?to=ana@provo.test")).text
    assert "ana@provo.test" in listed_mail
    assert 'href="/portal/cities/"' not in listed_mail
    link = row["link"]
    found = re.fullmatch(r"/set-password\?token=([^&]+)&lang=es", link)
    assert found is not None, link
    token = found.group(1)
    # The secret is nowhere but in the row's link: not in the message's body, not in
    # the log, not in the page; its table keeps its hash.
    assert token not in row["body_text"] + row["body_html"] + listed.text
    assert "[wwc-link]" in row["body_text"]
    assert "Hola, Ana" in row["body_text"]
    assert not await web.pool.fetchval(
        "SELECT count(*) FROM wwc_events WHERE data::text LIKE $1", f"%{token}%")
    assert await web.pool.fetchval("SELECT count(*) FROM wwc_link_hashes WHERE hash = $1",
                                   digest(token)) == 1

    invitee = web.client()
    opened = await invitee.get(link)
    assert opened.status_code == 200
    assert "Le damos la bienvenida, Ana" in opened.text  # the invitee's language
    assert opened.headers["referrer-policy"] == "no-referrer"
    differ = await invitee.post("/set-password", data={
        "token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 422
    assert "no coinciden" in differ.text
    weak = await invitee.post("/set-password", data={
        "token": token, "password": "short", "confirm": "short"})
    assert weak.status_code == 422
    chosen = await invitee.post("/set-password", data={
        "token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=False)
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/portal")
    me = await invitee.get("/api/me")
    assert me.status_code == 200, me.text
    assert (me.json()["email"], me.json()["cities"]) == ("ana@provo.test", [CITY])
    assert (await invitee.get("/portal")).status_code == 200
    # The link works once: opened again, it says so, in the reader's language.
    used = await web.client().get(link)
    assert used.status_code == 410
    assert 'data-link-problem="link_used"' in used.text
    assert "Ya se usó" in used.text
    reused = await web.client().post("/set-password", data={
        "token": token, "password": "another passphrase here", "confirm":
        "another passphrase here"})
    assert (reused.status_code, 'data-link-problem="link_used"' in reused.text) == (410, True)
    assert (await web.sign_in("ana@provo.test", NEW_PASSWORD)).csrf


async def test_a_link_not_ours_or_expired_says_so(web: Web, admin: Browser) -> None:
    unknown = await web.client().get("/set-password?token=not-a-link-of-ours&lang=pt")
    assert unknown.status_code == 404
    assert "Não é um link nosso" in unknown.text
    long_ago = datetime.now(UTC) - timedelta(days=8)
    await web.services.directory.invite(
        CreateAccount(email="late@provo.test", display_name="Late", role=Role.OPERATOR),
        SERVER_OPERATOR, web.today, at=long_ago)
    expired = await web.client().get(await mailed_link(web, "late@provo.test", "invitation"))
    assert expired.status_code == 410
    assert 'data-link-problem="link_expired"' in expired.text
    assert "administrators to send the invitation again" in expired.text


async def test_a_newer_link_replaces_the_older(web: Web, admin: Browser) -> None:
    account = await web.account("twice@provo.test", Role.OPERATOR)
    first = await admin.post(f"/api/accounts/{account.account_id}/password-reset")
    assert first.status_code == 202, first.text
    older = await mailed_link(web, "twice@provo.test", "password_reset")
    page = await admin.get(f"/portal/accounts/{account.account_id}")
    second = await admin.post(f"/portal/accounts/{account.account_id}/reset",
                              data={"csrf_token": form_of(page)["csrf_token"]},
                              follow_redirects=False)
    assert second.status_code == 303
    shown = await admin.get(second.headers["location"] + "&lang=en")
    assert "A link to choose a new password was sent to twice@provo.test" in shown.text
    assert PASSWORD not in shown.text
    newer = await mailed_link(web, "twice@provo.test", "password_reset")
    assert newer != older
    assert 'data-link-problem="link_replaced"' in (await web.client().get(older)).text
    assert (await web.client().get(newer)).status_code == 200


async def test_forgot_password_answers_the_same_whether_or_not_the_address_has_an_account(
        web: Web) -> None:
    await web.account("known@provo.test", Role.REVIEWER, language="pt")
    answers = {}
    for email in ("known@provo.test", "nobody@provo.test"):
        async with web.client() as person:
            page = await person.post("/forgot-password", data={"email": email})
            api = await person.post("/api/password-reset", json={"email": email})
        answers[email] = (page.status_code, page.text.replace(email, "EMAIL"),
                          api.status_code, api.json())
    async with web.client() as person:  # a NUL in the address is just no account's
        odd = await person.post("/forgot-password", data={"email": "x\x00@provo.test"})
    assert odd.status_code == 200
    assert answers["known@provo.test"] == answers["nobody@provo.test"]
    assert answers["known@provo.test"][2] == 202
    # Only the address with an account got mail (twice: the page and the API asked).
    assert await web.pool.fetchval("SELECT count(*) FROM wwc_outbox WHERE kind = "
                                   "'password_reset' AND recipient = 'known@provo.test'") == 2
    assert not await web.pool.fetchval(
        "SELECT count(*) FROM wwc_outbox WHERE recipient = 'nobody@provo.test'")
    row = await outbox(web, "known@provo.test", "password_reset")
    assert row["language"] == "pt"
    # The reset works as the invitation does, and ends the account's sessions.
    known = await web.services.directory.find_by_email("known@provo.test")
    assert known is not None
    session = await web.session(known)
    link = await mailed_link(web, "known@provo.test", "password_reset")
    token = link.split("token=")[1].split("&")[0]
    async with web.client() as person:
        chosen = await person.post("/set-password", data={
            "token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            follow_redirects=False)
    assert chosen.status_code == 303
    async with web.client(session) as old:
        assert (await old.get("/api/me")).status_code == 401


async def test_forgot_password_is_throttled_per_address(web: Web,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.services.throttle, "_slow_step", 0.0)  # no waiting in a test
    await web.pool.execute("DELETE FROM wwc_sign_in_failures")
    statuses = []
    async with web.client() as person:
        for _ in range(12):
            answer = await person.post("/api/password-reset", json={"email": "x@y.test"})
            statuses.append(answer.status_code)
        page = await person.post("/forgot-password?lang=es", data={"email": "x@y.test"})
    assert statuses[:10] == [202] * 10
    assert statuses[10:] == [429, 429]
    assert page.status_code == 429
    assert "Demasiados intentos" in page.text
    await web.pool.execute("DELETE FROM wwc_sign_in_failures")


async def test_a_one_time_password_opens_only_the_password_until_it_is_changed(
        web: Web) -> None:
    account, made_up = await web.services.directory.create(
        CreateAccount(email="temp@provo.test", display_name="Temp", role=Role.OPERATOR),
        None, SERVER_OPERATOR, web.today)
    assert made_up is not None
    token = await web.token(account)
    async with web.client(token) as integration:
        refused = await integration.get("/api/cities")
        assert refused.status_code == 403
        assert refused.json()["code"] == "password_change_required"
        assert (await integration.get("/api/me")).json()["must_change_password"] is True
    person = await web.sign_in("temp@provo.test", made_up)
    page = await person.get("/portal/pipeline", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/account/password?next=%2Fportal%2Fpipeline"
    form = await person.get(page.headers["location"])
    assert "set by an administrator" in form.text
    changed = await person.post("/account/password", data={
        "csrf_token": form_of(form)["csrf_token"], "next": "/portal/pipeline",
        "current_password": made_up, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=False)
    assert (changed.status_code, changed.headers["location"]) == (303, "/portal/pipeline")
    assert (await person.get("/portal/pipeline")).status_code == 200
    # The change revoked the account's tokens, as every change of password does.
    async with web.client(token) as integration:
        assert (await integration.get("/api/cities")).status_code == 401


async def test_the_accounts_page_finds_accounts_and_folds_long_city_lists(
        web: Web, admin: Browser) -> None:
    await web.account("many@provo.test", Role.REVIEWER, affiliations=[
        f"us-city-{n}-xx" for n in range(81)])
    by_city = await admin.get("/portal/accounts?q=Provo, UT")
    assert 'data-account="editor@provo.test"' in by_city.text
    assert 'data-account="admin@onboard.test"' not in by_city.text
    by_key = await admin.get("/portal/accounts?q=us-city-80")
    assert 'data-account="many@provo.test"' in by_key.text
    assert "81 cities" in by_key.text  # folded under its count, not 81 keys in a cell
    assert "<details" in by_key.text
    by_name = await admin.get("/api/accounts?search=ADMIN@onboard")
    assert [a["email"] for a in by_name.json()] == ["admin@onboard.test"]
    assert (await admin.get("/api/accounts?search=100%")).json() == []  # no wildcard


async def test_an_unknown_city_key_is_refused_naming_the_field(web: Web,
                                                               admin: Browser) -> None:
    page = await admin.get("/portal/accounts?lang=pt")
    refused = await admin.post("/portal/accounts/invite?lang=pt", data={
        "csrf_token": form_of(page)["csrf_token"], "nonce": "n-unknown-city",
        "email": "typo@provo.test", "display_name": "Typo", "role": "city_editor",
        "cities": "us-tinytown-ks"})
    assert refused.status_code == 422
    assert "us-tinytown-ks não aderiu" in refused.text
    assert not await web.services.directory.find_by_email("typo@provo.test")


async def test_disable_and_enable_but_never_oneself_or_the_last_admin(
        web: Web, admin: Browser) -> None:
    target = await web.account("leaving@provo.test", Role.OPERATOR)
    session = await web.session(target)
    page = await admin.get(f"/portal/accounts/{target.account_id}")
    csrf = form_of(page)["csrf_token"]
    no_reason = await admin.post(f"/portal/accounts/{target.account_id}/disable",
                                 data={"csrf_token": csrf, "reason": ""})
    assert no_reason.status_code == 422
    off = await admin.post(f"/portal/accounts/{target.account_id}/disable",
                           data={"csrf_token": csrf, "reason": "left the program"},
                           follow_redirects=False)
    assert off.status_code == 303
    assert 'data-state="disabled"' in (await admin.get(off.headers["location"])).text
    async with web.client(session) as gone:
        assert (await gone.get("/api/me")).status_code == 401  # its session ended
    on = await admin.post(f"/portal/accounts/{target.account_id}/enable",
                          data={"csrf_token": csrf}, follow_redirects=False)
    assert on.status_code == 303
    assert (await web.sign_in("leaving@provo.test")).csrf

    me = await web.services.directory.find_by_email("admin@onboard.test")
    assert me is not None
    own = await admin.post(f"/api/accounts/{me.account_id}/disable",
                           json={"reason": "testing"})
    assert (own.status_code, own.json()["code"]) == (409, "own_account")
    assert "another admin may disable it, not you" in \
        (await admin.get(f"/portal/accounts/{me.account_id}?lang=en")).text
    # The server's shell may disable an admin, but not the last one.
    other = await web.account("second-admin@provo.test", Role.ADMIN)
    await web.services.directory.disable(other.account_id, "left", SERVER_OPERATOR,
                                         web.today)
    admins = await web.pool.fetch("SELECT account_id FROM wwc_accounts "
                                  "WHERE role = 'admin' AND NOT disabled")
    for row in admins[1:]:  # others the module's tests made, to leave one
        await web.services.directory.disable(row["account_id"], "tests", SERVER_OPERATOR,
                                             web.today)
    from infra.platform.errors import CommandRefused
    with pytest.raises(CommandRefused) as last:
        await web.services.directory.disable(admins[0]["account_id"], "left",
                                             SERVER_OPERATOR, web.today)
    assert last.value.code == "last_admin"


async def test_one_link_posted_at_once_from_four_browsers_sets_one_password(
        web: Web) -> None:
    await web.services.directory.invite(
        CreateAccount(email="race@provo.test", display_name="Race", role=Role.OPERATOR),
        SERVER_OPERATOR, web.today)
    link = await mailed_link(web, "race@provo.test", "invitation")
    token = link.split("token=")[1].split("&")[0]
    chosen = [f"the passphrase of browser {n}" for n in range(4)]
    browsers = [web.client() for _ in chosen]

    async def post(client: httpx.AsyncClient, password: str) -> httpx.Response:
        return await client.post("/set-password?lang=en", data={
            "token": token, "password": password, "confirm": password},
            follow_redirects=False)

    answers = await asyncio.gather(*(post(c, p) for c, p in zip(browsers, chosen,
                                                                 strict=True)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [303, 410, 410, 410], [a.text[:200] for a in answers]
    assert all("It has been used already" in a.text for a in answers if a.status_code == 410)
    winner = chosen[[a.status_code for a in answers].index(303)]
    assert await web.services.directory.check_password("race@provo.test", winner)
    for client in browsers:
        await client.aclose()



async def test_the_city_pickers_count_says_one_city_and_two_cities(
        web: Web, admin: Browser) -> None:
    """The picker's count (its script fills in what is shown and ticked) agrees with the
    number of cities that joined, in every language: "1 of 1 city", never "1 of 1 cities"."""
    said = {"en": ("%(shown)s of 1 city shown", "%(shown)s of 2 cities shown"),
            "es": ("%(shown)s de 1 ciudad a la vista", "%(shown)s de 2 ciudades a la vista"),
            "pt": ("%(shown)s de 1 cidade à vista", "%(shown)s de 2 cidades à vista")}

    async def counted(lang: str) -> str:
        page = await admin.get(f"/portal/accounts?lang={lang}")
        found = re.search(r'data-msg-shown="([^"]*)"', page.text)
        assert found, page.text
        return found.group(1)

    assert await web.pool.fetchval("SELECT count(*) FROM wwc_city_views") == 1  # Provo
    for lang, (one, _) in said.items():
        assert one in await counted(lang)
    await web.account("editor@orem.test", Role.CITY_EDITOR,
                      cities_to_join=[CityToJoin(name="Orem, UT", country="US")])
    orem = await web.sign_in("editor@orem.test")
    made = await orem.post("/api/cities", json={"name": "Orem, UT", "country": "US",
                                                "population": 98_000})
    assert made.status_code == 201, made.text
    for lang, (_, two) in said.items():
        assert two in await counted(lang)
