"""The portal on a phone, and in the reader's own conventions.

Every page each audience can reach (the public, a city's editor, a reviewer, an operator,
an admin) is opened at 390 x 844 CSS pixels (a current phone) in English, Spanish and
Portuguese: none may scroll sideways (`scrollWidth <= innerWidth`), axe finds no serious
or critical violation, and no request the page makes is answered 404 (the favicon
included). The same pages show numbers, shares and dates as the page's language writes
them (1.773.718, 72,09 %, 2 dic 2026), countries and standards by name, and the tier
"none" as "not certified". Then the small things: the join button waits while the
eligibility note objects, the sticky save state never covers the focused criterion, the
sign-in page puts the cursor in the e-mail field, and the map says which cities it does
not show.

The program these pages show is set up through the API first (five cities of one
editor: two certified and announced, one of them joined without a location; one under
review with a clarification open; one submitted, waiting for a reviewer; one still
filling its assessment; and a cohort to come)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from domain.streams import city_key
from infra.i18n.formats import LocaleFormats
from tests.browser.conftest import Visits, mailed_link, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person
from tests.factories import WWC_2022, answers

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
LANGUAGES = ("en", "es", "pt")
PASSWORD = "a long enough password 42"
EDITOR, REVIEWER, OPERATOR = ("editor@parana.test", "reviewer@program.test",
                              "operator@program.test")
COHORT = "phones-cohort"
# name, population, location (None: joined without one)
CERTIFIED = ("Curitiba", 1_773_718, (-25.43, -49.27))  # 31 of 43 met: gold, 72.09 %
UNPLACED = ("Ponta Grossa", 358_371, None)  # 22 of 43: silver, not on the map
UNDER_REVIEW = ("Londrina", 555_965, (-23.31, -51.16))
ASSESSING = ("Maringá", 409_657, (-23.42, -51.94))
WAITING = ("Cascavel", 348_051, (-24.96, -53.46))  # submitted, no reviewer yet
A, B, C, D, E = (city_key("BR", city[0]) for city in (CERTIFIED, UNPLACED, UNDER_REVIEW,
                                                       ASSESSING, WAITING))


@dataclass(frozen=True)
class Program:
    certificate: str  # the certified city's certificate page
    set_password: str  # the page an invitation's link opens (its path and query)
    account: str  # an account's page, for admins


def person(portal: ApiService, admin: Person, email: str, role: str,
           **extra: Any) -> Person:
    made = admin.post("/api/accounts", json={"email": email, "display_name": email,
                                             "role": role, "password": PASSWORD, **extra})
    assert made.status_code == 201, made.text
    return portal.sign_in(email, PASSWORD)


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture(scope="module")
def program(portal: ApiService) -> Program:
    return set_up(portal)


def set_up(portal: ApiService) -> Program:
    """The program the pages show, through the API as its people would make it."""
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    cities = (CERTIFIED, UNPLACED, UNDER_REVIEW, ASSESSING, WAITING)
    editor = person(portal, admin, EDITOR, "city_editor", language="pt",
                    cities_to_join=[{"name": n, "country": "BR"} for n, _, _ in cities])
    reviewer = person(portal, admin, REVIEWER, "reviewer")
    operator = person(portal, admin, OPERATOR, "operator")
    for name, population, place in cities:
        location = ({"location": {"latitude": place[0], "longitude": place[1]}}
                    if place else {})
        ok(editor.post("/api/cities", json={"name": name, "country": "BR",
                                            "population": population, **location}))
    for key, met in ((A, 31), (B, 22), (C, 12), (E, 25)):
        claimed = answers(WWC_2022, met).model_dump(mode="json")
        ok(editor.post(f"/api/cities/{key}/assessment/submit", json={"answers": claimed}))
        if key == E:
            continue  # waits on the pipeline board for a reviewer
        ok(operator.post(f"/api/cities/{key}/reviewer", json={"reviewer": REVIEWER}))
        codes = list(claimed["criteria"])
        ok(reviewer.post(f"/api/cities/{key}/reviews", json={"reviews": [
            {"code": code, "met": True, "note": "Checked against the published page."}
            for code in (codes if key != C else codes[:5])]}))
    for key in (A, B):
        ok(reviewer.post(f"/api/cities/{key}/review/complete", json={}))
        ok(operator.post(f"/api/cities/{key}/decision"))
    ok(reviewer.post(f"/api/cities/{C}/clarifications", json={
        "criterion": WWC_2022.codes[0],
        "question": "Which body meets quarterly, and where are its minutes published?"}))
    # D fills its assessment: a draft of a few answers, saved.
    loaded = editor.get(f"/api/cities/{D}/application")
    draft = answers(WWC_2022, 4).model_dump(mode="json")
    ok(editor.send("PUT", f"/api/cities/{D}/assessment", json=draft,
                   headers={"If-Match": loaded.headers["ETag"]}))
    ok(operator.post("/api/cohorts", json={
        "cohort_id": COHORT, "announce_on": str(date.today() + timedelta(days=2))}))
    ok(operator.post(f"/api/cohorts/{COHORT}/announce"))
    # One to come, for the cohort builder's card.
    ok(operator.post("/api/cohorts", json={
        "cohort_id": "phones-later", "announce_on": str(date.today() + timedelta(days=60))}))
    public = portal.client()
    registry: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while {A, B} - {row["city_key"] for row in registry}:
        assert time.monotonic() < deadline, registry
        registry = public.get("/api/registry").json()["items"]
        time.sleep(0.2)
    awarded = next(row["awarded_on"] for row in registry if row["city_key"] == A)
    invited = ok(admin.post("/api/accounts/invitations", json={
        "email": "invited@parana.test", "display_name": "Invited", "role": "reviewer"}))
    link = mailed_link(portal, "invited@parana.test")
    return Program(certificate=f"/certificates/{A}/{awarded}",
                   set_password=link.split("lang=")[0].rstrip("&?").split(portal.url)[1],
                   account=f"/portal/accounts/{invited['account']['account_id']}")


def pages(program: Program) -> dict[str, tuple[str | None, list[str]]]:
    """Each audience: who signs in, and every page it can reach."""
    return {
        "public": (None, ["/", "/?country=BR&tier=gold", "/cohorts", f"/cohorts/{COHORT}",
                          f"/cities/{A}", program.certificate, "/sign-in",
                          "/cities/br-nowhere", "/forgot-password", program.set_password]),
        "editor": (EDITOR, ["/portal", "/portal/join", f"/portal/cities/{A}",
                            f"/portal/cities/{C}", f"/portal/cities/{C}/assessment",
                            f"/portal/cities/{D}", f"/portal/cities/{D}/assessment"]),
        "reviewer": (REVIEWER, ["/portal/reviews", f"/portal/cities/{C}",
                                f"/portal/cities/{C}/review", "/portal/reviews/history",
                                f"/portal/cities/{A}/reviews/1"]),
        "operator": (OPERATOR, ["/portal/pipeline", "/portal/cohorts", "/portal/outbox",
                                f"/portal/cities/{A}", f"/portal/cities/{C}/review"]),
        "admin": (ADMIN_EMAIL, ["/portal/accounts", program.account, "/portal/pipeline"]),
    }


def phone(browser: Browser, portal: ApiService) -> BrowserContext:
    # Not `is_mobile`: a mobile browser zooms out to fit a page too wide, which would make
    # innerWidth grow with it and hide the very fault looked for.
    context = browser.new_context(base_url=portal.url, viewport=PHONE,
                                  device_scale_factor=2, has_touch=True)
    context.set_default_timeout(30_000)
    return context


# What sticks out past the right edge, for the failure's message.
WIDER_THAN_THE_SCREEN = """(phone) => {
  const width = window.innerWidth, doc = document.documentElement;
  if (width !== phone) return `the window is ${width} px wide, not ${phone}`;
  if (doc.scrollWidth <= width) return null;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className ? "." + e.className.split(" ")[0] : "");
  const wide = [...document.querySelectorAll("main *, header *, footer *")]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .map((e) => `${name(e)} (${Math.round(e.getBoundingClientRect().right)} px)`);
  return `${doc.scrollWidth} px wide: ${wide.slice(0, 4).join(", ")}`;
}"""


def missing_requests(page: Page) -> list[str]:
    """Every URL the page asked for and was answered 404, kept as the page loads."""
    seen: list[str] = []
    page.on("response", lambda r: seen.append(r.url) if r.status == 404 else None)
    return seen


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, portal: ApiService,
                                             program: Program, visits: Visits,
                                             language: str) -> None:
    too_wide, not_found, opened = [], [], 0
    for audience, (email, paths) in pages(program).items():
        context = phone(browser, portal)
        page = context.new_page()
        if email:
            sign_in(page, email, ADMIN_PASSWORD if email == ADMIN_EMAIL else PASSWORD)
        missing = missing_requests(page)
        for path in paths:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{path}{joiner}lang={language}")
            page.wait_for_load_state("load")
            opened += 1
            wide = page.evaluate(WIDER_THAN_THE_SCREEN, PHONE["width"])
            if wide:
                too_wide.append(f"{audience} {path} ({language}): {wide}")
            name = re.sub(r"[^a-z0-9]+", "-", f"phone-{language}-{audience}-{path}").strip("-")
            # Every page is scanned by axe in every language; pictures of one language
            # are enough to look at (full-page shots at twice the density cost most).
            visits.check(page, name, screenshots=language == "es")
        not_found += [url for url in missing if "br-nowhere" not in url]
        context.close()
    assert opened >= 20
    assert not too_wide, "\n".join(too_wide)
    assert not not_found, not_found


def test_no_serious_accessibility_violation_on_a_phone(visits: Visits) -> None:
    assert len(visits.scanned) >= 60, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)


@pytest.mark.parametrize("language", ["es", "pt"])
def test_numbers_dates_and_names_read_as_the_page_writes_them(
        browser: Browser, portal: ApiService, program: Program, language: str) -> None:
    formats = LocaleFormats(language)
    context = phone(browser, portal)
    page = context.new_page()
    page.goto(f"/?lang={language}")
    registry = page.locator("table.registry")
    expect(registry).to_contain_text("Brasil")  # not BR
    expect(registry).to_contain_text("What Works Cities Certification Standard v3.0 (2022)")
    expect(registry).not_to_contain_text("wwc-2022")
    # Ponta Grossa joined without a location: the map says so, and which city it is.
    unmapped = page.locator('[data-unmapped="no-location"]')
    expect(unmapped).to_contain_text("1 ")
    expect(unmapped.locator("a")).to_have_text("Ponta Grossa")
    expect(page.locator(f'svg a[href="/cities/{A}"]')).to_have_count(1)
    expect(page.locator(f'svg a[href="/cities/{B}"]')).to_have_count(0)
    page.goto(f"/cities/{A}?lang={language}")
    expect(page.locator("dl.facts")).to_contain_text("Brasil")
    context.close()

    context = phone(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{A}?lang={language}")
    # 31 of 43 criteria: 72.09 %, written as the language writes a share.
    expect(page.locator(".report")).to_contain_text(formats.percent(72.09))
    timeline = page.locator("table.timeline")
    expect(timeline).to_contain_text("1.773.718")
    expect(timeline).to_contain_text(formats.percent(72.09))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", timeline.inner_text()), timeline.inner_text()
    assert not re.search(r"\d,\d{3},\d{3}", timeline.inner_text())
    # The tier "none" reads as words, never "none" or "nenhum"/"ninguno".
    page.goto(f"/portal/cities/{C}?lang={language}")
    words = {"es": "no certificada", "pt": "não certificada"}[language]
    expect(page.locator("dl.facts .tier")).to_have_text(words)
    page.goto(f"/portal/join?lang={language}")
    expect(page.locator("#who-may ~ p").first).to_contain_text("30.000")
    context.close()


def test_the_tier_none_reads_not_certified_in_english(
        browser: Browser, portal: ApiService, program: Program) -> None:
    context = phone(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{C}?lang=en")
    expect(page.locator("dl.facts .tier")).to_have_text("not certified")
    context.close()


def test_the_join_button_waits_while_the_city_does_not_qualify(
        browser: Browser, portal: ApiService, program: Program) -> None:
    context = phone(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto("/portal/join?lang=es")
    button = page.locator("form[data-eligibility] button[type=submit]")
    page.fill("#j-name", "Paranaguá")
    page.fill("#j-country", "FR")
    expect(page.locator("[data-eligibility-note]")).not_to_be_empty()
    expect(button).to_be_disabled()
    page.fill("#j-country", "BR")
    page.fill("#j-population", "20000")
    expect(page.locator("[data-eligibility-note]")).to_contain_text("30.000")
    expect(button).to_be_disabled()
    page.fill("#j-population", "145829")
    expect(page.locator("[data-eligibility-note]")).to_be_empty()
    expect(button).to_be_enabled()
    context.close()


def test_the_sign_in_page_puts_the_cursor_in_the_email_field(
        browser: Browser, portal: ApiService) -> None:
    context = phone(browser, portal)
    page = context.new_page()
    page.goto("/sign-in")
    expect(page.locator("#email")).to_be_focused()
    context.close()


DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_the_sticky_save_state_never_covers_the_focused_criterion(
        browser: Browser, portal: ApiService, program: Program,
        viewport: ViewportSize) -> None:
    """Shift+Tab back to a criterion that lies just under the sticky save state: the page
    scrolls it clear, so what has the focus is seen."""
    context = browser.new_context(base_url=portal.url, viewport=viewport)
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{D}/assessment?lang=pt")
    bar = page.locator("[data-save-state]")
    covered = []
    plain = [c.code for c in WWC_2022.criteria if c.checklist is None]
    for code in plain[8:12]:
        box = page.locator(f'[data-criterion="{code}"]')
        checkbox = box.locator("input[data-met]")
        # Scroll until the criterion's first box sits just under the stuck save state...
        page.evaluate("""([box, bar]) => {
          const top = box.getBoundingClientRect().top + window.scrollY;
          window.scrollTo(0, top - bar.getBoundingClientRect().height / 2 - 4);
        }""", [checkbox.element_handle(), bar.element_handle()])
        # ...then reach it from the field after it, as a keyboard user goes back.
        box.locator("textarea").evaluate("(e) => e.focus({preventScroll: true})")
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate("() => document.activeElement.getBoundingClientRect().top")
        bottom = bar.evaluate("(e) => e.getBoundingClientRect().bottom")
        if focused < bottom:
            covered.append(f"{code}: focused at {focused:.0f} px, under the bar to {bottom:.0f}")
    context.close()
    assert not covered, covered


def test_the_favicon_is_served_to_anyone_and_may_be_kept(portal: ApiService) -> None:
    answer = httpx.get(f"{portal.url}/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert answer.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "public" in answer.headers["cache-control"]


def test_the_readmes_phone_screenshots_are_there() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in ("registry-phone", "city-phone", "city-dashboard-phone"):
        assert (docs / f"{name}.png").exists(), name
