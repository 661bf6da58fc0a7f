"""What the portal gives to keep, in process: the certificate's PDF (public only once its
certification is announced, the same bytes at every request), a city's decision report
as PDF (its page's rule; not certified too), the lists as CSV (the same rows as their
page for the same query, column names in the reader's language, the privacy rule), the
registry's search by name, and the guidance beside each criterion. Who may call each
route at all is the access matrix's (test_access_matrix.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader

from domain.accounts import CreateAccount, Role
from tests.factories import WWC_2022, answers
from tests.web.conftest import PASSWORD, Browser, Web
from workflows.actors import SERVER_OPERATOR

CERTIFIED, WAITING, NOT_CERTIFIED = "br-sao-jose-dos-campos", "co-bogota", "ar-cordoba"
CITIES = {CERTIFIED: ("São José dos Campos", "BR", 31), WAITING: ("Bogotá", "CO", 25),
          NOT_CERTIFIED: ("Córdoba", "AR", 5)}
COHORT = "downloads-cohort"
UNMET_NOTE = "A ata enviada não tem assinatura; envie a versão aprovada pelo conselho."


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def rows_of(answer: httpx.Response) -> list[list[str]]:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
async def people(web: Web) -> dict[str, Browser]:
    """Three cities decided: São José dos Campos certified and announced, Bogotá
    certified but not announced yet, Córdoba not certified."""
    await web.account("ops@downloads.test", Role.OPERATOR)
    await web.account("reviewer@downloads.test", Role.REVIEWER)
    for key, (name, country, _) in CITIES.items():
        await web.account(f"editor@{key}.test", Role.CITY_EDITOR, language="pt",
                          cities_to_join=[{"name": name, "country": country}])
    await web.account("other@downloads.test", Role.CITY_EDITOR,
                      cities_to_join=[{"name": "Quito", "country": "EC"}])
    operator = await web.sign_in("ops@downloads.test")
    reviewer = await web.sign_in("reviewer@downloads.test")
    editors = {key: await web.sign_in(f"editor@{key}.test") for key in CITIES}
    for key, (name, country, met) in CITIES.items():
        editor = editors[key]
        joined = await editor.post("/api/cities", json={"name": name, "country": country,
                                                        "population": 400_000})
        assert joined.status_code == 201, joined.text
        claimed = answers(WWC_2022, met).model_dump(mode="json")
        sent = await editor.post(f"/api/cities/{key}/assessment/submit",
                                 json={"answers": claimed})
        assert sent.status_code == 200, sent.text
        assigned = await operator.post(f"/api/cities/{key}/reviewer",
                                       json={"reviewer": "reviewer@downloads.test"})
        assert assigned.status_code == 200, assigned.text
        # Córdoba's last claimed criterion is not met, and the review team says why.
        unmet = list(claimed["criteria"])[-1] if key == NOT_CERTIFIED else None
        reviewed = await reviewer.post(f"/api/cities/{key}/reviews", json={
            "reviews": [{"code": code, "met": code != unmet,
                         "note": UNMET_NOTE if code == unmet else ""}
                        for code in claimed["criteria"]]})
        assert reviewed.status_code == 200, reviewed.text
        done = await reviewer.post(f"/api/cities/{key}/review/complete", json={})
        assert done.status_code == 200, done.text
        if key != WAITING:
            decided = await operator.post(f"/api/cities/{key}/decision")
            assert decided.status_code == 200, decided.text
    # Before the announcement: the certificate's PDF is not public (what its page says).
    async with web.client() as public:
        early = await public.get(f"/certificates/{CERTIFIED}/{web.today}/certificate.pdf")
        assert early.status_code == 404
    created = await operator.post("/api/cohorts", json={
        "cohort_id": COHORT, "announce_on": str(web.today + timedelta(days=30))})
    assert created.status_code == 201, created.text
    announced = await operator.post(f"/api/cohorts/{COHORT}/announce")
    assert [c["city_key"] for c in announced.json()["cities"]] == [CERTIFIED], announced.text
    decided = await operator.post(f"/api/cities/{WAITING}/decision")  # after: waits
    assert decided.json()["status"] == "awaiting_announcement", decided.text
    return {"operator": operator, "reviewer": reviewer, "other": await web.sign_in(
        "other@downloads.test"), **editors}


async def test_the_certificate_pdf_is_the_announced_certificate_the_same_every_time(
        web: Web, people: dict[str, Browser]) -> None:
    path = f"/certificates/{CERTIFIED}/{web.today}"
    async with web.client() as public:
        page = await public.get(path)
        assert page.status_code == 200
        shown = re.search(r'data-decision-hash>([0-9a-f]{64})<', page.text)
        assert shown is not None
        assert f'href="{path}/certificate.pdf?lang=en"' in page.text  # linked from it
        first = await public.get(f"{path}/certificate.pdf?lang=pt")
        again = await public.get(f"{path}/certificate.pdf?lang=pt")
        spanish = await public.get(f"{path}/certificate.pdf?lang=es")
        kept = await public.get(f"{path}/certificate.pdf?lang=pt",
                                headers={"If-None-Match": first.headers["etag"]})
        # Never public: a certification awaiting its announcement, a city not
        # certified, a day with no certification.
        hidden = [await public.get(f"/certificates/{key}/{web.today}/certificate.pdf")
                  for key in (WAITING, NOT_CERTIFIED)]
        wrong_day = await public.get(f"/certificates/{CERTIFIED}/{web.today - timedelta(days=1)}"
                                     "/certificate.pdf")
    assert first.status_code == 200, first.text[:300]
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"] == (
        f'inline; filename="certificate-{CERTIFIED}-{web.today}-pt.pdf"')
    assert first.content == again.content  # reproducible: its hash is stable
    assert kept.status_code == 304
    text = text_of(first.content)
    verify_url = f"{web.services.settings.effective_portal_url}{path}"
    for fact in ("São José dos Campos", "Brasil", "Ouro", "Certificado", COHORT,
                 shown.group(1), verify_url):
        assert fact in text, fact
    assert "Certificado" in text_of(spanish.content)
    assert "Oro" in text_of(spanish.content)
    assert spanish.content != first.content
    assert [h.status_code for h in hidden] == [404, 404]
    assert wrong_day.status_code == 404
    for answer in (*hidden, wrong_day):
        assert "Bogot" not in answer.text
        assert "%PDF" not in answer.text


async def test_a_citys_report_pdf_is_its_editors_not_certified_too(
        web: Web, people: dict[str, Browser]) -> None:
    editor = people[NOT_CERTIFIED]
    page = await editor.get(f"/portal/cities/{NOT_CERTIFIED}")
    assert f'href="/portal/cities/{NOT_CERTIFIED}/report.pdf?lang=pt"' in page.text
    report = await editor.get(f"/portal/cities/{NOT_CERTIFIED}/report.pdf")  # in pt
    assert report.status_code == 200, report.text[:300]
    assert report.headers["content-type"] == "application/pdf"
    assert report.headers["cache-control"] == "no-store"
    text = text_of(report.content)
    for fact in ("Relatório da decisão", "Córdoba", "Argentina", "não certificada",
                 "4 de 43 critérios atendidos", "Gestão de dados", "Privado"):
        assert fact in text, fact
    # What the review found, as the city's page says it: the criterion not met, in the
    # report's language, and the review team's note on it.
    page_note = re.search(r'data-findings="not-met">\s*<li data-finding="(\w+)"', page.text)
    assert page_note, page.text
    flat = " ".join(text.split())
    assert "O que a revisão encontrou" in flat
    assert f"{page_note.group(1)} " in flat
    assert f": não atendido. {UNMET_NOTE}" in flat
    assert (await editor.get(f"/portal/cities/{NOT_CERTIFIED}/report.pdf")).content == \
        report.content
    # The city page's rule: the staff read it; its reviewer, once the review is
    # decided, is no longer assigned, and finds neither; nor does another city's editor,
    # exactly as for a city that does not exist.
    for person in ("reviewer", "other"):
        assert (await people[person].get(f"/portal/cities/{NOT_CERTIFIED}")).status_code \
            == (await people[person].get(
                f"/portal/cities/{NOT_CERTIFIED}/report.pdf")).status_code == 404
    assert (await people["operator"].get(
        f"/portal/cities/{WAITING}/report.pdf?lang=en")).status_code == 200
    async with web.client() as stranger:
        sent = await stranger.get(f"/portal/cities/{NOT_CERTIFIED}/report.pdf")
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/sign-in?")


async def test_the_registry_searches_by_name_and_its_csv_is_the_same_search(
        web: Web, people: dict[str, Browser]) -> None:
    async with web.client() as public:
        found = await public.get("/", params={"q": "sao jose", "lang": "es"})
        none = await public.get("/", params={"q": "Bogotá", "lang": "pt"})
        everything = rows_of(await public.get("/registry.csv?lang=es"))
        searched = rows_of(await public.get("/registry.csv",
                                            params={"q": "JOSÉ", "tier": "gold",
                                                    "lang": "pt"}))
        missed = rows_of(await public.get("/registry.csv",
                                          params={"q": "jose", "tier": "silver"}))
    assert "São José dos Campos" in found.text
    assert 'href="/registry.csv?q=sao+jose"' in found.text  # the link keeps the search
    assert 'value="sao jose"' in found.text
    # Bogotá is decided but not announced: not found, "no results" in the reader's words.
    assert "Nenhuma cidade certificada corresponde a estes filtros." in none.text
    assert f"/cities/{WAITING}" not in none.text
    assert 'class="registry"' not in none.text
    assert everything[0] == ["Ciudad", "País", "Nivel", "Estándar", "Cohorte",
                             "Certificada desde", "Válida hasta"]
    assert [r[0] for r in everything[1:]] == ["São José dos Campos"]
    assert everything[1][1:4] == ["Brasil", "oro", WWC_2022.title]
    assert everything[1][5] == web.today.isoformat()
    assert [r[0] for r in searched[1:]] == ["São José dos Campos"]
    assert searched[0][0] == "Cidade"
    assert missed[1:] == []


async def test_the_staff_lists_as_csv_are_their_pages_rows(
        web: Web, people: dict[str, Browser]) -> None:
    operator, reviewer = people["operator"], people["reviewer"]
    board = rows_of(await operator.get("/portal/pipeline.csv?lang=en"))
    assert board[0] == ["Stage", "City", "Days", "Reviewer"]
    assert ["decided", "Bogotá", "0", "reviewer@downloads.test"] in board
    cohorts = rows_of(await operator.get("/portal/cohorts.csv?lang=en"))
    assert cohorts[1:] == [[COHORT, str(web.today + timedelta(days=30)), str(web.today),
                            "1"]]
    outbox = rows_of(await operator.get("/portal/outbox.csv",
                                        params={"to": "nobody@nowhere.test"}))
    assert outbox[0][:2] == ["Date", "To"]
    assert outbox[1:] == []
    expiring = rows_of(await operator.get("/portal/expiring.csv"))
    assert expiring[0] == ["City", "Tier", "Expires", "Status"]
    queue = rows_of(await reviewer.get("/portal/reviews.csv?lang=pt"))
    assert queue[0][0] == "Cidade"
    assert "Revisor" not in queue[0]
    page = await operator.get("/portal/pipeline")
    assert 'href="/portal/pipeline.csv"' in page.text
    # A city editor is no operator, nor a reviewer.
    assert (await people[CERTIFIED].get("/portal/pipeline.csv")).status_code == 403
    assert (await people[CERTIFIED].get("/portal/reviews.csv")).status_code == 403


async def test_each_criterion_has_its_guidance_beside_it(
        web: Web, people: dict[str, Browser]) -> None:
    await web.account("editor@quito-es.test", Role.CITY_EDITOR, language="es",
                      cities_to_join=[{"name": "Quito", "country": "EC"}])
    editor = await web.sign_in("editor@quito-es.test")
    joined = await editor.post("/api/cities", json={"name": "Quito", "country": "EC",
                                                    "population": 2_800_000})
    assert joined.status_code == 201, joined.text
    page = (await editor.get("/portal/cities/ec-quito/assessment")).text
    assert page.count('<details class="guidance"') == WWC_2022.total  # closed: no `open`
    assert "Qué cuenta como evidencia" in page
    assert "Un documento que asigne las responsabilidades de gobernanza de datos" in page
    sent = await editor.post("/api/cities/ec-quito/assessment/submit",
                             json={"answers": answers(WWC_2022, 3).model_dump(mode="json")})
    assert sent.status_code == 200, sent.text
    assigned = await people["operator"].post("/api/cities/ec-quito/reviewer",
                                             json={"reviewer": "reviewer@downloads.test"})
    assert assigned.status_code == 200, assigned.text
    review = (await people["reviewer"].get("/portal/cities/ec-quito/review?lang=pt")).text
    assert review.count('<details class="guidance"') == 3  # beside each claimed one
    assert "O que conta como evidência" in review


async def test_the_registry_and_its_csv_bound_the_same_fields(web: Web) -> None:
    """One dependency reads the search for both: what one refuses, the other does too."""
    too_long = {"q": "x" * 101, "country": "USA", "tier": "t" * 21,
                "standard": "s" * 65, "cohort": "c" * 65}
    async with web.client() as public:
        for field, value in too_long.items():
            for path in ("/", "/registry.csv"):
                refused = await public.get(path, params={field: value})
                assert refused.status_code == 422, (path, field)
                assert field in refused.text, (path, field)


async def test_the_accounts_list_as_csv_is_the_pages_search_for_admins_only(
        web: Web, people: dict[str, Browser]) -> None:
    await web.account("admin@downloads.test", Role.ADMIN)
    await web.services.directory.create(
        CreateAccount(email="sums@downloads.test", display_name="=SUM(A1:A9)",
                      role=Role.OPERATOR), PASSWORD, SERVER_OPERATOR, web.today)
    admin = await web.sign_in("admin@downloads.test")
    page = await admin.get("/portal/accounts", params={"q": "downloads.test"})
    assert 'href="/portal/accounts.csv?q=downloads.test"' in page.text  # the same search
    shown = re.findall(r'data-account="([^"]+)"', page.text)
    assert "sums@downloads.test" in shown
    assert "editor@ar-cordoba.test" not in shown
    rows = rows_of(await admin.get("/portal/accounts.csv",
                                   params={"q": "downloads.test", "lang": "en"}))
    assert rows[0] == ["E-mail", "Name", "Role", "Cities", "Language", "Status"]
    assert [r[0] for r in rows[1:]] == shown
    assert ["sums@downloads.test", "'=SUM(A1:A9)", "operator", "", "English",
            "active"] in rows  # a name that looks like a formula stays text
    everyone = rows_of(await admin.get("/portal/accounts.csv?lang=pt"))
    assert everyone[0][0] == "E-mail"
    assert ["editor@ar-cordoba.test", "editor", "editor da cidade", "Córdoba", "Português",
            "ativa"] in everyone
    # Nothing secret: no password, hash, link or token is in an account's row.
    hashes = [row["hash"] for row in await web.pool.fetch(
        "SELECT hash FROM wwc_password_hashes")]
    written = (await admin.get("/portal/accounts.csv")).text
    assert hashes
    assert not any(h in written for h in hashes)
    assert PASSWORD not in written
    assert "$argon2" not in written
    # An admin's list only: staff and editors are refused, a stranger is sent to sign in.
    for person in ("operator", CERTIFIED):
        assert (await people[person].get("/portal/accounts.csv")).status_code == 403
    async with web.client() as stranger:
        sent = await stranger.get("/portal/accounts.csv?q=downloads.test",
                                  headers={"Accept": "text/html,*/*;q=0.8"})
        scripted = await stranger.get("/portal/accounts.csv?q=downloads.test")
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/sign-in?")
    assert scripted.status_code == 401  # a script is told, as problem details
