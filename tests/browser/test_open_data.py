"""Open data in a real browser, against `wwc up`: the page (its data dictionary, the
as-of form that needs no script) in English, Spanish and Portuguese, on a desktop and on
a 390 px phone; a certified city's badge on its certificate page and embedded in another
site's page, as a city would embed it, in three languages; a lapsed city's badge saying
"expired". axe finds no serious or critical violation on any of them. The screenshots
`open-data`, `open-data-phone` and `badges` are the README's (docs/screenshots/).

The program is recorded straight into the service's event store (the read models and
pages follow it as they follow any writer), with dates counted back from today, so the
certifications are in force or expired whatever day the test runs."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from domain import commands as c
from domain.events import CohortAnnounced, CohortCityAdded, CohortCreated
from domain.streams import city_key, city_stream, cohort_stream
from domain.tiers import Tier
from infra.postgres.db import EMBEDDED_DATABASE, create_pool, running_server_url
from tests.browser.conftest import ARTIFACTS, Visits, new_context
from tests.e2e.api_service import ApiService
from tests.factories import CityDriver
from tests.integration.test_open_data import GOLD, PLATINUM, SILVER, certified, decide
from tests.integration.test_projections import History

pytestmark = pytest.mark.browser
TODAY = date.today()
JOINED = TODAY - timedelta(days=1300)
# (name, country, [(tier's criteria met, days ago announced)], lapsed)
CITIES = [("Recife", "BR", [(SILVER, 900), (PLATINUM, 200)], False),
          ("Medellín", "CO", [(GOLD, 500)], False),
          ("Tulsa, OK", "US", [(SILVER, 150)], False),
          ("Boise, ID", "US", [(GOLD, 1200)], True)]
TIERS = {SILVER: Tier.SILVER, GOLD: Tier.GOLD, PLATINUM: Tier.PLATINUM}
PRIVATE = "Quito"  # decided, never announced
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
README_SHOTS = ("open-data", "open-data-phone", "badges")


def cohort_of(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%Y-%m")


async def record(data_dir: Path) -> None:
    url = running_server_url(data_dir / "postgres", EMBEDDED_DATABASE)
    assert url is not None, "the service's PostgreSQL is not running"
    pool = await create_pool(url, size=2)
    try:
        history = History(pool)
        members: dict[int, list[tuple[str, str, Tier]]] = {}
        for name, country, awards, lapsed in CITIES:
            city = CityDriver()
            city(c.JoinNetwork(name=name, country=country, population=300_000), JOINED)
            for number, (met, days_ago) in enumerate(awards):
                if number:
                    city(c.Reapply(), TODAY - timedelta(days=days_ago + 120))
                certified(city, met, TODAY - timedelta(days=days_ago), cohort_of(days_ago))
                members.setdefault(days_ago, []).append((city_key(country, name), name,
                                                         TIERS[met]))
            if lapsed:
                cert = city.state.certification
                assert cert is not None
                city(c.Expire(), cert.expires_on)
            await history.record(city_stream(city_key(country, name)), city.events)
        quito = CityDriver()
        quito(c.JoinNetwork(name=PRIVATE, country="EC", population=2_800_000), JOINED)
        decide(quito, GOLD, TODAY - timedelta(days=20))
        await history.record(city_stream("ec-quito"), quito.events)
        for days_ago, cities in members.items():
            day, cohort = TODAY - timedelta(days=days_ago), cohort_of(days_ago)
            await history.record(cohort_stream(cohort), [
                CohortCreated(cohort_id=cohort, announce_on=day, on=day - timedelta(days=30)),
                *[CohortCityAdded(city_key=key, name=name, tier=tier, on=day)
                  for key, name, tier in cities],
                CohortAnnounced(cities=tuple(key for key, _, _ in cities), on=day)])
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def program(portal: ApiService) -> ApiService:
    # On a thread of its own: the browser's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, record(Path(portal.env["WWC_DATA_DIR"]))).result()
    with httpx.Client(base_url=portal.url, timeout=30) as http:
        for _ in range(100):  # the server's background loop projects it within a second
            if len(http.get("/open-data/registry.json").json()["records"]) == 3:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the recorded program never reached the open data")
    return portal


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


def test_the_open_data_page_speaks_three_languages(browser: Browser, program: ApiService,
                                                   visits: Visits) -> None:
    context = new_context(browser, program)
    page = context.new_page()
    for lang, heading, meaning in (("en", "Open data", "The city's name as it joined"),
                                   ("es", "Datos abiertos", "El nombre de la ciudad"),
                                   ("pt", "Dados abertos", "O nome da cidade")):
        page.goto(f"/open-data/?lang={lang}")
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator('[data-dictionary="history"] tbody tr')).to_have_count(11)
        expect(page.locator('[data-dictionary="registry"]')).to_contain_text(meaning)
        expect(page.locator("[data-open-data-counts]")).to_contain_text("3")
        expect(page.locator("main")).not_to_contain_text(PRIVATE)
        visits.check(page, f"open-data-{lang}")
    page.goto("/open-data/?lang=en")
    shoot(page, "open-data", full_page=False)
    # The as-of form works without a script: the registry as it stood before Recife's
    # platinum was announced.
    before = (TODAY - timedelta(days=201)).isoformat()
    page.fill("#as-of-day", before)
    page.get_by_role("button", name="Certified cities (JSON)").click()
    page.wait_for_url(re.compile(rf".*/open-data/registry\.json\?as_of={before}$"))
    shown = page.locator("body").inner_text()
    assert '"tier":"silver"' in shown.replace(" ", "")
    assert PRIVATE not in shown
    context.close()


def test_on_a_phone_nothing_runs_off_the_side(browser: Browser, program: ApiService,
                                              visits: Visits) -> None:
    context = browser.new_context(base_url=program.url, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/open-data/?lang=pt")
    no_sideways_scroll(page)
    visits.check(page, "open-data-phone-pt")
    shoot(page, "open-data-phone", full_page=False)
    page.goto("/cities/br-recife/certificate")
    page.goto(page.url + "?lang=es")
    badge = page.locator("img[data-badge]")
    expect(badge).to_be_visible()
    assert badge.evaluate("img => img.complete && img.naturalWidth > 0")
    no_sideways_scroll(page)
    visits.check(page, "certificate-phone-es")
    context.close()


def embedded(page: Page, snippets: list[str], lang: str, title: str) -> None:
    """A city's own page with the badge snippets pasted in (another origin: about:blank)."""
    page.set_content(
        f'<!doctype html><html lang="{lang}"><head><title>{title}</title>'
        '<style>body{font-family:sans-serif;margin:2rem} p{margin:1rem 0}</style></head>'
        f'<body><main><h1>{title}</h1>'
        + "".join(f"<p>{snippet}</p>" for snippet in snippets) + "</main></body></html>")
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth)")


