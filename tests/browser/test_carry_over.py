"""Reapplying, in a real browser on a 390 px phone, in English, Spanish and Portuguese
(issues 23 and 24): a city decided "not certified" reapplies; its editor finds the
assessment prefilled from the last review, each criterion it met marked "carried over:
confirm it still holds", with its link's valid-through day; "Submit for review" says, in
the page's words, to confirm each first; she unclaims one, confirms the other (its
carried document comes with it), gives a new link and a new document days of their own,
and submits; the reviewer's screen shows what was accepted last cycle, with the
valid-through days.

One stack for the module; the three cities are driven to their decision and reapplication
through the API (no page is for those steps here). Each language walks its own city."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from domain.streams import city_key
from infra.platform.clockfile import program_today
from infra.web.routing import SESSION_COOKIE
from tests.browser.conftest import ARTIFACTS, Visits
from tests.browser.test_narrow_screens import PHONE, WIDER_THAN_THE_SCREEN
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person
from tests.factories import WWC_2022, answers

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 42"
REVIEWER, OPERATOR = "reviewer@carry.test", "ops@carry.test"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
MET, NOT_MET = ("DM1", "DM2"), "DM3"  # the last review's verdicts


@dataclass(frozen=True)
class Walk:
    """A language's city, the locale of its people's browsers, and what its pages say."""

    city: str
    country: str
    locale: str
    carried: str  # the mark on a carried-over criterion
    refused: str  # the submission refused while one is not confirmed
    accepted: str  # the review screen's badge
    through: str  # "valid through" on the review screen

    @property
    def key(self) -> str:
        return city_key(self.country, self.city)

    @property
    def editor(self) -> str:
        return f"editor@{self.key}.test"

    def link(self, code: str) -> str:
        return f"https://{self.key}.example/{code}"


WALKS = {
    "en": Walk(
        city="Tulsa", country="US", locale="en-US",
        carried="Carried over from the last review: confirm it still holds.",
        refused="Criteria carried over from the last review are not confirmed yet: DM1, "
        "DM2. Confirm each still holds, or change its answer, before submitting.",
        accepted="accepted last cycle", through="valid through"),
    "es": Walk(
        city="Rosario", country="AR", locale="es-AR",
        carried="Traído de la última revisión: confirme que sigue vigente.",
        refused="Hay criterios traídos de la última revisión sin confirmar: DM1, DM2. "
        "Confirme que cada uno sigue vigente, o cambie su respuesta, antes de enviar.",
        accepted="aceptado en el ciclo anterior", through="vigente hasta el"),
    "pt": Walk(
        city="Fortaleza", country="BR", locale="pt-BR",
        carried="Trazido da última revisão: confirme que continua válido.",
        refused="Há critérios trazidos da última revisão ainda não confirmados: DM1, DM2. "
        "Confirme que cada um continua válido, ou altere a resposta, antes de enviar.",
        accepted="aceito no ciclo anterior", through="válido até"),
}


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


@dataclass
class Program:
    today: date
    operator: Person
    reviewer: Person
    editors: dict[str, Person]

    @property
    def link_through(self) -> str:  # the day DM1's link was accepted as valid through
        return (self.today + timedelta(days=200)).isoformat()

    @property
    def document_through(self) -> str:
        return (self.today + timedelta(days=365)).isoformat()


@pytest.fixture(scope="module")
def program(portal: ApiService) -> Program:
    """Each language's city decided "not certified" (DM1 and DM2 met, DM3 not; DM1 with
    a link valid for 200 days and a document for a year), then reapplied."""
    today = program_today(Path(portal.env["WWC_DATA_DIR"]))
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    people = [(walk.editor, "city_editor", {"language": lang, "cities_to_join": [
        {"name": walk.city, "country": walk.country}]}) for lang, walk in WALKS.items()]
    for email, role, extra in (*people, (REVIEWER, "reviewer", {}),
                               (OPERATOR, "operator", {})):
        ok(admin.post("/api/accounts", json={"email": email, "display_name": email,
                                             "role": role, "password": PASSWORD, **extra}))
    found = Program(today=today, operator=portal.sign_in(OPERATOR, PASSWORD),
                    reviewer=portal.sign_in(REVIEWER, PASSWORD), editors={})
    reviewer = found.reviewer
    pdf = (SAMPLES / "inventory.pdf").read_bytes()
    for lang, walk in WALKS.items():
        editor = found.editors[lang] = portal.sign_in(walk.editor, PASSWORD)
        ok(editor.post("/api/cities", json={"name": walk.city, "country": walk.country,
                                            "population": 1_300_000}))
        ok(editor.post(f"/api/cities/{walk.key}/documents?criterion=DM1&name=inventory.pdf"
                       f"&valid_through={found.document_through}", content=pdf))
        claimed = answers(WWC_2022, [*MET, NOT_MET]).model_dump(mode="json")
        for code in claimed["criteria"]:
            claimed["criteria"][code]["evidence"] = [walk.link(code)]
        claimed["criteria"]["DM1"]["valid_through"] = {walk.link("DM1"): found.link_through}
        ok(editor.post(f"/api/cities/{walk.key}/assessment/submit",
                       json={"answers": claimed}))
        ok(found.operator.post(f"/api/cities/{walk.key}/reviewer",
                               json={"reviewer": REVIEWER}))
        ok(reviewer.post(f"/api/cities/{walk.key}/reviews", json={"reviews": [
            *({"code": code, "met": True} for code in MET),
            {"code": NOT_MET, "met": False, "note": "No minutes published."}]}))
        ok(reviewer.post(f"/api/cities/{walk.key}/review/complete", json={}))
        decided = ok(found.operator.post(f"/api/cities/{walk.key}/decision"))
        assert decided["last_decision_tier"] == "none", decided
        ok(editor.post(f"/api/cities/{walk.key}/reapply", json={}))
    return found


@pytest.fixture
def phone(browser: Browser, portal: ApiService, lang: str) -> Iterator[BrowserContext]:
    """A 390 px phone in the language's locale (not `is_mobile`: test_narrow_screens.py
    says why)."""
    context = browser.new_context(base_url=portal.url, viewport=PHONE, device_scale_factor=2,
                                  has_touch=True, locale=WALKS[lang].locale)
    context.set_default_timeout(30_000)
    yield context
    context.close()


def as_signed_in(context: BrowserContext, portal: ApiService, person: Person) -> Page:
    """A page of `context` in `person`'s session, opened when the scenario was set up
    (signing in is the other browser tests' walk; here it would only cost the time)."""
    context.clear_cookies()
    context.add_cookies([{"name": SESSION_COOKIE, "url": portal.url,
                          "value": person.http.cookies[SESSION_COOKIE]}])
    return context.new_page()


def fits(page: Page, where: str) -> None:
    wide = page.evaluate(WIDER_THAN_THE_SCREEN, PHONE["width"])
    assert wide is None, f"{where}: {wide}"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def submit(page: Page) -> None:
    """"Submit for review", then yes on the step (these answers would not be certified:
    the box that says so is ticked)."""
    page.click("[data-submit-assessment]")
    page.wait_for_url(re.compile(r".*/assessment/submit$"))
    page.check("[data-confirm-submit] input[name=understood]")
    page.click("[data-confirm-submit] button[type=submit]")


@pytest.mark.parametrize("lang", list(WALKS))
def test_a_reapplication_is_confirmed_then_submitted_and_the_reviewer_sees_last_cycle(
        phone: BrowserContext, portal: ApiService, program: Program, visits: Visits,
        lang: str) -> None:
    walk, shots = WALKS[lang], lang == "pt"  # pictures of one language are enough
    page = as_signed_in(phone, portal, program.editors[lang])
    assessment = f"/portal/cities/{walk.key}/assessment"
    page.goto(assessment)
    # Prefilled from the last review: DM1 and DM2 marked, in the page's language; DM3
    # (not met) not carried; DM1's link with its valid-through day.
    marks = page.locator("[data-carried]")
    expect(marks).to_have_count(2)
    expect(marks.first).to_contain_text(walk.carried)
    expect(page.locator('[data-criterion="DM1"] input[data-met]')).to_be_checked()
    expect(page.locator('[data-criterion="DM3"] input[data-met]')).not_to_be_checked()
    expect(page.locator(f'[data-link-through="{walk.link("DM1")}"]')).to_have_value(
        program.link_through)
    # What confirming DM1 attaches again: its document, with its own day.
    again = page.locator('[data-carried-documents="DM1"]')
    expect(again).to_contain_text("inventory.pdf")
    expect(again).to_contain_text(walk.through)
    fits(page, f"{lang} assessment")
    # The whole page (43 criteria) is scanned; the picture is of what the phone shows.
    visits.check(page, f"carry-over-{lang}-390", screenshots=False)
    if shots:
        page.locator("#criterion-DM1").evaluate("box => box.scrollIntoView()")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"carry-over-{lang}-390.png"))

    # "Submit for review": the step says, in the page's words, what to confirm first,
    # and offers nothing to send.
    page.click("[data-submit-assessment]")
    page.wait_for_url(re.compile(r".*/assessment/submit$"))
    expect(page.locator("[data-unconfirmed]")).to_have_text(walk.refused)
    expect(page.locator("[data-to-confirm] a")).to_have_count(2)
    expect(page.locator("[data-confirm-submit]")).to_have_count(0)
    fits(page, f"{lang} submit step")
    visits.check(page, f"carry-over-unconfirmed-{lang}-390", screenshots=shots)

    # Back to the answers, at DM2: unclaimed, saved as the page saves (DM1's day with it).
    page.locator('[data-to-confirm] a[href$="#criterion-DM2"]').click()
    page.wait_for_url(re.compile(r".*/assessment#criterion-DM2$"))
    page.locator('[data-criterion="DM2"] input[data-met]').uncheck()
    expect(page.locator("[data-save-state]")).to_have_attribute("data-kind", "saved",
                                                                 timeout=20_000)
    expect(page.locator('[data-carried="DM2"]')).to_be_hidden()  # nothing to confirm there
    expect(page.locator('[data-carried="DM1"]')).to_be_visible()
    editor = program.editors[lang]
    read = ok(editor.get(f"/api/cities/{walk.key}/application"))
    assert read["answers"]["criteria"]["DM2"]["met"] is False
    assert read["answers"]["criteria"]["DM1"]["valid_through"] == {
        walk.link("DM1"): program.link_through}
    # A second link for DM1 with a day of its own, and DM1 confirmed at once (the answers
    # changed are saved before the confirmation goes).
    new_link, new_through = walk.link("DM1-minutes"), program.today + timedelta(days=90)
    evidence = page.locator("#ev-DM1")
    evidence.fill(f"{walk.link('DM1')}\n{new_link}")
    page.locator(f'[data-link-through="{new_link}"]').fill(new_through.isoformat())
    page.locator('[data-carried="DM1"] button').click()
    page.wait_for_url(re.compile(r".*/assessment#criterion-DM1$"))
    expect(marks).to_have_count(0)  # DM1 confirmed; DM2 unclaimed needs no confirmation
    read = ok(editor.get(f"/api/cities/{walk.key}/application"))
    assert read["carried_over"] == []
    assert read["answers"]["criteria"]["DM1"]["valid_through"] == {
        walk.link("DM1"): program.link_through, new_link: new_through.isoformat()}
    documents = ok(editor.get(f"/api/cities/{walk.key}/documents"))
    assert [(d["criterion"], d["valid_through"]) for d in documents["documents"]] == [
        ("DM1", program.document_through)]  # came with the confirmation
    # A new document for DM1, valid through a day given beside it.
    slot = page.locator('[data-documents="DM1"]')
    expect(slot.locator("[data-document]")).to_have_count(1)  # the one carried over
    slot.locator("[data-valid-through]").fill(new_through.isoformat())
    slot.locator("input[data-file-input]").set_input_files(str(SAMPLES / "dashboard.png"))
    expect(slot.locator("[data-document]")).to_have_count(2)
    expect(slot.locator("[data-document]").last).to_contain_text(walk.through)
    fits(page, f"{lang} assessment confirmed")
    submit(page)
    page.wait_for_url(re.compile(r".*\?done=submitted$"))

    # The reviewer's screen: DM1's link and document accepted last cycle (the new ones
    # not), each day shown.
    ok(program.operator.post(f"/api/cities/{walk.key}/reviewer", json={"reviewer": REVIEWER}))
    review = as_signed_in(phone, portal, program.reviewer)
    review.goto(f"/portal/cities/{walk.key}/review?lang={lang}")
    row = review.locator('[data-review="DM1"]')
    expect(row.locator("[data-accepted-before]")).to_have_count(2)  # link, document
    expect(row.locator("[data-accepted-before]").first).to_have_text(walk.accepted)
    expect(row.locator(".hint", has_text=walk.through)).to_have_count(4)
    fits(review, f"{lang} review")
    visits.check(review, f"review-last-cycle-{lang}-390", screenshots=False)
    if shots:  # the criterion's evidence, its PDF's view closed (it draws late)
        row.locator("details.document-view").evaluate_all(
            "views => views.forEach((v) => { v.open = false; })")
        row.screenshot(path=str(ARTIFACTS / f"review-last-cycle-{lang}-390.png"))


def test_no_serious_accessibility_violation(visits: Visits) -> None:
    assert len(visits.scanned) == 3 * len(WALKS), visits.scanned
    assert not visits.violations, "\n".join(visits.violations)


def test_the_readmes_screenshots_are_there() -> None:
    """Copied from this module's artifacts (.artifacts/screenshots) after a run:
    carry-over-pt-390.png, and review-last-cycle-pt-390.png as review-last-cycle.png."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in ("carry-over-pt-390", "review-last-cycle"):
        assert (docs / f"{name}.png").exists(), name
