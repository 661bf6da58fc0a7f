"""The program's people on the portal, in a real browser, against the embedded stack:

1. a city joins, fills its self-assessment over two sessions (a reload keeps every
   answer; a lost connection keeps the unsaved ones and says so), watches the tier
   preview and the path to the next tier change; "Submit for review" asks once more
   (what will be sent, the tier, or plainly "not certified", what is missing; also at
   390 px), a link that is not one is refused in Spanish words, and the confirmed
   submission works without JavaScript; then the answers are read-only;
2. the reviewer records verdicts and asks a clarification, the city answers, the review
   is completed; a reviewer affiliated with the city is refused (in Portuguese words);
   the operator decides and is told the outcome, builds a cohort and announces it after
   a step listing its cities; the registry, map and certificate show the city only after
   the announcement;
3. a reviewer's notes survive a reload; a second city decided "not certified" reads,
   in Portuguese, each criterion not met with its note; the reviewer's history keeps the
   review after its decision, in three languages;
4. the pages speak English, Spanish and Portuguese, and axe finds no serious or critical
   violation on any page the flows opened.

The tests of this module run in order: each takes the program where the last left it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from domain.scoring import needed_for
from domain.standard import PercentTierRule
from domain.streams import city_key
from domain.tiers import Tier
from infra.standards.folder import load_catalog
from tests.browser.conftest import Visits, mailed_link, new_context, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService

pytestmark = pytest.mark.browser

CITY, COUNTRY = "Recife", "BR"
KEY = city_key(COUNTRY, CITY)
PASSWORD = "a long enough password 42"
EDITOR, REVIEWER, AFFILIATED, OPERATOR = ("editor@recife.test", "reviewer@program.test",
                                          "insider@program.test", "operator@program.test")
INVITEE = "luisa@recife.test"
STANDARD = load_catalog()["wwc-2022"]
RULE = STANDARD.tiers
assert isinstance(RULE, PercentTierRule)
SILVER, GOLD = needed_for(STANDARD, RULE, Tier.SILVER), needed_for(STANDARD, RULE, Tier.GOLD)
CODES = [c.code for c in STANDARD.criteria]


@pytest.fixture(scope="module", autouse=True)
def accounts(portal: ApiService) -> None:
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    # The editor is made before the city joins: by its name and country.
    to_join = {"cities_to_join": [{"name": CITY, "country": COUNTRY}], "language": "es"}
    for email, role, extra in ((EDITOR, "city_editor", to_join),
                               (REVIEWER, "reviewer", {}),
                               (AFFILIATED, "reviewer", {"affiliations": [KEY]}),
                               (OPERATOR, "operator", {})):
        answer = admin.post("/api/accounts", json={"email": email, "display_name": email,
                                                   "role": role, "password": PASSWORD,
                                                   **extra})
        assert answer.status_code == 201, answer.text


def tick(page: Page, codes: list[str]) -> None:
    """Claim each criterion as met with its evidence link, as a user types them."""
    for code in codes:
        box = page.locator(f'[data-criterion="{code}"]')
        box.locator("input[data-met]").check()
        box.locator("textarea[data-evidence]").fill(f"https://recife.example/evidence/{code}")


def saved(page: Page) -> None:
    expect(page.locator("[data-save-state]")).to_have_attribute("data-kind", "saved",
                                                                 timeout=20_000)


def test_public_pages_show_no_applicant(browser: Browser, portal: ApiService,
                                        visits: Visits) -> None:
    context = new_context(browser, portal, locale="pt-BR")
    page = context.new_page()
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Cidades certificadas")  # by Accept-Language
    visits.check(page, "registry-empty-pt")
    page.goto("/?lang=en")
    expect(page.locator("h1")).to_have_text("Certified cities")
    page.goto("/cohorts")
    visits.check(page, "cohorts-empty")
    page.goto("/sign-in")
    visits.check(page, "sign-in")
    context.close()


def test_a_city_joins_and_fills_its_assessment_over_two_sessions(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD, keyboard=True)
    # The account's language is Spanish: the portal speaks it without being asked.
    expect(page.locator("h1")).to_have_text("Mis ciudades")
    visits.check(page, "city-home")
    page.goto("/portal/join")
    page.fill("#j-name", CITY)
    page.fill("#j-country", "VE")
    page.fill("#j-population", "20000")
    # Eligibility is explained before anything is sent (in the page's Spanish: 30.000).
    expect(page.locator("[data-eligibility-note]")).to_contain_text("30.000")
    visits.check(page, "join")
    page.fill("#j-country", COUNTRY)
    page.fill("#j-population", "1488920")
    page.fill("#j-lat", "-8.05")
    page.fill("#j-lon", "-34.88")
    page.click("form[data-api] button[type=submit]")
    page.wait_for_url(f"**/portal/cities/{KEY}")
    expect(page.locator("[data-waiting]")).to_have_attribute("data-waiting", "city")
    # Since when, until when, and what: three sentences with a space between each (the
    # templates' stripped newlines once ran them together, "2026.Vence").
    expect(page.locator("[data-waiting]")).to_have_text(re.compile(r"\. \S.*\. \("))
    visits.check(page, "city-dashboard-assessing")

    page.goto(f"/portal/cities/{KEY}/assessment")
    expect(page.locator("legend").first).to_have_text("Gestión de datos")  # the standard's own
    first = CODES[:10]
    tick(page, first)
    saved(page)
    expect(page.locator("[data-preview-points]")).to_have_text(f"10 / {len(CODES)}")
    expect(page.locator("[data-next-tier] li")).to_have_count(SILVER - 10)
    # A lost connection: the answer stays in the page, the page says so, and it is
    # saved once the connection is back.
    context.set_offline(True)
    tick(page, [CODES[10]])
    expect(page.locator("[data-save-state]")).to_have_attribute("data-kind", "offline",
                                                                 timeout=20_000)
    context.set_offline(False)
    saved(page)
    visits.check(page, "assessment-first-session")
    # 11 of 43 earn no tier: the preview never says "you may submit" without saying so,
    # and "Submit for review" only asks, plainly saying it would not be certified.
    expect(page.locator("[data-ready]")).to_have_attribute("data-ready", "not-certified")
    expect(page.locator("[data-preview]")).not_to_contain_text("puede enviar")
    page.click("[data-submit-assessment]")
    page.wait_for_url(f"**/portal/cities/{KEY}/assessment/submit")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "none")
    expect(page.locator("[data-verdict]")).to_contain_text("no quedaría certificada")
    expect(page.locator("main")).not_to_contain_text("puede enviar")
    expect(page.locator("[data-claimed]")).to_have_attribute("data-claimed", "11")
    visits.check(page, "submit-not-certified")
    # One click on "yes" without ticking "I understand" sends nothing (nor does Enter).
    page.locator("[data-confirm-submit] button[type=submit]").click()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r".*/assessment/submit$"))
    page.click("text=No, volver a las respuestas")
    page.wait_for_url(f"**/portal/cities/{KEY}/assessment")
    expect(page.locator("[data-save-state]")).to_be_visible()  # still being assessed
    context.close()  # the first session ends

    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{KEY}/assessment")
    for code in CODES[:11]:  # every answer of the first session is there
        expect(page.locator(f'[data-criterion="{code}"] input[data-met]')).to_be_checked()
    page.reload()
    expect(page.locator(f'[data-criterion="{CODES[10]}"] input[data-met]')).to_be_checked()
    # A refusal in the page's language and words: a link that is not one.
    bad = page.locator(f'[data-criterion="{CODES[11]}"] textarea[data-evidence]')
    bad.fill("acta del consejo")
    expect(page.locator("[data-save-state]")).to_have_attribute("data-kind", "refused",
                                                                 timeout=20_000)
    expect(page.locator("[data-save-state]")).to_contain_text(
        "La evidencia debe ser un enlace web")
    for jargon in ("invalid_link", "http(s) URL", "["):
        expect(page.locator("[data-save-state]")).not_to_contain_text(jargon)
    visits.check(page, "refusal-es")
    tick(page, CODES[11:SILVER])
    page.locator("input[data-outcome]").first.check()
    saved(page)
    expect(page.locator("[data-preview-tier]")).to_have_attribute("data-preview-tier",
                                                                  "silver")
    expect(page.locator("[data-next-tier] li")).to_have_count(GOLD - SILVER)
    # A claim without its evidence is listed before submitting, and the confirmation
    # step lists it too, in words, with no way to send.
    box = page.locator(f'[data-criterion="{CODES[SILVER]}"]')
    box.locator("input[data-met]").check()
    expect(page.locator("[data-missing] li")).to_have_count(1)
    page.click("[data-submit-assessment]")
    page.wait_for_url(f"**/portal/cities/{KEY}/assessment/submit")
    expect(page.locator("[data-missing] li")).to_have_count(1)
    expect(page.locator("[data-missing]")).to_contain_text(CODES[SILVER])
    expect(page.locator("[data-confirm-submit]")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("missing_evidence")
    page.go_back()
    box = page.locator(f'[data-criterion="{CODES[SILVER]}"]')
    box.locator("input[data-met]").uncheck()
    saved(page)
    visits.check(page, "assessment")
    page.click("[data-submit-assessment]")
    page.wait_for_url(f"**/portal/cities/{KEY}/assessment/submit")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "silver")
    expect(page.locator("[data-claimed]")).to_have_attribute("data-claimed", str(SILVER))
    expect(page.locator("[data-complete]")).to_be_visible()
    visits.check(page, "submit-confirm")
    # On a phone: the same step, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert page.evaluate("document.querySelector('form.confirm').getBoundingClientRect()"
                         ".right") <= 390
    visits.check(page, "submit-confirm-390")
    context.close()

    # The confirmation works without JavaScript: the form posts, the city's page says
    # what happened.
    plain = new_context(browser, portal, java_script_enabled=False)
    page = plain.new_page()
    page.goto("/sign-in")
    page.fill("#email", EDITOR)
    page.fill("#password", PASSWORD)
    page.click("form[data-sign-in] button[type=submit]")
    page.wait_for_url("**/portal")
    page.goto(f"/portal/cities/{KEY}/assessment/submit")
    page.click("[data-confirm-submit] button[type=submit]")
    page.wait_for_url(f"**/portal/cities/{KEY}?done=submitted")
    expect(page.locator('[data-notice="submitted"]')).to_contain_text("Enviada a revisión")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "submitted")
    expect(page.locator("[data-waiting]")).to_have_attribute("data-waiting", "program")
    expect(page.locator("#renew-title")).to_have_count(0)  # no empty "Renewal"
    plain.close()

    context = new_context(browser, portal)  # with its script again, for axe
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{KEY}?done=submitted")
    visits.check(page, "city-submitted")
    # Submitted: the editor reads the answers, read-only, and nothing says "saved" or
    # "you may submit".
    page.click("text=Sus respuestas enviadas (solo lectura)")
    page.wait_for_url(f"**/portal/cities/{KEY}/assessment")
    expect(page.locator(f'[data-criterion="{CODES[0]}"] input[data-met]')).to_be_checked()
    expect(page.locator(f'[data-criterion="{CODES[0]}"] input[data-met]')).to_be_disabled()
    expect(page.locator("[data-save-state]")).to_have_count(0)
    expect(page.locator("[data-submit-assessment]")).to_have_count(0)
    for said in ("guardadas", "puede enviar", "Enviar a revisión"):
        expect(page.locator("main")).not_to_contain_text(said)
    expect(page.locator(".lead")).to_contain_text("Enviada el")
    visits.check(page, "assessment-read-only")
    context.close()


def test_review_clarification_decision_and_announcement(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    operator = new_context(browser, portal)
    page = operator.new_page()
    sign_in(page, OPERATOR, PASSWORD)
    page.wait_for_url("**/portal/pipeline")
    page.goto("/portal/pipeline?lang=pt")  # this operator reads Portuguese from now on
    card = page.locator(f'[data-city="{KEY}"]')
    card.locator("select").select_option(AFFILIATED)
    card.locator("button[type=submit]").click()
    # The refusal in the page's language and words, with its facts: no code, no English.
    expect(card.locator("[data-alert]")).to_have_text(
        f"{AFFILIATED} tem vínculo com {CITY}, então não pode revisá-la "
        "(conflito de interesses).")
    visits.check(page, "refusal-pt")
    card.locator("select").select_option(REVIEWER)
    with page.expect_navigation():  # each change reloads the page it was made on
        card.locator("button[type=submit]").click()
    expect(page.locator(f'#col-under_review ~ ul [data-city="{KEY}"]')).to_be_visible()

    reviewer = new_context(browser, portal)
    rpage = reviewer.new_page()
    sign_in(rpage, REVIEWER, PASSWORD)
    rpage.wait_for_url("**/portal/reviews")
    visits.check(rpage, "review-queue")
    rpage.click(f'a[href="/portal/cities/{KEY}/review"]')
    for code in CODES[:SILVER]:
        rpage.locator(f'[data-review="{code}"] input[value="met"]').check()
    saved(rpage)  # the sheet is saved as the reviewer goes: a reload keeps every verdict
    rpage.reload()
    expect(rpage.locator(f'[data-review="{CODES[0]}"] input[value="met"]')).to_be_checked()
    rpage.select_option("#q-criterion", CODES[0])
    rpage.fill("#q-question", "Which body meets quarterly, and where are its minutes?")
    with rpage.expect_navigation():
        rpage.click("button:text-is('Ask')")
    expect(rpage.locator(".thread")).to_contain_text("waiting for the city's answer")
    visits.check(rpage, "review")

    city = new_context(browser, portal)
    cpage = city.new_page()
    sign_in(cpage, EDITOR, PASSWORD)
    cpage.goto(f"/portal/cities/{KEY}")
    # Two waits now: the city's answer (due in 30 days) and the review (due in 45).
    expect(cpage.locator('[data-wait="clarification"]')).to_have_attribute("data-waiting",
                                                                          "city")
    expect(cpage.locator('[data-wait="clarification"]')).to_contain_text("Vence")
    expect(cpage.locator('[data-wait="review"]')).to_have_attribute("data-waiting",
                                                                   "reviewer")
    visits.check(cpage, "city-clarification")
    cpage.fill("textarea[name=answer]", "The data governance board; minutes are online.")
    cpage.fill("textarea[name=evidence]", "https://recife.example/board/minutes")
    with cpage.expect_navigation():
        cpage.click("form[data-api] button[type=submit] >> nth=0")
    expect(cpage.locator(".answer")).to_contain_text("data governance board")

    rpage.reload()
    rpage.click("button:text-is('Complete the review')")
    rpage.wait_for_url("**/portal/reviews/history")

    page.goto("/portal/pipeline")
    page.locator(f'[data-city="{KEY}"] button[type=submit]').click()
    # Deciding says what was decided, and who hears of it.
    page.wait_for_url(f"**/portal/pipeline?decided={KEY}")
    expect(page.locator('[data-notice="decided"]')).to_have_attribute("data-tier", "silver")
    expect(page.locator('[data-notice="decided"]')).to_contain_text(
        f"{CITY}: decidida, prata")
    expect(page.locator(f'#col-decided ~ ul [data-city="{KEY}"]')).to_be_visible()
    visits.check(page, "pipeline-decided")

    # Decided but not announced: nothing public yet.
    public = new_context(browser, portal)
    ppage = public.new_page()
    ppage.goto("/")
    expect(ppage.locator("table.registry")).to_have_count(0)
    assert httpx.get(f"{portal.url}/cities/{KEY}").status_code == 404

    page.goto("/portal/cohorts")
    expect(page.locator("main")).to_contain_text(CITY)
    page.fill("#co-id", "portal-cohort")
    # Dated tomorrow, so that it waits for "announce now" (one dated today announces itself
    # at once, racing the click).
    today = date.fromisoformat(page.get_attribute("#co-date", "min") or "")
    page.fill("#co-date", (today + timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.click("form[data-api] button[type=submit] >> nth=0")
    # "Announce now" asks once more, listing the cities it will announce.
    page.locator('[data-cohort="portal-cohort"] a.button').click()
    page.wait_for_url("**/portal/cohorts/portal-cohort/announce")
    expect(page.locator("[data-members] [data-member]")).to_have_count(1)
    expect(page.locator(f'[data-member="{KEY}"]')).to_contain_text(CITY)
    expect(page.locator("h1")).to_have_text("Anunciar agora a turma portal-cohort?")
    visits.check(page, "announce-confirm")
    page.keyboard.press("Enter")  # nothing focused that sends: nothing announced
    expect(page).to_have_url(re.compile(r".*/announce$"))
    page.locator("[data-confirm-announce] button[type=submit]").click()
    page.wait_for_url("**/portal/cohorts?announced=portal-cohort")
    expect(page.locator('[data-notice="announced"]')).to_contain_text(CITY)
    expect(page.locator('a[href="/cohorts/portal-cohort"]').first).to_be_visible()
    visits.check(page, "cohort-builder")

    ppage.goto("/")
    expect(ppage.locator("table.registry")).to_contain_text(CITY)
    expect(ppage.locator(f'svg a[href="/cities/{KEY}"] circle.marker-silver')).to_have_count(1)
    visits.check(ppage, "registry")
    ppage.goto("/?tier=gold")
    expect(ppage.locator("table.registry")).to_have_count(0)
    ppage.goto(f"/cities/{KEY}")
    visits.check(ppage, "public-city")
    ppage.click("text=Check the certificate")
    expect(ppage.locator("[data-chain]")).to_contain_text("verifies")
    expect(ppage.locator("[data-decision-hash]")).to_have_text(re.compile("^[0-9a-f]{64}$"))
    visits.check(ppage, "certificate")
    ppage.goto("/cohorts/portal-cohort")
    visits.check(ppage, "cohort")

    # The city sees its report after the decision.
    cpage.goto(f"/portal/cities/{KEY}")
    expect(cpage.locator("[data-chart]")).to_be_visible()
    visits.check(cpage, "city-report")
    for context in (operator, reviewer, city, public):
        context.close()


NOTES = {CODES[4]: "The inventory link answers 404; send the published one.",
         CODES[5]: "The minutes are from 2019: the body has not met since."}


def test_reviewers_notes_reach_the_city_and_their_reviews_stay_readable(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    """The reviewer writes notes, reloads and finds them, completes the review; it is
    decided "not certified"; the city's editor reads, in Portuguese, each criterion not
    met with its note; the reviewer's history keeps the review, in three languages."""
    key = city_key("BR", "Caruaru")
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    made = admin.post("/api/accounts", json={
        "email": "editora@caruaru.test", "display_name": "Editora", "role": "city_editor",
        "password": PASSWORD, "language": "pt",
        "cities_to_join": [{"name": "Caruaru", "country": "BR"}]})
    assert made.status_code == 201, made.text
    editor = portal.sign_in("editora@caruaru.test", PASSWORD)
    assert editor.post("/api/cities", json={"name": "Caruaru", "country": "BR",
                                            "population": 365_278}).status_code == 201
    claimed = {"criteria": {code: {"met": True, "evidence": [f"https://caruaru.example/{code}"]}
                            for code in CODES[:6]}, "outcomes": {"broadband": True}}
    submitted = editor.post(f"/api/cities/{key}/assessment/submit", json={"answers": claimed})
    assert submitted.status_code == 200, submitted.text
    operator = portal.sign_in(OPERATOR, PASSWORD)
    assert operator.post(f"/api/cities/{key}/reviewer",
                         json={"reviewer": REVIEWER}).status_code == 200

    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, REVIEWER, PASSWORD)
    page.goto(f"/portal/cities/{key}/review")
    for code in CODES[:6]:
        verdict = "not_met" if code in NOTES else "met"
        page.locator(f'[data-review="{code}"] input[value="{verdict}"]').check()
    for code, note in NOTES.items():
        page.fill(f"#note-{code}", note)
    saved(page)
    page.reload()  # nothing is lost: the verdicts and notes come back as written
    for code, note in NOTES.items():
        expect(page.locator(f"#note-{code}")).to_have_value(note)
        expect(page.locator(f'[data-review="{code}"] input[value="not_met"]')).to_be_checked()
    # Offline, a note is kept in the page and in this browser; the tab closed before the
    # connection came back, the next one restores it and saves it (autosave.js).
    context.set_offline(True)
    page.fill(f"#note-{CODES[0]}", "Checked offline")
    expect(page.locator("[data-save-state]")).to_have_attribute("data-kind", "offline",
                                                                 timeout=20_000)
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(f"/portal/cities/{key}/review")
    expect(page.locator(f"#note-{CODES[0]}")).to_have_value("Checked offline")
    saved(page)
    page.reload()
    expect(page.locator(f"#note-{CODES[0]}")).to_have_value("Checked offline")
    visits.check(page, "review-notes", screenshots=False)
    page.click("button:text-is('Complete the review')")
    page.wait_for_url("**/portal/reviews/history")
    decided = operator.post(f"/api/cities/{key}/decision")
    assert decided.json()["last_decision_tier"] == "none", decided.text

    city = new_context(browser, portal)
    cpage = city.new_page()
    sign_in(cpage, "editora@caruaru.test", PASSWORD)
    cpage.goto(f"/portal/cities/{key}")
    findings = cpage.locator('[data-findings="not-met"] [data-finding]')
    expect(findings).to_have_count(len(NOTES))
    for code, note in NOTES.items():
        expect(cpage.locator(f'[data-finding="{code}"]')).to_contain_text("não atendido")
        expect(cpage.locator(f'[data-finding="{code}"] [data-note]')).to_have_text(note)
    expect(cpage.locator("[data-chart]")).to_contain_text("Gestão de dados")
    cpage.locator("#report-title").scroll_into_view_if_needed()
    visits.check(cpage, "report-findings-pt")
    # On a phone the chart's words are the page's size (an SVG once shrank them to ~7 px).
    cpage.set_viewport_size({"width": 390, "height": 844})
    size = cpage.locator(".chart-label").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 14, size

    # The reviewer's history keeps the review after its decision, in three languages.
    for language, outcome in (("en", "not certified"), ("es", "no certificada"),
                              ("pt", "não certificada")):
        page.goto(f"/portal/reviews/history?lang={language}")
        expect(page.locator(f'[data-review-record="{key}/1"]')).to_contain_text(outcome)
        visits.check(page, f"review-history-{language}", screenshots=language == "en")
    page.click(f'[data-review-record="{key}/1"] a')
    for code, note in NOTES.items():
        expect(page.locator(f'[data-criterion="{code}"] td.note')).to_have_text(note)
    visits.check(page, "past-review", screenshots=False)
    for opened in (context, city):
        opened.close()


