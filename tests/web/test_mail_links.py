"""Where the program's mail leads, followed: the messages a decision and an announcement
cause, and the operators' digest, rendered and sent by the real postbox to the mail
catcher (the SMTP server the integration tests use), each in its reader's language; then
the links in them asked of the portal in process. The announcement names the public
certificate and its PDF (anyone gets them); a decision names the city's report as a PDF
(behind the sign-in, the city's own), never its content; the digest's dates are written
as its reader's language writes them, and its links are pages that exist."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from babel.dates import format_date

from activities.ports import DigestRequest, MailRequest
from domain.accounts import Role
from domain.city_state import CityState
from domain.lifecycle import evolve
from domain.notices import notices_for
from domain.rules import ProgramRules
from domain.streams import city_stream
from infra.eventstore.mapper import decode
from infra.mail.catcher import MailCatcher, stored_messages
from infra.mail.postbox import PostgresPostbox
from infra.mail.smtp import SmtpServer
from infra.readside.projections import projector
from tests.factories import WWC_2022, answers
from tests.web.conftest import BASE_URL, Web

CERTIFIED, NOT_CERTIFIED, UNDER_REVIEW = "br-recife", "ar-cordoba", "co-bogota"
CITIES = {CERTIFIED: ("Recife", "BR", 31, "es"), NOT_CERTIFIED: ("Córdoba", "AR", 5, "pt"),
          UNDER_REVIEW: ("Bogotá", "CO", 25, "en")}
MAILED = {"decision", "decision_not_certified", "announcement"}
OPERATOR = "ops@mail-links.test"
URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Mailed:
    messages: list[EmailMessage]
    week_ending: date  # the digest's
    expires_on: date  # Recife's certification


@pytest.fixture(scope="module")
async def mailed(web: Web, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[Mailed]:
    """Recife certified and announced (its editor reads Spanish), Córdoba not certified
    (Portuguese), Bogotá under a review never completed; the decision and announcement
    mails as the city's workflow asks for them, then the digest of the week before
    Recife's certification expires, for an operator who reads Spanish."""
    await web.account(OPERATOR, Role.OPERATOR, language="es")
    await web.account("reviewer@mail-links.test", Role.REVIEWER)
    for key, (name, country, _, language) in CITIES.items():
        await web.account(f"editor@{key}.test", Role.CITY_EDITOR, language=language,
                          cities_to_join=[{"name": name, "country": country}])
    operator = await web.sign_in(OPERATOR)
    reviewer = await web.sign_in("reviewer@mail-links.test")
    for key, (name, country, met, _) in CITIES.items():
        editor = await web.sign_in(f"editor@{key}.test")
        assert (await editor.post("/api/cities", json={
            "name": name, "country": country, "population": 400_000})).status_code == 201
        claimed = answers(WWC_2022, met).model_dump(mode="json")
        assert (await editor.post(f"/api/cities/{key}/assessment/submit",
                                  json={"answers": claimed})).status_code == 200
        assert (await operator.post(f"/api/cities/{key}/reviewer", json={
            "reviewer": "reviewer@mail-links.test"})).status_code == 200
        if key == UNDER_REVIEW:
            continue
        assert (await reviewer.post(f"/api/cities/{key}/reviews", json={"reviews": [
            {"code": code, "met": True} for code in claimed["criteria"]]})).status_code == 200
        assert (await reviewer.post(f"/api/cities/{key}/review/complete",
                                    json={})).status_code == 200
        assert (await operator.post(f"/api/cities/{key}/decision")).status_code == 200
    assert (await operator.post("/api/cohorts", json={
        "cohort_id": "mail-links", "announce_on": str(web.today + timedelta(days=30))})
            ).status_code == 201
    assert (await operator.post("/api/cohorts/mail-links/announce")).status_code == 200

    with MailCatcher(tmp_path_factory.mktemp("mail")) as catcher:
        postbox = PostgresPostbox(web.pool, server=SmtpServer.from_url(catcher.url),
                                  sender="program@wwc.test", portal_url=BASE_URL)
        rules = ProgramRules()
        for key in (CERTIFIED, NOT_CERTIFIED):  # what the city's workflow asks for
            state = CityState()
            for record in await web.program.store.read_stream(city_stream(key)):
                event = decode(record)
                state = evolve(state, event)  # type: ignore[arg-type]
                notices = tuple(n for n in notices_for(
                    event, state, rules.clarification_due_days,  # type: ignore[arg-type]
                    rules.review_due_days) if n.kind in MAILED)
                if notices:
                    await postbox.deliver(MailRequest(
                        city_key=key, cause=f"{record.stream_id}@{record.stream_version}",
                        notices=notices))
        await projector(web.pool).catch_up_all()  # the digest reads the read models
        expires_on = await web.pool.fetchval(
            "SELECT expires_on FROM wwc_registry WHERE city_key = $1", CERTIFIED)
        # A Monday within the 90 days before it: Recife expiring, Bogotá's review overdue.
        week = expires_on - timedelta(days=30 + expires_on.weekday())
        await postbox.deliver_digest(DigestRequest(week_ending=week))
        yield Mailed(stored_messages(catcher.folder), week, expires_on)