def test_a_citys_badge_embedded_in_three_languages_and_expired_by_itself(
        browser: Browser, program: ApiService, visits: Visits) -> None:
    context = new_context(browser, program)
    page = context.new_page()
    snippets = []
    for lang, alt in (("en", "What Works Cities certification of Recife"),
                      ("es", "Certificación What Works Cities de Recife"),
                      ("pt", "Certificação What Works Cities de Recife")):
        page.goto(f"/open-data/?lang={lang}")  # the language, remembered
        page.goto("/cities/br-recife/certificate")
        assert re.search(r"/certificates/br-recife/\d{4}-\d{2}-\d{2}$", page.url)
        expect(page.locator("img[data-badge]")).to_have_attribute("alt", alt)
        assert page.locator("img[data-badge]").evaluate("img => img.naturalWidth > 0")
        visits.check(page, f"certificate-badge-{lang}")
        snippets.append(page.locator("[data-snippet]").inner_text())
    for snippet in snippets:
        assert snippet.startswith(f'<a href="{program.url}/cities/br-recife/certificate">')
    # The snippets, pasted into a city's own site: each badge loads, and leads back.
    city_site = context.new_page()
    embedded(city_site, snippets, "pt", "Prefeitura do Recife")
    visits.check(city_site, "city-site-badges")
    with city_site.expect_navigation():
        city_site.locator("a").first.click()
    expect(city_site.locator("[data-chain] .good")).to_be_visible()  # the chain verifies
    # Every state, in every language: each certified city's badge, and Boise's expired.
    with httpx.Client(base_url=program.url) as http:
        states = {key: re.search(r'data-state="(\w+)"', http.get(
            f"/cities/{key}/badge.svg").text).group(1)  # type: ignore[union-attr]
            for key in ("br-recife", "co-medellin", "us-tulsa-ok", "us-boise-id")}
        assert http.get("/cities/ec-quito/badge.svg").status_code == 404
    assert states == {"br-recife": "valid", "co-medellin": "valid", "us-tulsa-ok": "valid",
                      "us-boise-id": "expired"}
    wall = context.new_page()
    wall.set_viewport_size({"width": 1000, "height": 400})
    embedded(wall, [
        " ".join(f'<img src="{program.url}/cities/{key}/badge.svg?lang={lang}" alt="{key} {lang}">'
                 for lang in ("en", "es", "pt"))
        for key in ("br-recife", "co-medellin", "us-tulsa-ok", "us-boise-id")], "en",
        "Badges as cities show them: in force, and expired")
    visits.check(wall, "badges-all")
    shoot(wall, "badges")
    context.close()


def test_no_serious_accessibility_violation(visits: Visits) -> None:
    assert len(visits.scanned) >= 9, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)


def test_the_readmes_screenshots_are_there() -> None:
    readme = (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in README_SHOTS:
        assert (DOCS / f"{name}.png").exists(), name
        assert f"docs/screenshots/{name}.png" in readme, name