def test_admin_pages_and_languages(browser: Browser, portal: ApiService,
                                   visits: Visits) -> None:
    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/portal/accounts")
    expect(page.locator("main table")).to_contain_text(EDITOR)
    visits.check(page, "accounts")
    # An editor for a city still to join: by its name and country, not a key to mistype.
    page.fill("#a-email", "editor@olinda.test")
    page.fill("#a-name", "Editora")
    page.select_option("#a-role", "city_editor")
    page.fill("#a-join-name", "Olinda")
    page.fill("#a-join-country", "BR")
    page.click("form[data-invite] button[type=submit]")
    expect(page.locator("[data-notice]")).to_contain_text("Invitation sent to editor@olinda.test")
    expect(page.locator("main table")).to_contain_text("br-olinda")
    page.goto(f"/portal/cities/{KEY}?lang=pt")
    expect(page.locator("#timeline-title")).to_have_text("Linha do tempo")
    visits.check(page, "operator-city-pt")
    page.goto("/portal/cities/us-nowhere")
    expect(page.locator("h1")).to_have_text("Não encontrado")  # the language is remembered
    context.close()


def test_an_admin_invites_by_mail_and_the_invitee_lands_signed_in(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    admin = new_context(browser, portal)
    page = admin.new_page()
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/portal/accounts?lang=en")
    page.fill("#a-email", INVITEE)
    page.fill("#a-name", "Luísa")
    page.select_option("#a-role", "city_editor")
    page.select_option("#a-lang", "pt")  # hers: the mail and the page it opens speak it
    # The city from the picker, found by a part of its name: Enter ticks the one left.
    page.fill("#picker-filter", "reci")
    expect(page.locator("[data-picker-count]")).to_contain_text("1 of")
    page.press("#picker-filter", "Enter")
    expect(page.locator(f'input[name="cities"][value="{KEY}"]')).to_be_checked()
    visits.check(page, "accounts-invite")
    page.click("form[data-invite] button[type=submit]")
    expect(page.locator("[data-notice]")).to_contain_text(f"Invitation sent to {INVITEE}")

    link = mailed_link(portal, INVITEE)  # from the real SMTP server, as she gets it
    invitee = browser.new_context(base_url=portal.url, viewport={"width": 390, "height": 844})
    invitee.set_default_timeout(30_000)
    her = invitee.new_page()
    her.goto(link)
    expect(her.locator("h1")).to_have_text("Boas-vindas, Luísa: escolha sua senha")
    visits.check(her, "set-password-390")
    her.fill("#password", "uma senha longa o bastante")
    her.fill("#confirm", "uma senha longa o bastante")
    her.click("form[data-set-password] button[type=submit]")
    her.wait_for_url("**/portal")
    expect(her.locator("main")).to_contain_text(CITY)  # signed in, her city
    expect(her.locator("h1")).to_have_text("Minhas cidades")
    her.goto(link)  # a link works once
    expect(her.locator("[data-link-problem]")).to_have_attribute("data-link-problem",
                                                                 "link_used")
    visits.check(her, "link-used-pt", screenshots=False)
    invitee.close()

    # Found by her city's name; disabled, her session ends; enabled, she signs in again.
    page.goto("/portal/accounts?q=recife&lang=en")
    expect(page.locator("[data-account-count]")).to_contain_text("found for “recife”")
    expect(page.locator(f'[data-account="{INVITEE}"]')).to_be_visible()
    expect(page.locator(f'[data-account="{OPERATOR}"]')).to_have_count(0)
    page.click(f'[data-account="{INVITEE}"] a')
    visits.check(page, "account")
    again = new_context(browser, portal)
    she = again.new_page()
    sign_in(she, INVITEE, "uma senha longa o bastante")
    page.fill("#reason", "left the city hall")
    page.click("form[data-disable] button[type=submit]")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "disabled")
    she.goto("/portal")
    expect(she).to_have_url(re.compile(r"/sign-in\?next="))
    page.click("form[data-enable] button[type=submit]")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "active")
    sign_in(she, INVITEE, "uma senha longa o bastante")
    again.close()
    admin.close()


