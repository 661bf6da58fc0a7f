"""Evidence documents in a real browser, against the embedded stack (issue 24's "done
when"): a city's editor uploads a PDF (the file picker) and an image (dropped on the
slot) for a criterion, in Portuguese; the reviewer opens both in the review screen (the
PDF in its sandboxed view, the image in place) with their hashes; the decision names
them, and the public certificate says it was decided on 2 documents, unchanged, and
names the one changed after its stored file is altered by hand.

The tests run in order, each taking the program where the last left it; the steps no
page is for (submitting, verdicts, deciding, announcing) go through the API."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from domain.streams import city_key
from tests.browser.conftest import Visits, new_context, sign_in
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person
from tests.e2e.conftest import clean_env, wwc_up
from tests.factories import WWC_2022, answers

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
PDF, IMAGE = SAMPLES / "inventory.pdf", SAMPLES / "dashboard.png"
HASHES = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (PDF, IMAGE)}
CITY, COUNTRY = "Curitiba", "BR"
KEY = city_key(COUNTRY, CITY)
PASSWORD = "a long enough password 42"
EDITOR, REVIEWER, OPERATOR = "editor@curitiba.test", "reviewer@docs.test", "ops@docs.test"
COHORT = "documents-cohort"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    """`wwc up` as the browser tests' own, with the operator's document limit at 1 MB (a
    file over it is small enough to make here)."""
    data_dir = tmp_path_factory.mktemp("wwc-documents")
    env = clean_env(data_dir, WWC_ADMIN_EMAIL=ADMIN_EMAIL, WWC_ADMIN_PASSWORD=ADMIN_PASSWORD,
                    WWC_DOCUMENT_LIMIT_MB="1")
    with wwc_up(env, data_dir / "up.log"):
        yield ApiService(url=f"http://{env['WWC_HTTP_ADDRESS']}", env=env,
                         log=data_dir / "up.log")


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture(scope="module")
def people(portal: ApiService) -> dict[str, Person]:
    """The city joined, its draft claiming silver with links for every criterion but
    DM1, whose evidence is to be the documents."""
    admin = portal.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    for email, role, extra in (
            (EDITOR, "city_editor", {"language": "pt",
                                     "cities_to_join": [{"name": CITY, "country": COUNTRY}]}),
            (REVIEWER, "reviewer", {}), (OPERATOR, "operator", {})):
        ok(admin.post("/api/accounts", json={"email": email, "display_name": email,
                                             "role": role, "password": PASSWORD, **extra}))
    found = {who: portal.sign_in(email, PASSWORD) for who, email in (
        ("editor", EDITOR), ("reviewer", REVIEWER), ("operator", OPERATOR))}
    editor = found["editor"]
    ok(editor.post("/api/cities", json={"name": CITY, "country": COUNTRY,
                                        "population": 1_773_718}))
    claimed = answers(WWC_2022, 31)
    claimed.criteria["DM1"] = claimed.criteria["DM1"].model_copy(update={"evidence": ()})
    loaded = editor.get(f"/api/cities/{KEY}/application")
    ok(editor.send("PUT", f"/api/cities/{KEY}/assessment",
                   json=claimed.model_dump(mode="json"),
                   headers={"If-Match": loaded.headers["ETag"]}))
    return found


def drop(page: Page, path: Path, media_type: str, code: str) -> None:
    """Drop a file on a criterion's slot, as a browser's drag and drop delivers it."""
    page.evaluate("""([data, name, type, code]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type }));
        const zone = document.querySelector(`[data-documents="${code}"] [data-dropzone]`);
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true,
                                                   cancelable: true }));
    }""", [base64.b64encode(path.read_bytes()).decode(), path.name, media_type, code])


def test_the_editor_uploads_a_pdf_and_an_image_for_a_criterion(
        browser: Browser, portal: ApiService, people: dict[str, Person],
        visits: Visits) -> None:
    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, EDITOR, PASSWORD)
    page.goto(f"/portal/cities/{KEY}/assessment")
    slot = page.locator('[data-documents="DM1"]')
    # DM1 is claimed without its evidence: the preview says so until a document comes.
    expect(page.locator("[data-missing]")).to_contain_text("DM1")
    slot.locator("input[data-file-input]").set_input_files(str(PDF))
    expect(slot.locator("[data-upload-state]")).to_have_text("inventory.pdf adicionado.")
    drop(page, IMAGE, "image/png", "DM1")
    expect(slot.locator("[data-upload-state]")).to_have_text("dashboard.png adicionado.")
    expect(slot.locator("[data-document]")).to_have_count(2)
    expect(page.locator("[data-missing]")).to_have_count(0)  # documents are evidence
    # One over the operator's limit (1 MB here) is refused before it is sent.
    slot.locator("input[data-file-input]").set_input_files({
        "name": "scan.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n" + b"0" * (1024 * 1024)})
    expect(slot.locator("[data-upload-state]")).to_have_text(
        "scan.pdf: O arquivo é maior que os 1 MB que um documento pode ter.")
    expect(slot.locator("[data-document]")).to_have_count(2)
    # A file the program does not take is refused in the page's language, nothing kept.
    slot.locator("input[data-file-input]").set_input_files(str(SAMPLES / "tool-renamed.pdf"))
    expect(slot.locator("[data-upload-state]")).to_have_attribute("data-kind", "refused")
    expect(slot.locator("[data-upload-state]")).to_contain_text(
        "não é um tipo de documento que o programa aceita")
    expect(slot.locator("[data-document]")).to_have_count(2)
    slot.scroll_into_view_if_needed()
    visits.check(page, "documents-upload")
    # After a reload the list is the server's: both, in the order they came.
    page.reload()
    expect(page.locator('[data-documents="DM1"] [data-document] a')).to_have_text(
        ["inventory.pdf", "dashboard.png"])
    context.close()
    editor = people["editor"]
    ok(editor.post(f"/api/cities/{KEY}/assessment/submit", json={}))
    ok(people["operator"].post(f"/api/cities/{KEY}/reviewer", json={"reviewer": REVIEWER}))


def test_the_reviewer_opens_them_in_the_review_screen(
        browser: Browser, portal: ApiService, people: dict[str, Person],
        visits: Visits) -> None:
    context = new_context(browser, portal)
    page = context.new_page()
    sign_in(page, REVIEWER, PASSWORD)
    with page.expect_response(re.compile(f".*/documents/{HASHES['inventory.pdf']}$")) as pdf:
        page.goto(f"/portal/cities/{KEY}/review")
    # Served whole and checked (its sandboxing policy is tests/web/test_documents.py's).
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"
    row = page.locator('[data-review="DM1"]')
    expect(row.locator("[data-document-hash]")).to_have_text(
        [HASHES["inventory.pdf"], HASHES["dashboard.png"]])
    expect(row.locator("iframe[data-document-view]")).to_have_attribute(
        "src", f"/api/cities/{KEY}/documents/{HASHES['inventory.pdf']}")
    row.locator("details.document-view").nth(1).locator("summary").click()
    image = row.locator("img[data-document-view]")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 320",
                           arg=image.element_handle())
    row.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the PDF viewer draws its first page
    visits.check(page, "documents-review")
    context.close()
    reviewer = people["reviewer"]
    claimed = ok(people["editor"].get(f"/api/cities/{KEY}/application"))["answers"]
    ok(reviewer.post(f"/api/cities/{KEY}/reviews", json={"reviews": [
        {"code": code, "met": True} for code in claimed["criteria"]]}))
    ok(reviewer.post(f"/api/cities/{KEY}/review/complete", json={}))


def certificate_path(portal: ApiService, people: dict[str, Person]) -> str:
    """Decided and announced (through the API): the city's certificate's path."""
    operator = people["operator"]
    ok(operator.post(f"/api/cities/{KEY}/decision"))
    ok(operator.post("/api/cohorts", json={
        "cohort_id": COHORT, "announce_on": str(date.today() + timedelta(days=2))}))
    ok(operator.post(f"/api/cohorts/{COHORT}/announce"))
    deadline = time.monotonic() + 60
    while True:
        registry = portal.client().get("/api/registry").json()["items"]
        found = [row for row in registry if row["city_key"] == KEY]
        if found:
            return f"/certificates/{KEY}/{found[0]['awarded_on']}"
        assert time.monotonic() < deadline, registry
        time.sleep(0.2)


def test_the_certificate_says_which_documents_it_was_decided_on_and_if_they_changed(
        browser: Browser, portal: ApiService, people: dict[str, Person],
        visits: Visits) -> None:
    path = certificate_path(portal, people)
    context = new_context(browser, portal)
    page = context.new_page()
    page.goto(path)
    check = page.locator("[data-documents-check]")
    expect(check).to_have_attribute("data-documents-check", "unchanged")
    expect(check.locator("strong")).to_have_text("decided on 2 documents, unchanged")
    expect(page.locator("[data-decided-documents] [data-document-hash]")).to_have_text(
        [HASHES["inventory.pdf"], HASHES["dashboard.png"]])
    visits.check(page, "documents-certificate")
    # The stored PDF altered by hand: the page says so, naming it.
    stored = next((Path(portal.env["WWC_DATA_DIR"]) / "documents").rglob(
        HASHES["inventory.pdf"]))
    stored.write_bytes(PDF.read_bytes().replace(b"42 datasets", b"99 datasets"))
    page.reload()
    expect(check).to_have_attribute("data-documents-check", "changed")
    expect(check.locator("strong")).to_have_text(
        "decided on 2 documents: 1 changed or missing since")
    expect(page.locator("[data-changed-documents] li")).to_have_text(
        [f"DM1 {HASHES['inventory.pdf']} (changed)"])
    context.close()
    assert not visits.violations, "\n".join(visits.violations)
