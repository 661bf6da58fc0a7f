"""Open data in a real browser, against `wwc up`: the page (its data dictionary, the
as-of form that needs no script) in English, Spanish and Portuguese, on a desktop and on
a 390 px phone; a certified city's badge on its certificate page and embedded in another
site's page, as a city would embed it, in three languages; a lapsed city's badge saying
"expired"; a certificate printed (one sheet of A4 and of Letter, nothing but the
certificate) and downloaded as its PDF; the registry searched in Spanish, with its CSV;
the guidance of a criterion opened on a self-assessment in Portuguese. axe finds no
serious or critical violation on any of them. The screenshots `open-data`,
`open-data-phone`, `badges`, `certificate-pdf` and `guidance-pt` are the README's
(docs/screenshots/).

The program is recorded straight into the service's event store (the read models and
pages follow it as they follow any writer), with dates counted back from today, so the
certifications are in force or expired whatever day the test runs."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from domain import commands as c
from domain.events import CohortAnnounced, CohortCityAdded, CohortCreated
from domain.streams import city_key, city_stream, cohort_stream
from domain.tiers import Tier
from infra.postgres.db import EMBEDDED_DATABASE, create_pool, running_server_url
from tests.browser.conftest import ARTIFACTS, Visits, new_context, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService
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
README_SHOTS = ("open-data", "open-data-phone", "badges", "certificate-pdf", "guidance-pt")


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


# --- Keeping and finding: printing, the certificate's PDF, search, guidance -------------

EDITOR, PASSWORD = "editora@olinda.test", "a long enough password 42"


@pytest.fixture(scope="module")
def olinda(program: ApiService) -> ApiService:
    """A city filling its self-assessment: its editor (who reads Portuguese) made by the
    administrator, the city joined through the API, as a city does."""
    admin = program.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    made = admin.post("/api/accounts", json={
        "email": EDITOR, "display_name": "Editora", "role": "city_editor",
        "password": PASSWORD, "language": "pt",
        "cities_to_join": [{"name": "Olinda", "country": "BR"}]})
    assert made.status_code == 201, made.text
    joined = program.sign_in(EDITOR, PASSWORD).post("/api/cities", json={
        "name": "Olinda", "country": "BR", "population": 390_000})
    assert joined.status_code == 201, joined.text
    return program


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_certificate_prints_alone_and_downloads_as_its_pdf(
        browser: Browser, program: ApiService, visits: Visits) -> None:
    context = new_context(browser, program)
    page = context.new_page()
    page.goto("/cities/br-recife/certificate")
    page.goto(page.url + "?lang=pt")
    digest = page.locator("[data-decision-hash]").inner_text()
    visits.check(page, "certificate-pt", screenshots=False)
    # On paper: the certificate and where to check it; no header, navigation, language
    # switcher, button or embedding snippet; one sheet, A4 or Letter.
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for hidden in ("header.site", "footer.site", "[data-certificate-pdf]", "section.embed"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("[data-print-only]")).to_contain_text("/certificates/br-recife/")
    for paper in ("A4", "Letter"):
        sheet = page.pdf(format=paper)
        (ARTIFACTS / f"certificate-printed-{paper}.pdf").write_bytes(sheet)
        printed = pages_of(sheet)
        assert len(printed) == 1, (paper, len(printed))
        assert digest in printed[0].replace("\n", "")
        for absent in ("Español", "Entrar", "Baixar o certificado"):
            assert absent not in printed[0], (paper, absent)
    page.emulate_media(media="screen")
    # The PDF, from the page's own link: the same hash, in the page's language.
    link = page.locator("[data-certificate-pdf]")
    expect(link).to_have_text("Baixar o certificado (PDF)")
    answer = page.request.get(link.get_attribute("href") or "")
    assert answer.headers["content-type"] == "application/pdf"
    body = answer.body()
    text = pages_of(body)[0]
    for fact in ("Certificado", "Recife", "Platina", digest,
                 f"{program.url}/certificates/br-recife/"):
        assert fact in text, fact
    assert page.request.get(link.get_attribute("href") or "").body() == body  # stable
    (ARTIFACTS / "certificate.pdf").write_bytes(body)
    if shutil.which("pdftoppm"):  # how it looks (the README's picture of it)
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile",
                        str(ARTIFACTS / "certificate.pdf"), str(ARTIFACTS / "certificate-pdf")],
                       check=True, timeout=60)
    context.close()


def test_the_registry_is_searched_in_spanish_and_downloads_the_same_search(
        browser: Browser, program: ApiService, visits: Visits) -> None:
    context = new_context(browser, program)
    page = context.new_page()
    page.goto("/?lang=es")
    page.fill("#f-q", "medellin")  # typed without its accent
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert re.search(r"[?&]q=medellin", page.url)
    expect(page.locator("table.registry tbody tr")).to_have_count(1)
    expect(page.locator("table.registry")).to_contain_text("Medellín")
    expect(page.locator("#f-q")).to_have_value("medellin")
    visits.check(page, "registry-search-es", screenshots=False)
    link = page.locator("[data-csv]")
    expect(link).to_have_text("Descargar esta lista (CSV)")
    rows = list(csv.reader(io.StringIO(
        page.request.get(link.get_attribute("href") or "").body().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Ciudad", "País", "Nivel"]
    assert [r[0] for r in rows[1:]] == ["Medellín"]
    # A city decided but never announced is not found, and the page says so in Spanish.
    page.fill("#f-q", PRIVATE)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("table.registry")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(
        "Ninguna ciudad certificada coincide con estos filtros.")
    visits.check(page, "registry-no-results-es", screenshots=False)
    context.close()


def test_a_criterions_guidance_opens_on_the_assessment_in_portuguese(
        browser: Browser, olinda: ApiService, visits: Visits) -> None:
    context = new_context(browser, olinda)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto("/portal/cities/br-olinda/assessment")
    guidance = page.locator('details[data-guidance="DM1"]')
    expect(guidance.locator("summary")).to_contain_text("O que conta como evidência")
    expect(guidance.locator("p")).to_be_hidden()  # closed until asked for
    guidance.locator("summary").focus()
    page.keyboard.press("Enter")  # from the keyboard, as with a mouse
    expect(guidance.locator("p")).to_contain_text("pautas ou atas")
    expect(page.locator("details.guidance[open]")).to_have_count(1)
    guidance.scroll_into_view_if_needed()
    visits.check(page, "assessment-guidance-pt", screenshots=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator('[data-criterion="DM1"]').screenshot(path=str(ARTIFACTS / "guidance-pt.png"))
    context.close()


def test_no_serious_accessibility_violation(visits: Visits) -> None:
    assert len(visits.scanned) >= 9, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)


def test_the_readmes_screenshots_are_there() -> None:
    readme = (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in README_SHOTS:
        assert (DOCS / f"{name}.png").exists(), name
        assert f"docs/screenshots/{name}.png" in readme, name