def test_a_one_time_password_is_changed_before_anything_else(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    made = admin.post("/api/accounts", json={"email": "temp@program.test",
                                             "display_name": "Temp", "role": "operator"})
    assert made.status_code == 201, made.text
    given = made.json()["password"]
    context = new_context(browser, portal)
    page = context.new_page()
    page.goto("/sign-in?lang=es")
    page.fill("#email", "temp@program.test")
    page.fill("#password", given)
    page.click("form[data-sign-in] button[type=submit]")
    page.wait_for_url(re.compile(r"/account/password\?next="))
    expect(page.locator("[data-must-change]")).to_be_visible()
    visits.check(page, "password-must-change-es", screenshots=False)
    page.goto("/portal/pipeline")  # nothing else opens
    page.wait_for_url(re.compile(r"/account/password\?next=%2Fportal%2Fpipeline"))
    page.fill("#current", given)
    page.fill("#new", "mi propia contraseña larga")
    page.fill("#confirm", "mi propia contraseña larga")
    page.click("form[data-change-password] button[type=submit]")
    page.wait_for_url("**/portal/pipeline")
    expect(page.locator("h1")).to_be_visible()
    context.close()


def test_the_readmes_screenshots_of_the_steps_are_there() -> None:
    """Copied from this module's artifacts (.artifacts/screenshots) after a run."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in ("submit-not-certified", "submit-confirm-390", "announce-confirm",
                 "pipeline-decided", "refusal-es", "refusal-pt", "report-findings-pt",
                 "accounts-invite", "set-password-390"):
        assert (docs / f"{name}.png").exists(), name


def test_no_serious_accessibility_violation_on_any_page(visits: Visits) -> None:
    assert len(visits.scanned) >= 15, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)
