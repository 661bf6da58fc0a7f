"""A city's whole lifecycle through the HTTP API alone, with the accounts the program
gives its people: the city's editor, a reviewer, an operator; and what each may not do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person, api
from tests.factories import WWC_2022, answers

pytestmark = pytest.mark.e2e
__all__ = ["api"]  # the module-scoped service fixture

CITY = "us-durham-nc"
OTHER = "us-tempe-az"
PASSWORD = "a long enough password for tests"


def create(admin: Person, email: str, role: str, **extra: Any) -> None:
    answer = admin.post("/api/accounts", json={
        "email": email, "display_name": email.split("@")[0], "role": role,
        "password": PASSWORD, **extra})
    assert answer.status_code == 201, answer.text
    assert "hash" not in answer.text
    assert PASSWORD not in answer.text


@pytest.fixture(scope="module")
def people(api: ApiService) -> dict[str, Person]:
    admin = api.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    # Made before their cities join: named by name and country, not by a key.
    create(admin, "editor@durham.test", "city_editor",
           cities_to_join=[{"name": "Durham, NC", "country": "US"}])
    create(admin, "editor@tempe.test", "city_editor",
           cities_to_join=[{"name": "Tempe, AZ", "country": "US"}])
    create(admin, "reviewer@rfa.test", "reviewer", affiliations=[OTHER])
    create(admin, "conflicted@rfa.test", "reviewer", affiliations=[CITY])
    create(admin, "ops@rfa.test", "operator")
    return {"admin": admin,
            "editor": api.sign_in("editor@durham.test", PASSWORD),
            "other_editor": api.sign_in("editor@tempe.test", PASSWORD),
            "reviewer": api.sign_in("reviewer@rfa.test", PASSWORD),
            "conflicted": api.sign_in("conflicted@rfa.test", PASSWORD),
            "operator": api.sign_in("ops@rfa.test", PASSWORD)}


def events_of(person: Person, city: str) -> list[dict[str, Any]]:
    answer = person.get(f"/api/cities/{city}/history")
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()
    return result


def test_a_city_through_its_whole_lifecycle_by_api(api: ApiService,
                                                   people: dict[str, Person]) -> None:
    editor, reviewer, operator = people["editor"], people["reviewer"], people["operator"]
    public = api.client()

    joined = editor.post("/api/cities", json={"name": "Durham, NC", "country": "US",
                                              "population": 291_928})
    assert joined.status_code == 201, joined.text
    assert joined.json()["status"] == "assessing"

    # Two editors, one draft: the second save with the stale ETag is refused, nothing lost.
    loaded = editor.get(f"/api/cities/{CITY}/application")
    etag = loaded.headers["ETag"]
    draft = answers(WWC_2022, 5).model_dump(mode="json")
    saved = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                        headers={"If-Match": etag})
    assert saved.status_code == 200, saved.text
    before = len(events_of(editor, CITY))
    stale = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                        headers={"If-Match": etag})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert len(events_of(editor, CITY)) == before
    missing = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft)
    assert missing.status_code == 428

    # The application shows the saved draft under the ETag the save answered; the whole
    # assessment is saved over it, then submitted as saved (no answers in the body).
    reloaded = editor.get(f"/api/cities/{CITY}/application")
    assert reloaded.headers["ETag"] == saved.headers["ETag"] != etag
    assert reloaded.json()["answers"] == draft
    claimed = answers(WWC_2022, 31).model_dump(mode="json")
    keyed = {"If-Match": saved.headers["ETag"], "Idempotency-Key": "whole-1"}
    whole = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=claimed, headers=keyed)
    assert whole.status_code == 200, whole.text
    # Its answer lost, the client sends it again with the same key: the same answer, and
    # one save stored (without the key, the retry would be a stale save: 409).
    retried = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=claimed,
                          headers=keyed)
    assert (retried.status_code, retried.headers["ETag"]) == (200, whole.headers["ETag"])
    submitted = editor.post(f"/api/cities/{CITY}/assessment/submit", json={})
    assert submitted.json()["status"] == "submitted", submitted.text
    assert editor.get(f"/api/cities/{CITY}/application").json()["answers"] == claimed
    late = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=draft,
                       headers={"If-Match": whole.headers["ETag"]})
    assert (late.status_code, late.json()["code"]) == (409, "wrong_stage")
    drafts = [(e["stream"], e["type"], e["actor_role"]) for e in events_of(editor, CITY)
              if e["stream"] == "draft"]
    assert drafts == [("draft", "draft.saved", "city_editor")] * 2 + [
        ("draft", "draft.sealed", "city_editor")]

    conflict = operator.post(f"/api/cities/{CITY}/reviewer",
                             json={"reviewer": "conflicted@rfa.test"})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "conflict_of_interest")
    assigned = operator.post(f"/api/cities/{CITY}/reviewer",
                             json={"reviewer": "reviewer@rfa.test"})
    assert assigned.json()["reviewer"] == "reviewer@rfa.test", assigned.text
    queue = reviewer.get("/api/reviews").json()["items"]
    assert [row["city_key"] for row in queue] == [CITY]

    sheet = {"reviews": [{"code": code, "met": True} for code in claimed["criteria"]]}
    recorded = reviewer.post(f"/api/cities/{CITY}/reviews", json=sheet)
    assert (recorded.status_code, recorded.json()["nothing_new"]) == (200, None)
    # The same sheet again (a retry without its key): the same view, nothing recorded.
    again = reviewer.post(f"/api/cities/{CITY}/reviews", json=sheet)
    assert again.status_code == 200, again.text
    assert again.json()["nothing_new"] == (
        f"every review on the sheet ({len(claimed['criteria'])}) was already recorded as given")
    assert again.json()["version"] == recorded.json()["version"]
    asked = reviewer.post(f"/api/cities/{CITY}/clarifications", json={
        "criterion": "DM2", "question": "When was the inventory last updated?"})
    assert asked.json()["open_clarifications"] == [1], asked.text
    answered = editor.post(f"/api/cities/{CITY}/clarifications/1/answer", json={
        "answer": "In March", "evidence": ["https://durhamnc.gov/inventory"]})
    assert answered.json()["open_clarifications"] == [], answered.text
    done = reviewer.post(f"/api/cities/{CITY}/review/complete", json={})
    assert done.json()["status"] == "review_complete", done.text

    decided = operator.post(f"/api/cities/{CITY}/decision")
    assert (decided.json()["status"], decided.json()["last_decision_tier"]) == (
        "awaiting_announcement", "gold"), decided.text
    assert editor.get(f"/api/cities/{CITY}/report").json()["score"]["tier"] == "gold"
    # Decided is not announced: nothing public yet.
    assert CITY not in [c["city_key"] for c in public.get("/api/registry").json()["items"]]
    assert public.get(f"/api/registry/{CITY}").status_code == 404

    cohort = operator.post("/api/cohorts", json={
        "cohort_id": "api-cohort", "announce_on": str(date.today() + timedelta(days=30))})
    assert cohort.status_code == 201, cohort.text
    announced = operator.post("/api/cohorts/api-cohort/announce")
    assert [c["city_key"] for c in announced.json()["cities"]] == [CITY], announced.text

    registry = public.get("/api/registry").json()["items"]
    assert [(c["city_key"], c["tier"]) for c in registry] == [(CITY, "gold")]
    page = public.get(f"/api/registry/{CITY}").json()
    assert (page["tier"], page["cohort_id"], len(page["history"])) == ("gold", "api-cohort", 1)
    assert [c["cohort_id"] for c in public.get("/api/cohorts").json()] == ["api-cohort"]
    yesterday = public.get("/api/registry", params={"as_of": str(date.today() - timedelta(1))})
    assert yesterday.json()["items"] == []

    # Who did what: each event names the account and role that caused it.
    actors = {(e["type"], e["actor_role"]) for e in events_of(operator, CITY)}
    assert {("city.joined", "city_editor"), ("assessment.submitted", "city_editor"),
            ("review.reviewer_assigned", "operator"), ("review.criterion_reviewed",
                                                        "reviewer"),
            ("certification.decided", "operator"),
            ("certification.announced", "program")} <= actors


def test_another_citys_editor_finds_nothing(api: ApiService, people: dict[str, Person]) -> None:
    """Every route under a city's path that is not public answers 404 to another city's
    editor, exactly as for a city that does not exist, whatever the method."""
    other = people["other_editor"]
    routes = api.client().get("/openapi.json").json()["paths"]
    tried = 0
    for path, operations in routes.items():
        if "{key}" not in path:
            continue
        concrete = path.replace("{key}", CITY).replace("{clarification_id}", "1")
        for method, operation in operations.items():
            if operation["x-wwc-access"] == "public":
                continue
            answer = other.send(method.upper(), concrete, json={})
            assert answer.status_code == 404, (method, path, answer.text)
            nowhere = other.send(method.upper(), concrete.replace(CITY, "us-nowhere-zz"),
                                 json={})
            assert nowhere.json()["detail"].replace("us-nowhere-zz", CITY) == \
                answer.json()["detail"], (method, path)
            tried += 1
    assert tried >= 10  # the test walked the real route table


def test_a_state_change_without_the_csrf_token_is_refused(
    api: ApiService, people: dict[str, Person]
) -> None:
    editor = people["editor"]
    for token in (None, "wrong-token"):
        headers = {"X-CSRF-Token": token} if token else {}
        refused = editor.http.post(f"/api/cities/{CITY}/withdraw", json={"reason": "x"},
                                   headers=headers)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
    assert editor.get(f"/api/cities/{CITY}").json()["status"] != "withdrawn"


def test_signing_in_makes_a_new_session_and_signing_out_ends_it(api: ApiService) -> None:
    client = api.client()
    first = client.post("/api/session", json={"email": ADMIN_EMAIL,
                                              "password": ADMIN_PASSWORD})
    old = client.cookies["wwc_session"]
    again = client.post("/api/session", json={"email": ADMIN_EMAIL,
                                              "password": ADMIN_PASSWORD})
    new = client.cookies["wwc_session"]
    assert new != old
    cookie = again.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    # The replaced session opens nothing any more.
    assert signed_in_with(api, old).status_code == 401
    out = client.delete("/api/session", headers={"X-CSRF-Token": again.json()["csrf_token"]})
    assert out.status_code == 204
    assert signed_in_with(api, new).status_code == 401
    assert first.json()["csrf_token"] != again.json()["csrf_token"]


def signed_in_with(api: ApiService, session_id: str) -> httpx.Response:
    client = api.client()
    client.cookies.set("wwc_session", session_id)
    return client.get("/api/me")


def test_repeated_failed_sign_ins_are_throttled(api: ApiService) -> None:
    client = api.client()
    answers_seen = []
    for _ in range(11):
        answer = client.post("/api/session", json={"email": "nobody@program.test",
                                                   "password": "wrong"})
        answers_seen.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
            break
    assert answers_seen[-1] == 429
    # One message whether the account exists or not.
    assert all(code == 401 for code in answers_seen[:-1])


def test_an_idempotent_retry_records_one_event(api: ApiService,
                                               people: dict[str, Person]) -> None:
    admin = people["admin"]
    body = {"name": "Tempe, AZ", "country": "US", "population": 185_000}
    headers = {"Idempotency-Key": "join-tempe-1"}
    first = admin.post("/api/cities", json=body, headers=headers)
    retry = admin.post("/api/cities", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("idempotent-replayed") == "true"
    assert first.json() == retry.json()
    assert [e["type"] for e in events_of(admin, OTHER)] == ["city.joined",
                                                             "application.opened"]
    reused = admin.post("/api/cities", json={**body, "population": 1}, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


def test_tokens_act_for_their_account_until_revoked(api: ApiService,
                                                    people: dict[str, Person]) -> None:
    admin = people["admin"]
    issued = admin.post("/api/tokens", json={"email": "ops@rfa.test", "name": "crm",
                                             "days": 30})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    client = api.client()
    assert client.get("/api/me", headers=bearer).json()["role"] == "operator"
    listed = admin.get("/api/tokens").text
    assert token not in listed
    assert admin.send("DELETE", f"/api/tokens/{issued.json()['token_id']}").status_code == 204
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_no_secret_reaches_a_log_line(api: ApiService, people: dict[str, Person]) -> None:
    """Passwords, session ids, CSRF tokens and API tokens never appear in the logs."""
    admin = people["admin"]
    token = admin.post("/api/tokens", json={"email": ADMIN_EMAIL, "name": "scan",
                                            "days": 1}).json()["token"]
    api.client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    secrets = [PASSWORD, ADMIN_PASSWORD, token, admin.csrf,
               *(p.http.cookies.get("wwc_session") or "" for p in people.values())]
    logs = api.log.read_text()
    for secret in filter(None, secrets):
        assert secret not in logs
    assert '"path": "/api/session"' in logs  # the access log is there, without them


def test_http_as_clients_expect_it(api: ApiService, people: dict[str, Person]) -> None:
    client = api.client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["lag"] >= 0
    assert client.get("/healthz").json() == {"status": "ok"}
    malformed = client.post("/api/session", content=b"{not json",
                            headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    # The guard comes before the body: a caller who may not call a route is told so, not
    # what is wrong with a body it may not send (FastAPI alone would answer 400 first).
    unsigned = client.post(f"/api/cities/{CITY}/assessment/submit", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert unsigned.status_code == 401, unsigned.text
    huge = people["editor"].send("PUT", f"/api/cities/{CITY}/assessment",
                                 content=b"{" + b" " * 2_000_000 + b"}",
                                 headers={"content-type": "application/json", "If-Match": "v1"})
    assert huge.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b"{"
        for _ in range(3):
            yield b" " * 600_000
        yield b"}"

    streamed = people["editor"].send("PUT", f"/api/cities/{CITY}/assessment", content=chunks(),
                                     headers={"content-type": "application/json",
                                              "If-Match": "v1"})
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    # The same under an Idempotency-Key: nothing is kept for the key, so the request sent
    # again whole is run (a kept answer for the cut-off body would refuse it as reused).
    keyed = {"content-type": "application/json", "Idempotency-Key": "streamed-1"}
    path = f"/api/cities/{CITY}/assessment/preview"
    assert people["editor"].post(path, content=chunks(), headers=keyed).status_code == 413
    whole = people["editor"].post(path, json={"criteria": {}}, headers=keyed)
    assert whole.status_code == 200, whole.text
    assert "idempotent-replayed" not in whole.headers
    nul = client.get("/api/registry", params={"country": "U\x00"})
    assert nul.status_code == 400
    editor = people["editor"]
    joined = editor.post("/api/cities", json={"name": "Durham, NC", "country": "US",
                                              "population": 291_928})
    assert joined.status_code in (201, 409)  # whichever test came first joined it
    script = {"criteria": {"DM1": {"met": True, "evidence": ["javascript:alert(1)"]}}}
    evidence = editor.send("PUT", f"/api/cities/{CITY}/assessment", json=script,
                           headers={"If-Match": 'W/"v2"'})
    assert evidence.status_code == 422
    assert "http(s) URL" in evidence.json()["detail"]
    assert client.get("/api/registry", params={"limit": 0}).status_code == 422
    assert "x-request-id" in {k.lower() for k in client.get("/healthz").headers}
    # A caller's own id is echoed beside ours, never instead of it (ours is the one the
    # events it causes record: tests/security/test_web_doors.py).
    given = client.get("/healthz", headers={"X-Request-ID": "my-request-1"})
    assert given.headers["X-Caller-Request-ID"] == "my-request-1"
    assert given.headers["X-Request-ID"] != "my-request-1"


def test_operators_scrape_the_metrics(api: ApiService, people: dict[str, Person]) -> None:
    assert api.client().get("/metrics").status_code == 401
    scraped = people["operator"].get("/metrics")
    assert scraped.status_code == 200
    text = scraped.text
    for metric in ("wwc_events_appended_total", "wwc_command_refusals_total",
                   "wwc_projection_lag_events", "wwc_http_request_seconds_bucket"):
        assert metric in text
    assert 'wwc_projection_lag_events{projection="registry"}' in text