def mail(mailed: Mailed, kind: str) -> tuple[EmailMessage, str, str]:
    [found] = [m for m in mailed.messages if m["X-WWC-Kind"] == kind]
    text, body = found.get_body(("plain",)), found.get_body(("html",))
    assert text is not None
    assert body is not None
    return found, text.get_content(), body.get_content()


async def test_the_announcement_leads_to_the_public_certificate_and_its_pdf(
        web: Web, mailed: Mailed) -> None:
    announced, text, body = mail(mailed, "announcement")
    assert announced["To"] == f"editor@{CERTIFIED}.test"
    certificate = f"{BASE_URL}/certificates/{CERTIFIED}/{web.today.isoformat()}"
    links = URL.findall(text)
    assert f"{certificate}?lang=es" in links  # in the mail's language
    assert f"{certificate}/certificate.pdf?lang=es" in links
    assert f'<a href="{certificate}/certificate.pdf?lang=es">' in body  # a link in HTML
    async with web.client() as public:  # anyone, signed out, follows them
        page = await public.get(f"{certificate}?lang=es")
        assert page.status_code == 200
        assert '<html lang="es"' in page.text
        pdf = await public.get(f"{certificate}/certificate.pdf?lang=es")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert "-es.pdf" in pdf.headers["content-disposition"]
        for link in links:
            assert (await public.get(link)).status_code in (200, 303), link


@pytest.mark.parametrize(("key", "kind", "language"), [
    (CERTIFIED, "decision", "es"), (NOT_CERTIFIED, "decision_not_certified", "pt")])
async def test_a_decision_leads_to_the_citys_report_pdf_behind_the_sign_in(
        web: Web, mailed: Mailed, key: str, kind: str, language: str) -> None:
    decided, text, body = mail(mailed, kind)
    assert decided["To"] == f"editor@{key}.test"
    report = f"{BASE_URL}/portal/cities/{key}/report.pdf?lang={language}"
    assert report in URL.findall(text)
    assert f'<a href="{report}">' in body
    async with web.client() as public:  # signed out: to the sign-in, then back
        asked = await public.get(report)
        assert asked.status_code == 303
        assert asked.headers["location"].startswith("/sign-in?next=")
    editor = await web.sign_in(f"editor@{key}.test")
    pdf = await editor.get(report)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"-{language}.pdf" in pdf.headers["content-disposition"]
    stranger = await web.sign_in(f"editor@{UNDER_REVIEW}.test")
    assert (await stranger.get(report)).status_code in (403, 404)  # not its city's


async def test_the_digest_writes_dates_in_its_readers_language_and_its_links_exist(
        web: Web, mailed: Mailed) -> None:
    digest, text, body = mail(mailed, "weekly_digest")
    assert digest["To"] == OPERATOR
    assert digest["X-WWC-City"] is None  # about the program, no city
    assert format_date(mailed.week_ending, format="long", locale="es") in str(
        digest["Subject"])
    # Recife expiring, in Spanish words and dates; Bogotá's review overdue.
    expires = format_date(mailed.expires_on, format="long", locale="es")
    assert f"- Recife (oro), vence el {expires}" in text, text
    assert "- Bogotá: la revisión, vencía el " in text, text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text  # no ISO date
    for english in (" due ", "gold", "review,", "expires"):
        assert english not in text, english
    operator = await web.sign_in(OPERATOR)
    links = URL.findall(text)
    assert f"{BASE_URL}/portal/outbox" in links
    assert f"{BASE_URL}/portal/pipeline" in links
    assert f'<a href="{BASE_URL}/portal/outbox">' in body
    for link in links:
        assert (await operator.get(link)).status_code == 200, link
    # The outbox page links no row to a city page that does not exist.
    outbox = await operator.get("/portal/outbox")
    assert "/portal/cities/program" not in outbox.text
    for key in re.findall(r'href="/portal/cities/([^"/#?]+)"', outbox.text):
        assert (await operator.get(f"/portal/cities/{key}")).status_code == 200, key
