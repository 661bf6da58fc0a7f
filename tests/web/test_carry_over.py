"""Reapplying, in process: the new assessment starts from the last review's answers and
evidence, each criterion marked "carried over: confirm it still holds"; nothing is
submitted until each is confirmed (domain/carry_over.py, domain/drafts.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from domain.accounts import Role
from infra.cli import app as wwc
from infra.cli import common
from infra.platform.errors import CommandRefused, classify, describe
from infra.postgres.db import create_pool
from infra.postgres.eventstore import PostgresEventStore
from tests.factories import CATALOG, WWC_2022, answers
from tests.web.conftest import Browser, Web
from tests.web.program import InMemoryProgram

CITY = "br-fortaleza"
MET, NOT_MET = ("DM1", "DM2"), "DM3"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"


@pytest.fixture(scope="module")
async def editors(web: Web) -> dict[str, Browser]:
    """A city decided (not certified: DM1 and DM2 met, DM3 not) that has reapplied."""
    await web.account("editor@fortaleza.test", Role.CITY_EDITOR, language="es",
                      cities_to_join=[{"name": "Fortaleza", "country": "BR"}])
    await web.account("editor@natal.test", Role.CITY_EDITOR,
                      cities_to_join=[{"name": "Natal", "country": "BR"}])
    await web.account("rev@carry.test", Role.REVIEWER)
    await web.account("ops@carry.test", Role.OPERATOR)
    editor = await web.sign_in("editor@fortaleza.test")
    joined = await editor.post("/api/cities", json={"name": "Fortaleza", "country": "BR",
                                                    "population": 2_428_708})
    assert joined.status_code == 201, joined.text
    # A document for DM1, valid for a year (a valid-through in the past is refused).
    pdf = (SAMPLES / "inventory.pdf").read_bytes()
    upload = f"/api/cities/{CITY}/documents?criterion=DM1&name=inventory.pdf&valid_through="
    past = await editor.post(upload + (web.today - timedelta(days=1)).isoformat(), content=pdf)
    assert past.status_code == 422, past.text
    assert past.json()["code"] == "invalid_valid_through"
    kept = await editor.post(upload + (web.today + timedelta(days=365)).isoformat(),
                             content=pdf)
    assert kept.status_code == 201, kept.text
    claimed = answers(WWC_2022, [*MET, NOT_MET]).model_dump(mode="json")
    # DM1's link is a policy in force until a day: the day comes with it.
    claimed["criteria"]["DM1"]["valid_through"] = {
        "https://city.example/DM1": (web.today + timedelta(days=200)).isoformat()}
    submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit",
                                  json={"answers": claimed})
    assert submitted.status_code == 200, submitted.text
    operator = await web.sign_in("ops@carry.test")
    assert (await operator.post(f"/api/cities/{CITY}/reviewer",
                                json={"reviewer": "rev@carry.test"})).status_code == 200
    reviewer = await web.sign_in("rev@carry.test")
    reviewed = await reviewer.post(f"/api/cities/{CITY}/reviews", json={"reviews": [
        *({"code": code, "met": True} for code in MET),
        {"code": NOT_MET, "met": False, "note": "No minutes."}]})
    assert reviewed.status_code == 200, reviewed.text
    done = await reviewer.post(f"/api/cities/{CITY}/review/complete", json={})
    assert done.status_code == 200, done.text
    decided = await operator.post(f"/api/cities/{CITY}/decision")
    assert decided.json()["last_decision_tier"] == "none", decided.text
    reapplied = await editor.post(f"/api/cities/{CITY}/reapply", json={})
    assert reapplied.status_code == 200, reapplied.text
    return {"editor": editor, "other": await web.sign_in("editor@natal.test"),
            "operator": operator, "reviewer": reviewer}


@pytest.fixture(scope="module")
def today(web: Web) -> date:
    return web.today


def carried(page: str) -> list[str]:
    return re.findall(r'data-carried="(\w+)"', page)


async def confirm(editor: Browser, code: str) -> int:
    posted = await editor.post(f"/portal/cities/{CITY}/assessment/confirm", data={
        "csrf_token": editor.csrf, "criterion": code, "nonce": f"n-{code}"},
        follow_redirects=False)
    return posted.status_code


async def test_the_reapplication_starts_from_the_reviewed_answers_marked_carried_over(
        editors: dict[str, Browser]) -> None:
    page = (await editors["editor"].get(f"/portal/cities/{CITY}/assessment")).text  # es
    assert carried(page) == list(MET)  # DM3 was not met: not carried
    assert page.count("Traído de la última revisión: confirme que sigue vigente.") == 2
    assert "https://city.example/DM1" in page  # the evidence came with it
    assert 'id="through-DM1" data-valid-through' in page  # a slot's valid-through day
    # What confirming DM1 attaches again, said before it is confirmed.
    again = re.findall(r'data-carried-documents="(\w+)">([^<]*)<span class="document-name">'
                       r"([^<]+)</span> \(vigente hasta el ", page)
    assert [(code, name) for code, _, name in again] == [("DM1", "inventory.pdf")]
    assert "Al confirmarlo se adjuntan de nuevo sus documentos" in again[0][1]
    api = (await editors["editor"].get(f"/api/cities/{CITY}/application")).json()
    assert sorted(api["answers"]["criteria"]) == sorted(MET)
    assert api["carried_over"] == list(MET)


def cli_submit(web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               assessment: dict[str, Any], *args: str, action: str = "submit") -> Result:
    """`wwc assessment submit CITY FILE ARGS` (or `save`: `action`) in process, its program
    the in-memory one over the web's database (the CLI runs its own event loop, so its
    own pool)."""
    url = web.services.settings.database_url or ""

    @asynccontextmanager
    async def program(_: object) -> AsyncIterator[InMemoryProgram]:
        pool = await create_pool(url, size=2)
        try:
            yield InMemoryProgram(PostgresEventStore(pool), catalog=CATALOG,
                                  clock=web.program.clock, reviewers=web.program.reviewers,
                                  awaiting=web.program.awaiting)
        finally:
            await pool.close()

    file = tmp_path / "assessment.yaml"
    file.write_text(yaml.safe_dump(assessment))
    monkeypatch.setattr(common, "open_program", program)
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path))
    common.forget_settings()
    try:
        return CliRunner().invoke(wwc, ["assessment", action, CITY, str(file), *args])
    finally:
        common.forget_settings()


async def test_answers_given_with_the_submission_are_held_at_every_door(
        web: Web, editors: dict[str, Browser], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that reads the application (the carried answers) and sends them back as
    its own, by session, by token or from a file with the CLI, submits nothing until each
    carried criterion is confirmed; answers it gives are checked as a save's."""
    editor = editors["editor"]
    read = (await editor.get(f"/api/cities/{CITY}/application")).json()
    submit = f"/api/cities/{CITY}/assessment/submit"
    echoed = await editor.post(submit, json={"answers": read["answers"]})
    assert echoed.status_code == 409, echoed.text
    assert (echoed.json()["code"], echoed.json()["facts"]) == (
        "unconfirmed_carry_over", {"criterion": "DM1, DM2"})
    account = await web.services.directory.find_by_email("editor@fortaleza.test")
    assert account is not None
    async with web.client(await web.token(account)) as token:
        by_token = await token.post(submit + "?confirm=DM1", json={"answers": read["answers"]})
    assert by_token.status_code == 409, by_token.text
    assert by_token.json()["facts"] == {"criterion": "DM2"}  # DM1 confirmed with it
    # Answers given are saved by the submission: their valid-through days are bounded too.
    link = "https://city.example/DM1"
    for through in ("0001-01-01", "9999-12-31"):
        absurd = await editor.post(submit, json={"answers": {"criteria": {"DM1": {
            "met": True, "evidence": [link], "valid_through": {link: through}}}}})
        assert absurd.status_code == 422, absurd.text
        assert absurd.json()["code"] == "invalid_valid_through"
        assert absurd.json()["detail"].startswith("criteria.DM1.valid_through: ")
    # The CLI's file: the same refusal (exit 4), naming what is left to confirm.
    from_file = await asyncio.to_thread(
        cli_submit, web, tmp_path, monkeypatch, {"standard": "wwc-2022", "criteria": {
            "DM1": True, "DM2": True}, "evidence": {"DM1": [link], "DM2": [link]}},
        "--confirm", "DM2")
    refused = from_file.exception  # what `wwc` prints on one line, with its exit code
    assert isinstance(refused, CommandRefused), from_file.output
    assert (refused.code, classify(refused).exit_code) == ("unconfirmed_carry_over", 4)
    assert "not confirmed yet: DM1 " in describe(refused)
    # The portal submits the draft: held the same.
    step = (await editor.get(f"/portal/cities/{CITY}/assessment/submit")).text
    fields = dict(re.findall(r'name="(version|documents)" value="([^"]*)"', step))
    portal = await editor.post(f"/portal/cities/{CITY}/assessment/submit", data={
        "csrf_token": editor.csrf, "nonce": "held", "understood": "yes", **fields})
    assert portal.status_code == 409, portal.text
    assert "data-unconfirmed" in portal.text  # the step again, saying what to confirm
    # Nothing was recorded: still assessing, both criteria still to confirm, no document.
    after = (await editor.get(f"/api/cities/{CITY}/application")).json()
    assert (after["stage"], after["carried_over"]) == ("assessing", list(MET))
    assert after["documents"] == {}


