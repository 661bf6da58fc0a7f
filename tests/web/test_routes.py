"""The API's routes in process, as its people use them: a city's whole lifecycle (the
in-memory program deciding as the workflows do, the read models following the real event
store), another city's editor finding nothing, sessions, CSRF, Idempotency-Key retries and
tokens. Each ran against `wwc up` only (`tests/e2e/test_api_lifecycle.py`, which keeps
them for what only the stack shows); here they take milliseconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.accounts import Role
from tests.factories import WWC_2022, answers
from tests.web.conftest import Browser, Web, route_table

CITY = "us-durham-nc"  # through its whole lifecycle
OTHER = "us-tempe-az"
JOINED = "us-provo-ut"  # joined before any test, for the tests that need a city


@pytest.fixture(scope="module")
async def people(web: Web) -> dict[str, Browser]:
    await web.account("admin@program.test", Role.ADMIN)
    # Made before their cities join: named by name and country, not by a key.
    await web.account("editor@durham.test", Role.CITY_EDITOR,
                      cities_to_join=[{"name": "Durham, NC", "country": "US"}])
    await web.account("editor@tempe.test", Role.CITY_EDITOR,
                      cities_to_join=[{"name": "Tempe, AZ", "country": "US"}])
    await web.account("reviewer@rfa.test", Role.REVIEWER, affiliations=[OTHER])
    await web.account("conflicted@rfa.test", Role.REVIEWER, affiliations=[CITY])
    await web.account("ops@rfa.test", Role.OPERATOR)
    await web.account("editor@provo.test", Role.CITY_EDITOR,
                      cities_to_join=[{"name": "Provo, UT", "country": "US"}])
    provo = await web.sign_in("editor@provo.test")
    joined = await provo.post("/api/cities", json={"name": "Provo, UT", "country": "US",
                                                   "population": 115_000})
    assert joined.status_code == 201, joined.text
    return {"admin": await web.sign_in("admin@program.test"), "provo": provo,
            "editor": await web.sign_in("editor@durham.test"),
            "other_editor": await web.sign_in("editor@tempe.test"),
            "reviewer": await web.sign_in("reviewer@rfa.test"),
            "operator": await web.sign_in("ops@rfa.test")}


async def events_of(person: Browser, city: str) -> list[dict[str, Any]]:
    answer = await person.get(f"/api/cities/{city}/history")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


async def test_a_city_through_its_whole_lifecycle_by_api(
        web: Web, people: dict[str, Browser]) -> None:
    editor, reviewer, operator = people["editor"], people["reviewer"], people["operator"]
    public = web.client()

    joined = await editor.post("/api/cities", json={"name": "Durham, NC", "country": "US",
                                                    "population": 291_928})
    assert joined.status_code == 201, joined.text
    assert joined.json()["status"] == "assessing"

    # Two editors, one draft: the second save with the stale ETag is refused, nothing lost.
    loaded = await editor.get(f"/api/cities/{CITY}/application")
    etag = loaded.headers["ETag"]
    draft = answers(WWC_2022, 5).model_dump(mode="json")
    saved = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                              headers={"If-Match": etag})
    assert saved.status_code == 200, saved.text
    before = len(await events_of(editor, CITY))
    stale = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                              headers={"If-Match": etag})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert len(await events_of(editor, CITY)) == before
    missing = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft)
    assert missing.status_code == 428

    # The application shows the saved draft under the ETag the save answered; the whole
    # assessment is saved over it (retried under its key: one save), then submitted as
    # saved (no answers in the body).
    reloaded = await editor.get(f"/api/cities/{CITY}/application")
    assert reloaded.headers["ETag"] == saved.headers["ETag"] != etag
    assert reloaded.json()["answers"] == draft
    claimed = answers(WWC_2022, 31).model_dump(mode="json")
    keyed = {"If-Match": saved.headers["ETag"], "Idempotency-Key": "whole-1"}
    whole = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=claimed,
                              headers=keyed)
    assert whole.status_code == 200, whole.text
    retried = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=claimed,
                                headers=keyed)
    assert (retried.status_code, retried.headers["ETag"]) == (200, whole.headers["ETag"])
    submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit", json={})
    assert submitted.json()["status"] == "submitted", submitted.text
    assert (await editor.get(f"/api/cities/{CITY}/application")).json()["answers"] == claimed
    late = await editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                             headers={"If-Match": whole.headers["ETag"]})
    assert (late.status_code, late.json()["code"]) == (409, "wrong_stage")
    drafts = [(e["stream"], e["type"], e["actor_role"]) for e in await events_of(editor, CITY)
              if e["stream"] == "draft"]
    assert drafts == [("draft", "draft.saved", "city_editor")] * 2 + [
        ("draft", "draft.sealed", "city_editor")]

    conflict = await operator.post(f"/api/cities/{CITY}/reviewer",
                                   json={"reviewer": "conflicted@rfa.test"})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "conflict_of_interest")
    assigned = await operator.post(f"/api/cities/{CITY}/reviewer",
                                   json={"reviewer": "reviewer@rfa.test"})
    assert assigned.json()["reviewer"] == "reviewer@rfa.test", assigned.text
    queue = (await reviewer.get("/api/reviews")).json()["items"]
    assert [row["city_key"] for row in queue] == [CITY]

    sheet = {"reviews": [{"code": code, "met": True} for code in claimed["criteria"]]}
    recorded = await reviewer.post(f"/api/cities/{CITY}/reviews", json=sheet)
    assert (recorded.status_code, recorded.json()["nothing_new"]) == (200, None)
    # The same sheet again (a retry without its key): the same view, nothing recorded.
    again = await reviewer.post(f"/api/cities/{CITY}/reviews", json=sheet)
    assert again.status_code == 200, again.text
    assert again.json()["nothing_new"] == (
        f"every review on the sheet ({len(claimed['criteria'])}) was already recorded as given")
    assert again.json()["version"] == recorded.json()["version"]
    asked = await reviewer.post(f"/api/cities/{CITY}/clarifications", json={
        "criterion": "DM2", "question": "When was the inventory last updated?"})
    assert asked.json()["open_clarifications"] == [1], asked.text
    answered = await editor.post(f"/api/cities/{CITY}/clarifications/1/answer", json={
        "answer": "In March", "evidence": ["https://durhamnc.gov/inventory"]})
    assert answered.json()["open_clarifications"] == [], answered.text
    done = await reviewer.post(f"/api/cities/{CITY}/review/complete", json={})
    assert done.json()["status"] == "review_complete", done.text

    decided = await operator.post(f"/api/cities/{CITY}/decision")
    assert (decided.json()["status"], decided.json()["last_decision_tier"]) == (
        "awaiting_announcement", "gold"), decided.text
    assert (await editor.get(f"/api/cities/{CITY}/report")).json()["score"]["tier"] == "gold"
    # Decided is not announced: nothing public yet.
    registry = (await public.get("/api/registry")).json()["items"]
    assert CITY not in [c["city_key"] for c in registry]
    assert (await public.get(f"/api/registry/{CITY}")).status_code == 404

    cohort = await operator.post("/api/cohorts", json={
        "cohort_id": "api-cohort", "announce_on": str(web.today + timedelta(days=30))})
    assert cohort.status_code == 201, cohort.text
    announced = await operator.post("/api/cohorts/api-cohort/announce")
    assert [c["city_key"] for c in announced.json()["cities"]] == [CITY], announced.text
    twice = await operator.post("/api/cohorts/api-cohort/announce")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_announced")

    registry = (await public.get("/api/registry")).json()["items"]
    assert [(c["city_key"], c["tier"]) for c in registry] == [(CITY, "gold")]
    page = (await public.get(f"/api/registry/{CITY}")).json()
    assert (page["tier"], page["cohort_id"], len(page["history"])) == ("gold", "api-cohort", 1)
    assert [c["cohort_id"] for c in (await public.get("/api/cohorts")).json()] == ["api-cohort"]
    yesterday = await public.get("/api/registry",
                                 params={"as_of": str(web.today - timedelta(days=1))})
    assert yesterday.json()["items"] == []
    # Its public page, in the portal.
    assert (await public.get(f"/cities/{CITY}")).status_code == 200

    # Who did what: each event names the account and role that caused it.
    actors = {(e["type"], e["actor_role"]) for e in await events_of(operator, CITY)}
    assert {("city.joined", "city_editor"), ("assessment.submitted", "city_editor"),
            ("review.reviewer_assigned", "operator"), ("review.criterion_reviewed",
                                                        "reviewer"),
            ("certification.decided", "operator"),
            ("certification.announced", "program")} <= actors


async def test_another_citys_editor_finds_nothing(web: Web,
                                                  people: dict[str, Browser]) -> None:
    """Every route under a city's path that is not public answers 404 to another city's
    editor, exactly as for a city that does not exist, whatever the method."""
    other = people["other_editor"]
    tried = 0
    for method, path, rule in route_table():
        if "{key}" not in path or rule == "public" or not path.startswith("/api/"):
            continue
        concrete = path.replace("{key}", JOINED).replace("{clarification_id}", "1")
        answer = await other.send(method, concrete, json={})
        assert answer.status_code == 404, (method, path, answer.text)
        nowhere = await other.send(method, concrete.replace(JOINED, "us-nowhere-zz"), json={})
        assert nowhere.json()["detail"].replace("us-nowhere-zz", JOINED) == \
            answer.json()["detail"], (method, path)
        tried += 1
    assert tried >= 10  # the test walked the real route table


async def test_a_state_change_without_the_csrf_token_is_refused(
        web: Web, people: dict[str, Browser]) -> None:
    editor = people["provo"]
    for token in (None, "wrong-token"):
        headers = {"X-CSRF-Token": token} if token else {}
        refused = await editor.http.post(f"/api/cities/{JOINED}/withdraw",
                                         json={"reason": "x"}, headers=headers)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
    assert (await editor.get(f"/api/cities/{JOINED}")).json()["status"] == "assessing"


async def test_signing_in_makes_a_new_session_and_signing_out_ends_it(web: Web) -> None:
    await web.account("twice@program.test", Role.OPERATOR)
    browser = await web.sign_in("twice@program.test")
    old = browser.http.cookies["wwc_session"]
    again = await browser.http.post("/api/session", json={
        "email": "twice@program.test", "password": "a long enough password for tests"})
    new = browser.http.cookies["wwc_session"]
    assert new != old
    cookie = again.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    async with web.client({"Cookie": f"wwc_session={old}"}) as replaced:
        assert (await replaced.get("/api/me")).status_code == 401
    out = await browser.http.delete("/api/session",
                                    headers={"X-CSRF-Token": again.json()["csrf_token"]})
    assert out.status_code == 204
    async with web.client({"Cookie": f"wwc_session={new}"}) as ended:
        assert (await ended.get("/api/me")).status_code == 401
    assert browser.csrf != again.json()["csrf_token"]


async def test_an_idempotent_retry_records_one_event(web: Web,
                                                     people: dict[str, Browser]) -> None:
    admin = people["admin"]
    body = {"name": "Tempe, AZ", "country": "US", "population": 185_000}
    headers = {"Idempotency-Key": "join-tempe-1"}
    first = await admin.post("/api/cities", json=body, headers=headers)
    retry = await admin.post("/api/cities", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201, first.text
    assert retry.headers.get("idempotent-replayed") == "true"
    assert first.json() == retry.json()
    assert [e["type"] for e in await events_of(admin, OTHER)] == ["city.joined",
                                                                   "application.opened"]
    reused = await admin.post("/api/cities", json={**body, "population": 1}, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    # Without the key, the same join again is refused by the city: it has joined.
    joined_again = await admin.post("/api/cities", json=body)
    assert joined_again.status_code == 409, joined_again.text


async def test_tokens_act_for_their_account_until_revoked(web: Web,
                                                          people: dict[str, Browser]) -> None:
    admin = people["admin"]
    issued = await admin.post("/api/tokens", json={"email": "ops@rfa.test", "name": "crm",
                                                   "days": 30})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    async with web.client({"Authorization": f"Bearer {token}"}) as bearer:
        assert (await bearer.get("/api/me")).json()["role"] == "operator"
        assert token not in (await admin.get("/api/tokens")).text
        revoked = await admin.send("DELETE", f"/api/tokens/{issued.json()['token_id']}")
        assert revoked.status_code == 204
        assert (await bearer.get("/api/me")).status_code == 401


async def test_a_page_sends_a_stranger_to_sign_in_and_back(web: Web,
                                                           people: dict[str, Browser]) -> None:
    async with web.client() as stranger:
        answer = await stranger.get(f"/portal/cities/{JOINED}?lang=es")
    assert answer.status_code == 303
    assert answer.headers["location"] == \
        f"/sign-in?next=%2Fportal%2Fcities%2F{JOINED}%3Flang%3Des"
    page = await people["provo"].get(f"/portal/cities/{JOINED}")
    assert page.status_code == 200
    assert "Provo" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    hidden = await people["other_editor"].get(f"/portal/cities/{JOINED}")
    assert hidden.status_code == 404
    assert "Provo" not in hidden.text
