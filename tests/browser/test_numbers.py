"""The program in numbers in a real browser, against `wwc up`: an operator opens
`/portal/numbers` in English, Spanish and Portuguese (six charts, each an image with its
name, a legend, a CSV file and a table), picks an earlier day with the form (no script
needed), downloads a chart's CSV, and reads it all on a 390 px phone without scrolling
sideways. axe finds no serious or critical violation on any of them. The screenshots
`numbers` and `numbers-phone` are the README's (docs/screenshots/).

The program is the small one of `tests/numbers_program.py` and a crowd of 48 more cities,
recorded straight into the service's event store and ending today."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.streams import city_stream
from infra.postgres.db import EMBEDDED_DATABASE, create_pool, running_server_url
from tests.browser.conftest import ARTIFACTS, Visits, new_context, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService
from tests.integration.test_projections import History
from tests.numbers_program import BASE, cities, crowd

pytestmark = pytest.mark.browser
TODAY = date.today()
SHIFT = TODAY - BASE
OPERATOR, PASSWORD = "numbers@program.test", "a long enough password 42"
CHARTS = ("certified", "stages", "durations", "reviewers", "deadlines", "renewals")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
README_SHOTS = ("numbers", "numbers-phone")
HEADINGS = {"en": "The program in numbers", "es": "El programa en cifras",
            "pt": "O programa em números"}


async def record(data_dir: Path) -> None:
    url = running_server_url(data_dir / "postgres", EMBEDDED_DATABASE)
    assert url is not None, "the service's PostgreSQL is not running"
    pool = await create_pool(url, size=2)
    try:
        history = History(pool)
        for city in [*cities(SHIFT), *crowd(SHIFT)]:
            await history.record(city_stream(city.key), city.driver.events)
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def program(portal: ApiService) -> ApiService:
    # On a thread of its own: the browser's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, record(Path(portal.env["WWC_DATA_DIR"]))).result()
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    made = admin.post("/api/accounts", json={"email": OPERATOR, "display_name": "Operations",
                                             "role": "operator", "password": PASSWORD})
    assert made.status_code == 201, made.text
    return portal


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_an_operator_reads_the_numbers_in_three_languages(
        browser: Browser, program: ApiService, visits: Visits) -> None:
    context = new_context(browser, program)
    page = context.new_page()
    sign_in(page, OPERATOR, PASSWORD)
    page.get_by_role("link", name="Numbers").click()
    page.wait_for_url(re.compile(r".*/portal/numbers$"))
    for lang in ("en", "es", "pt"):
        page.goto(f"/portal/numbers?lang={lang}")
        expect(page.locator("h1")).to_have_text(HEADINGS[lang])
        for chart in CHARTS:
            drawing = page.locator(f'[data-chart="{chart}"] svg[role="img"]')
            expect(drawing).to_be_visible()
            # Its accessible name is the chart's title and its description says the day.
            label = drawing.evaluate(
                "svg => svg.getAttribute('aria-labelledby').split(' ')"
                ".map(id => document.getElementById(id).textContent).join(' ')")
            assert page.locator(f"#{chart}-title").inner_text() in label, (lang, chart)
        visits.check(page, f"numbers-{lang}", screenshots=False)  # the README's below
    page.goto("/portal/numbers?lang=en")
    page.set_viewport_size({"width": 1280, "height": 1500})  # the first three charts
    shoot(page, "numbers")
    page.set_viewport_size({"width": 1280, "height": 900})
    # Today: the crowd's certified cities and the small program's Recife, Austin, Denver.
    assert int(page.locator('[data-table="certified"] tbody tr').last
               .locator("td").last.text_content().replace(",", "")) > 10  # type: ignore[union-attr]
    # Its table opens under the chart; the pipeline today holds Tulsa and Cali.
    page.locator('[data-chart="stages"] summary').click()
    expect(page.locator('[data-table="stages"]')).to_be_visible()
    # An earlier day with the form (a plain GET: no script needed).
    earlier = (date(2024, 6, 30) + SHIFT).isoformat()
    page.fill("#numbers-day", earlier)
    page.get_by_role("button", name="Show that day's numbers").click()
    page.wait_for_url(re.compile(rf".*/portal/numbers\?as_of={earlier}$"))
    expect(page.locator("[data-as-of]")).to_have_attribute("data-as-of", earlier)
    # Each chart's CSV, with the session the page was opened with.
    href = page.locator('[data-csv="reviewers"]').get_attribute("href")
    assert href == f"/portal/numbers/reviewers.csv?as_of={earlier}"
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.text().splitlines()[0] == ("reviewer,open_reviews,completed_reviews,"
                                            "deadlines_met,deadlines_missed")
    context.close()


def test_on_a_phone_nothing_runs_off_the_side(browser: Browser, program: ApiService,
                                              visits: Visits) -> None:
    # Not `is_mobile`: a mobile browser zooms out to fit a page too wide, which would hide
    # the very fault looked for.
    context = browser.new_context(base_url=program.url, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, has_touch=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, OPERATOR, PASSWORD)
    page.goto("/portal/numbers?lang=pt")
    for chart in CHARTS:
        page.locator(f'[data-chart="{chart}"] summary').click()  # every table open
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    visits.check(page, "numbers-phone-pt", screenshots=False)
    page.goto("/portal/numbers?lang=pt")
    page.evaluate("document.querySelector('[data-chart=certified]').scrollIntoView()")
    shoot(page, "numbers-phone")
    context.close()


def test_no_serious_accessibility_violation(visits: Visits) -> None:
    assert len(visits.scanned) >= 4, visits.scanned
    assert not visits.violations, "\n".join(visits.violations)


def test_the_readmes_screenshots_are_there() -> None:
    readme = (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in README_SHOTS:
        assert (DOCS / f"{name}.png").exists(), name
        assert f"docs/screenshots/{name}.png" in readme, name