async def test_a_confirmed_code_the_standard_does_not_have_is_refused_at_every_door(
        web: Web, editors: dict[str, Browser], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in what is confirmed (`?confirm=DG99`, a form's criterion, `--confirm`) is
    bad input naming the field, nothing recorded and nothing attached, not silently
    ignored (domain/drafts.py: check_confirmed_codes)."""
    editor = editors["editor"]
    read = await editor.get(f"/api/cities/{CITY}/application")
    saved = await editor.send("PUT", f"/api/cities/{CITY}/assessment?confirm=DM1&confirm=DG99",
                              json=read.json()["answers"],
                              headers={"If-Match": read.headers["ETag"]})
    assert saved.status_code == 422, saved.text
    assert saved.headers["content-type"].startswith("application/problem+json")
    assert (saved.json()["code"], saved.json()["facts"]) == (
        "unknown_criterion", {"criterion": "DG99", "field": "confirmed"})
    assert saved.json()["detail"] == (
        "confirmed: unknown criterion code DG99 for standard wwc-2022")
    # The submission confirming all it must, and a typo: refused before DM1's carried
    # document is attached or anything is sent to the workflow.
    submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit"
                                  "?confirm=DM1&confirm=DM2&confirm=foo", json={})
    assert submitted.status_code == 422, submitted.text
    assert submitted.json()["detail"].startswith("confirmed: unknown criterion code foo ")
    # The portal's form: the page again, saying so in the editor's language (es).
    posted = await editor.post(f"/portal/cities/{CITY}/assessment/confirm", data={
        "csrf_token": editor.csrf, "criterion": "DG99", "nonce": "n-typo"},
        follow_redirects=False)
    assert posted.status_code == 422, posted.text
    assert "El estándar no tiene el criterio DG99." in posted.text
    assert carried(posted.text) == list(MET)
    # The CLI: bad input (exit 3) naming the option, for a save and a submission.
    for action in ("save", "submit"):
        ran = await asyncio.to_thread(
            cli_submit, web, tmp_path, monkeypatch, {"standard": "wwc-2022", "criteria": {
                "DM1": True, "DM2": True}}, "--confirm", "DM1", "--confirm", "DG99",
            action=action)
        refused = ran.exception
        assert refused is not None, ran.output
        assert classify(refused).exit_code == 3, describe(refused)
        assert describe(refused).startswith(
            "--confirm: unknown criterion code DG99 for standard wwc-2022"), describe(refused)
    # Nothing recorded: the same draft version, both criteria to confirm, no document.
    after = await editor.get(f"/api/cities/{CITY}/application")
    assert after.headers["ETag"] == read.headers["ETag"]
    assert (after.json()["stage"], after.json()["carried_over"]) == ("assessing", list(MET))
    assert after.json()["documents"] == {}


def link_dates(page: str) -> dict[str, str]:
    """Each evidence link's valid-through input on the assessment page, by link."""
    return dict(re.findall(r'data-link-through="([^"]+)" value="([^"]*)"', page))


async def test_a_carried_links_valid_through_is_on_the_page_and_kept_by_each_save(
        editors: dict[str, Browser], today: date) -> None:
    editor = editors["editor"]
    path = f"/portal/cities/{CITY}/assessment"
    carried_on = (today + timedelta(days=200)).isoformat()
    page = (await editor.get(path)).text
    # Every link has its day's input (the page's script saves what they hold), DM1's
    # filled with the day carried over, under its translated legend.
    assert link_dates(page) == {"https://city.example/DM1": carried_on,
                                "https://city.example/DM2": ""}
    assert page.count("Vigente hasta (opcional), enlace por enlace") == len(WWC_2022.codes)
    read = await editor.get(f"/api/cities/{CITY}/application")
    body = read.json()["answers"]
    assert body["criteria"]["DM1"]["valid_through"] == {
        "https://city.example/DM1": carried_on}
    # A save as the page makes it (DM2's link given a day) keeps DM1's day, and the page
    # read again shows both; the carried-over marks stay until confirmed.
    later = (today + timedelta(days=30)).isoformat()
    body["criteria"]["DM2"]["valid_through"] = {"https://city.example/DM2": later}
    saved = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=body,
                              headers={"If-Match": read.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    page = (await editor.get(path)).text
    assert link_dates(page) == {"https://city.example/DM1": carried_on,
                                "https://city.example/DM2": later}
    assert carried(page) == list(MET)


async def test_nothing_is_submitted_until_each_carried_criterion_is_confirmed(
        editors: dict[str, Browser], today: date) -> None:
    editor = editors["editor"]
    step_path = f"/portal/cities/{CITY}/assessment/submit"
    # The confirmation step says so before it offers to send anything, each criterion
    # linked to where it is confirmed.
    step = (await editor.get(step_path)).text
    assert ("Hay criterios traídos de la última revisión sin confirmar: DM1, DM2. "
            "Confirme que cada uno sigue vigente") in step
    assert re.findall(r"assessment#criterion-(\w+)", step) == list(MET)
    assert "data-confirm-submit" not in step
    refused = await editor.post(f"/api/cities/{CITY}/assessment/submit", json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "unconfirmed_carry_over"
    assert "DM1, DM2" in refused.json()["detail"]
    listed = (await editor.get(f"/api/cities/{CITY}/documents")).json()
    assert listed["application"] == 2
    assert listed["documents"] == []
    assert await confirm(editor, "DM1") == 303
    page = (await editor.get(f"/portal/cities/{CITY}/assessment")).text
    assert carried(page) == ["DM2"]
    assert "data-carried-documents" not in page
    # DM1's document in its list now, with its valid-through day.
    assert re.search(r'data-document="\w+"><a [^>]+>inventory.pdf</a>\s*<span class="hint">'
                     r"[^<]* · vigente hasta el ", page)
    # Confirming DM1 attached its carried-over document to the new application.
    listed = (await editor.get(f"/api/cities/{CITY}/documents")).json()
    assert [(d["criterion"], d["name"], d["valid_through"]) for d in listed["documents"]] == [
        ("DM1", "inventory.pdf", (today + timedelta(days=365)).isoformat())]
    still = await editor.post(f"/api/cities/{CITY}/assessment/submit", json={})
    assert still.json()["code"] == "unconfirmed_carry_over"
    assert still.json()["facts"]["criterion"] == "DM2"
    # DM1's document taken off: a client confirming DM1 again does not bring it back.
    sha = listed["documents"][0]["sha256"]
    removed = await editor.send("DELETE", f"/api/cities/{CITY}/documents/{sha}?criterion=DM1")
    assert removed.status_code == 200, removed.text
    # The API's door: a save confirming it (and DM1 again, as a careless client would).
    read = await editor.get(f"/api/cities/{CITY}/application")
    saved = await editor.send("PUT", f"/api/cities/{CITY}/assessment?confirm=DM1&confirm=DM2",
                              json=read.json()["answers"],
                              headers={"If-Match": read.headers["ETag"]})
    assert saved.status_code == 200, saved.text
    listed = (await editor.get(f"/api/cities/{CITY}/documents")).json()
    assert listed["documents"] == []
    through = (today + timedelta(days=365)).isoformat()
    again = await editor.post(f"/api/cities/{CITY}/documents?criterion=DM1&name=inventory.pdf"
                              f"&valid_through={through}",
                              content=(SAMPLES / "inventory.pdf").read_bytes())
    assert again.status_code == 201, again.text
    assert carried((await editor.get(f"/portal/cities/{CITY}/assessment")).text) == []
    step = (await editor.get(step_path)).text
    assert "data-unconfirmed" not in step
    assert "data-confirm-submit" in step
    submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit", json={})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"


async def test_the_reviewer_sees_what_was_accepted_last_cycle(
        editors: dict[str, Browser]) -> None:
    assigned = await editors["operator"].post(f"/api/cities/{CITY}/reviewer",
                                              json={"reviewer": "rev@carry.test"})
    assert assigned.status_code == 200, assigned.text
    page = (await editors["reviewer"].get(f"/portal/cities/{CITY}/review?lang=pt")).text
    assert sorted(re.findall(r'data-accepted-before="(\w+)"', page)) == list(MET)  # links
    assert page.count("data-accepted-before>") == 1  # DM1's document
    assert page.count("aceito no ciclo anterior") == 3
    assert "válido até" in page  # the document's valid-through, in her language


async def test_another_citys_editor_is_not_found(editors: dict[str, Browser]) -> None:
    other = editors["other"]
    assert (await other.get(f"/portal/cities/{CITY}/assessment")).status_code == 404
    assert await confirm(other, "DM1") == 404
