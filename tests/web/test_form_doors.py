"""The portal's forms posted without JavaScript refuse what the API refuses (a NUL in any
field, a control character in an e-mail) as they refuse any bad input: the form again,
422, with a sentence in the page's language naming the field; nothing counted, nothing
recorded, never a 500 (PostgreSQL cannot take a NUL, and a password set with one could
never be typed at the API)."""

from __future__ import annotations

import re

import httpx
import pytest

from domain.accounts import CreateAccount, Role
from tests.web.conftest import PASSWORD, Web
from workflows.actors import SERVER_OPERATOR

NEW_PASSWORD = "a brand new passphrase for me"


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found, page.text
    return found.group(1)


def alert_of(page: httpx.Response) -> str:
    found = re.search(r'data-alert>([^<]*)<', page.text)
    assert found, page.text
    return found.group(1)


async def failures(web: Web) -> int:
    counted: int = await web.pool.fetchval("SELECT count(*) FROM wwc_sign_in_failures")
    return counted


@pytest.mark.parametrize(("lang", "fields", "said"), [
    ("es", {"email": "x\x00@doors.test", "password": PASSWORD},
     "Revise «Correo electrónico»: falta o no es válido."),
    ("pt", {"email": "signer@doors.test", "password": "a\x00b"},
     "Confira “Senha”: está faltando ou não é válido."),
    ("en", {"email": "signer\x1b@doors.test", "password": PASSWORD},
     "Check “E-mail”: it is missing or not valid."),
])
async def test_the_sign_in_form_refuses_a_nul_or_control_character_naming_the_field(
        web: Web, lang: str, fields: dict[str, str], said: str) -> None:
    if not await web.services.directory.find_by_email("signer@doors.test"):
        await web.account("signer@doors.test", Role.OPERATOR)
    before = await failures(web)
    async with web.client() as person:
        refused = await person.post(f"/sign-in?lang={lang}",
                                    data={**fields, "next": "/portal"},
                                    follow_redirects=False)
        assert refused.status_code == 422, refused.text
        assert alert_of(refused) == said
        assert "wwc_session" not in refused.headers.get("set-cookie", "")
    assert await failures(web) == before  # not even counted as an attempt


async def test_the_api_refuses_a_control_character_in_the_e_mail_as_the_form_does(
        web: Web) -> None:
    async with web.client() as person:
        refused = await person.post("/api/session", json={"email": "x\x1b@doors.test",
                                                          "password": PASSWORD})
    assert refused.status_code == 422


async def test_the_password_page_refuses_a_nul_in_the_new_password(web: Web) -> None:
    await web.account("changer@doors.test", Role.OPERATOR)
    person = await web.sign_in("changer@doors.test")
    page = await person.get("/account/password?lang=es")
    odd = "a long new pass\x00phrase"
    refused = await person.http.post("/account/password?lang=es", data={
        "csrf_token": csrf_of(page), "current_password": PASSWORD, "new_password": odd,
        "confirm": odd}, follow_redirects=False)
    assert refused.status_code == 422, refused.text
    assert alert_of(refused) == "Revise «Contraseña nueva»: falta o no es válido."
    # Unchanged: the old password still signs in (at the API, which refuses a NUL).
    assert (await web.sign_in("changer@doors.test")).csrf


async def test_the_link_page_refuses_a_nul_in_the_chosen_password(web: Web) -> None:
    sent = await web.services.directory.invite(
        CreateAccount(email="invited@doors.test", display_name="Invited", role=Role.OPERATOR,
                      language="pt"), SERVER_OPERATOR, web.today)
    link: str = await web.pool.fetchval(
        "SELECT link FROM wwc_outbox WHERE recipient = 'invited@doors.test'")
    token = link.split("token=")[1].split("&")[0]
    odd = "a long new pass\x00phrase"
    async with web.client() as person:
        refused = await person.post("/set-password?lang=pt", data={
            "token": token, "password": odd, "confirm": odd}, follow_redirects=False)
        assert refused.status_code == 422, refused.text
        assert alert_of(refused) == "Confira “Nova senha”: está faltando ou não é válido."
        # The link still works: nothing was set.
        assert (await person.get(f"/set-password?token={token}")).status_code == 200
    still = await web.services.directory.get(sent.account.account_id)
    assert still is not None
    assert still.invited
