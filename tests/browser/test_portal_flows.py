"""The program's people on the portal, in a real browser, against the embedded stack:

1. a city joins, fills its self-assessment over two sessions (a reload keeps every
   answer; a lost connection keeps the unsaved ones and says so), watches the tier
   preview and the path to the next tier change, and submits;
2. the reviewer records verdicts and asks a clarification, the city answers, the review
   is completed; a reviewer affiliated with the city is refused; the operator decides,
   builds a cohort and announces it; the registry, map and certificate show the city
   only after the announcement;
3. the pages speak English, Spanish and Portuguese, and axe finds no serious or critical
   violation on any page the flows opened.

The tests of this module run in order: each takes the program where the last left it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from domain.scoring import needed_for
from domain.standard import PercentTierRule
from domain.streams import city_key
from domain.tiers import Tier
from infra.standards.folder import load_catalog
from tests.browser.conftest import Visits, new_context, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService

pytestmark = pytest.mark.browser

CITY, COUNTRY = "Recife", "BR"
KEY = city_key(COUNTRY, CITY)
PASSWORD = "a long enough password 42"
EDITOR, REVIEWER, AFFILIATED, OPERATOR = ("editor@recife.test", "reviewer@program.test",
                                          "insider@program.test", "operator@program.test")
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
    context.close()  # the first session ends

    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{KEY}/assessment")
    for code in CODES[:11]:  # every answer of the first session is there
        expect(page.locator(f'[data-criterion="{code}"] input[data-met]')).to_be_checked()
    page.reload()
    expect(page.locator(f'[data-criterion="{CODES[10]}"] input[data-met]')).to_be_checked()
    tick(page, CODES[11:SILVER])
    page.locator("input[data-outcome]").first.check()
    saved(page)
    expect(page.locator("[data-preview-tier]")).to_have_attribute("data-preview-tier",
                                                                  "silver")
    expect(page.locator("[data-next-tier] li")).to_have_count(GOLD - SILVER)
    # A claim without its evidence is listed before submitting, and refused if sent.
    box = page.locator(f'[data-criterion="{CODES[SILVER]}"]')
    box.locator("input[data-met]").check()
    expect(page.locator("[data-missing] li")).to_have_count(1)
    page.click("[data-submit-assessment]")
    expect(page.locator("form[data-assessment] [data-alert]")).to_contain_text(
        "missing_evidence")
    box.locator("input[data-met]").uncheck()
    saved(page)
    visits.check(page, "assessment")
    page.click("[data-submit-assessment]")
    page.wait_for_url(f"**/portal/cities/{KEY}")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "submitted")
    expect(page.locator("[data-waiting]")).to_have_attribute("data-waiting", "program")
    context.close()


def test_review_clarification_decision_and_announcement(
        browser: Browser, portal: ApiService, visits: Visits) -> None:
    operator = new_context(browser, portal)
    page = operator.new_page()
    sign_in(page, OPERATOR, PASSWORD)
    page.wait_for_url("**/portal/pipeline")
    card = page.locator(f'[data-city="{KEY}"]')
    card.locator("select").select_option(AFFILIATED)
    card.locator("button[type=submit]").click()
    expect(card.locator("[data-alert]")).to_contain_text("conflict_of_interest")
    visits.check(page, "pipeline-conflict")
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
    with rpage.expect_navigation():  # recorded: the page reloads with the verdicts
        rpage.click("form[data-review-sheet] button[type=submit]")
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
    rpage.wait_for_url("**/portal/reviews")

    page.goto("/portal/pipeline")
    with page.expect_navigation():
        page.locator(f'[data-city="{KEY}"] button[type=submit]').click()
    expect(page.locator(f'#col-decided ~ ul [data-city="{KEY}"]')).to_be_visible()
    visits.check(page, "pipeline")

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
    with page.expect_navigation():
        page.locator('[data-cohort="portal-cohort"] button').click()
    expect(page.locator('a[href="/cohorts/portal-cohort"]')).to_be_visible()
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
    expect(cpage.locator("svg.chart")).to_be_visible()
    visits.check(cpage, "city-report")
    for context in (operator, reviewer, city, public):
        context.close()


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
    page.click("form[data-api] button[type=submit]")
    expect(page.locator("form[data-api] [data-alert]")).to_contain_text("password")
    page.reload()
    expect(page.locator("main table")).to_contain_text("br-olinda")
    page.goto(f"/portal/cities/{KEY}?lang=pt")
    expect(page.locator("#timeline-title")).to_have_text("Linha do tempo")
    visits.check(page, "operator-city-pt")
    page.goto("/portal/cities/us-nowhere")
    expect(page.locator("h1")).to_have_text("Não encontrado")  # the language is remembered
    context.close()


def test_no_serious_accessibility_violation_on_any_page(visits: Visits) -> None:
    assert len(visits.scanned) >= 15, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)
