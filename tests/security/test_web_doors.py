"""The web's side doors, against `wwc up` as a client (or an attacker) meets it: what an
Idempotency-Key replays and keeps, parallel sign-ins, the password change, whose
X-Forwarded-For is believed, the headers of private answers, the docs page, the sign-in
form and its `next`, and whose request id the audit trail records.

Each test failed on the code before issue 21's fixes (see the commit that added it)."""

from __future__ import annotations

import concurrent.futures
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, Person, api
from tests.security.web_service import access_lines, query, second_api, sign_in

pytestmark = pytest.mark.e2e
__all__ = ["api"]  # the module-scoped service fixture

PASSWORD = "a long enough password for tests"
LOCK_AFTER = 10  # infra.identity.throttle
# Where a sign-in must never send the browser (as sent in the query, decoded once).
REDIRECTS = ["/\\evil.example/x", "/\t/evil.example", "//evil.example", "/\\evil.example",
             "/%2F%2Fevil.example", "/%5Cevil.example/x", "/%09/evil.example",
             "https://evil.example/", "javascript:alert(1)", " /evil", "/\n/evil.example"]


def ahead(days: int) -> str:
    """A cohort's date this many days from today: well within the program's horizon (3
    years ahead) whenever the test runs."""
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def fresh_throttle(api: ApiService) -> None:
    """Every test from the same address: each starts with no attempt counted."""
    query(data_dir(api), "DELETE FROM wwc_sign_in_failures")


def data_dir(api: ApiService) -> Path:
    return Path(api.env["WWC_DATA_DIR"])


@pytest.fixture(scope="module")
def admin(api: ApiService) -> Person:
    return api.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)


def create_account(admin: Person, email: str, role: str = "operator", **extra: Any) -> None:
    answer = admin.post("/api/accounts", json={
        "email": email, "display_name": email.split("@")[0], "role": role,
        "password": PASSWORD, **extra})
    assert answer.status_code == 201, answer.text


def issue_token(admin: Person, email: str) -> tuple[str, str]:
    issued = admin.post("/api/tokens", json={"email": email, "name": "t", "days": 30})
    assert issued.status_code == 201, issued.text
    return issued.json()["token_id"], issued.json()["token"]


def join(client: httpx.Client, headers: dict[str, str], n: int) -> httpx.Response:
    return client.post("/api/cities", headers=headers, json={
        "name": f"Keyville {n}", "country": "US", "population": 40_000 + n})


# --- idempotency ---------------------------------------------------------------------------

def test_a_replay_needs_a_live_credential(api: ApiService, admin: Person) -> None:
    """A revoked token replaying its key and body got 201 with the issued token again."""
    create_account(admin, "replayer@program.test", "admin")
    token_id, token = issue_token(admin, "replayer@program.test")
    bearer = {"Authorization": f"Bearer {token}", "Idempotency-Key": "replay-1"}
    body = {"email": "replayer@program.test", "name": "second", "days": 5}
    client = api.client()
    first = client.post("/api/tokens", json=body, headers=bearer)
    assert first.status_code == 201, first.text
    assert admin.send("DELETE", f"/api/tokens/{token_id}").status_code == 204
    replayed = client.post("/api/tokens", json=body, headers=bearer)
    assert replayed.status_code == 401, replayed.text
    assert first.json()["token"] not in replayed.text
    # A session that ended replays nothing either.
    person = sign_in(api.url, "replayer@program.test", PASSWORD)
    keyed = {"Idempotency-Key": "replay-2"}
    cohort = {"cohort_id": "replay-2033", "announce_on": ahead(400)}
    made = person.post("/api/cohorts", json=cohort, headers=keyed)
    assert made.status_code == 201, made.text
    assert person.send("DELETE", "/api/session").status_code == 204
    again = person.post("/api/cohorts", json=cohort, headers=keyed)
    assert again.status_code == 401, again.text
    assert "idempotent-replayed" not in again.headers


def test_a_key_is_its_accounts_own_and_one_request(api: ApiService, admin: Person) -> None:
    create_account(admin, "first@program.test")
    create_account(admin, "second@program.test")
    first = sign_in(api.url, "first@program.test", PASSWORD)
    second = sign_in(api.url, "second@program.test", PASSWORD)
    keyed = {"Idempotency-Key": "shared-key"}
    made = join(first.http, {**keyed, "X-CSRF-Token": first.csrf}, 1)
    assert made.status_code == 201, made.text
    replay = join(first.http, {**keyed, "X-CSRF-Token": first.csrf}, 1)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json() == made.json()
    # Bound to the account, not to a session: the same account's retry from another
    # session (a browser that signed in again) gets the first answer.
    again = sign_in(api.url, "first@program.test", PASSWORD)
    elsewhere_too = join(again.http, {**keyed, "X-CSRF-Token": again.csrf}, 1)
    assert elsewhere_too.headers.get("idempotent-replayed") == "true", elsewhere_too.text
    assert elsewhere_too.json() == made.json()
    # Another account's same key is its own: it runs (and is refused: already joined).
    theirs = join(second.http, {**keyed, "X-CSRF-Token": second.csrf}, 1)
    assert theirs.status_code == 409, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    # The same key on another route is another request: refused, nothing run.
    elsewhere = first.post("/api/cohorts", json={"cohort_id": "key-2030",
                                                 "announce_on": ahead(410)}, headers=keyed)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "idempotency_key_reused")
    assert api.client().get("/api/cohorts").status_code == 200
    assert not [c for c in first.get("/api/cohorts").json() if c["cohort_id"] == "key-2030"]


def test_parallel_posts_with_one_key_run_once(api: ApiService, admin: Person) -> None:
    """20 parallel POSTs with one key and different bodies created 20 cities."""
    headers = {"Idempotency-Key": "parallel-1", "X-CSRF-Token": admin.csrf}

    def send(n: int) -> int:
        with api.client() as client:
            client.cookies = admin.http.cookies
            return join(client, headers, 100 + n).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(send, range(20)))
    assert codes.count(201) == 1, codes
    assert set(codes) <= {201, 409, 422}, codes
    joined = query(data_dir(api), "SELECT stream_id FROM wwc_events WHERE event_type = "
                   "'city.joined' AND stream_id LIKE 'city/us-keyville-1__'")
    assert len(joined) == 1, joined
    # One body, 20 times at once: one run, and every answer is that run's.
    same = {"Idempotency-Key": "parallel-2", "X-CSRF-Token": admin.csrf}

    def resend(_: int) -> tuple[int, str]:
        with api.client() as client:
            client.cookies = admin.http.cookies
            answer = join(client, same, 200)
            return answer.status_code, answer.headers.get("idempotent-replayed", "")

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(resend, range(20)))
    assert [a for a in answers if a == (201, "")] == [(201, "")], answers
    assert {code for code, _ in answers} <= {201, 409}, answers
    assert len(query(data_dir(api), "SELECT 1 FROM wwc_events WHERE event_type = "
                     "'city.joined' AND stream_id = 'city/us-keyville-200'")) == 1


def test_an_answer_with_a_secret_is_never_kept(api: ApiService, admin: Person) -> None:
    """One-time passwords and full API tokens were kept in plain text, and sign-in bodies
    keyed by an unsalted SHA-256 of the password."""
    keyed = {"Idempotency-Key": "secret-1"}
    made = admin.post("/api/tokens", json={"email": ADMIN_EMAIL, "name": "x", "days": 1},
                      headers=keyed)
    assert made.status_code == 201
    again = admin.post("/api/tokens", json={"email": ADMIN_EMAIL, "name": "x", "days": 1},
                       headers=keyed)
    assert (again.status_code, again.json()["code"]) == (409, "idempotency_secret_not_kept")
    assert made.json()["token"] not in again.text
    account = admin.post("/api/accounts", headers={"Idempotency-Key": "secret-2"}, json={
        "email": "madeup@program.test", "display_name": "m", "role": "reviewer"})
    assert account.status_code == 201
    assert account.json()["password"]
    # A sign-in takes no key: nothing of it is kept.
    api.client().post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                      headers={"Idempotency-Key": "sign-in-1"})
    rows = query(data_dir(api), "SELECT key, body, request FROM wwc_idempotency")
    kept = b"".join(bytes(r["body"] or b"") for r in rows)
    assert made.json()["token"].encode() not in kept
    assert account.json()["password"].encode() not in kept
    assert "sign-in-1" not in {r["key"] for r in rows}
    assert {r["key"]: r["body"] for r in rows if r["key"].startswith("secret-")} == {
        "secret-1": None, "secret-2": None}


def test_keys_expire_after_a_day(api: ApiService, admin: Person) -> None:
    keyed = {"Idempotency-Key": "daily-1"}
    first = admin.post("/api/cohorts", json={"cohort_id": "daily-2031",
                                             "announce_on": ahead(420)}, headers=keyed)
    assert first.status_code == 201, first.text
    query(data_dir(api), "UPDATE wwc_idempotency SET created_at = now() - interval '25 hours'"
          " WHERE key = 'daily-1'")
    query(data_dir(api), "INSERT INTO wwc_idempotency (account_id, key, route, request, "
          "status, body, created_at) VALUES ('acc-gone', 'old', 'POST /x', '\\x00', 200, "
          "'\\x00', now() - interval '30 hours')")
    # A day on, the key is free again: another request under it runs.
    later = admin.post("/api/cohorts", json={"cohort_id": "daily-2032",
                                             "announce_on": ahead(430)}, headers=keyed)
    assert later.status_code == 201, later.text
    assert "idempotent-replayed" not in later.headers
    assert not query(data_dir(api), "SELECT 1 FROM wwc_idempotency WHERE key = 'old'")


# --- throttling --------------------------------------------------------------------------

def test_parallel_wrong_passwords_are_counted_before_they_are_checked(
        api: ApiService, admin: Person) -> None:
    """40 concurrent wrong passwords were all checked, none 429."""
    create_account(admin, "victim@program.test", "reviewer")

    def attempt(n: int) -> int:
        with api.client() as client:
            return client.post("/api/session", json={"email": "victim@program.test",
                                                     "password": f"guess {n}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert codes.count(401) <= LOCK_AFTER, codes
    assert codes.count(429) >= 40 - LOCK_AFTER, codes
    # Locked: even the right password is not checked now.
    locked = api.client().post("/api/session", json={"email": "victim@program.test",
                                                     "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_a_password_change_is_throttled_and_revokes_the_tokens(
        api: ApiService, admin: Person) -> None:
    """PUT /api/me/password was not throttled, and left the account's tokens working."""
    create_account(admin, "changer@program.test")
    _, token = issue_token(admin, "changer@program.test")
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client().get("/api/me", headers=bearer).status_code == 200
    person = sign_in(api.url, "changer@program.test", PASSWORD)
    codes = [person.send("PUT", "/api/me/password", json={
        "current_password": f"wrong {n}", "new_password": "another long password"}).status_code
        for n in range(LOCK_AFTER + 1)]
    assert codes == [403] * LOCK_AFTER + [429], codes
    query(data_dir(api), "DELETE FROM wwc_sign_in_failures")
    changed = person.send("PUT", "/api/me/password", json={
        "current_password": PASSWORD, "new_password": "another long password"})
    assert changed.status_code == 200, changed.text
    assert len(changed.json()["tokens_revoked"]) == 1
    assert api.client().get("/api/me", headers=bearer).status_code == 401
    assert person.get("/api/me").status_code == 200  # this session goes on


def test_forwarded_for_is_believed_from_trusted_proxies_only(api: ApiService,
                                                             admin: Person) -> None:
    """X-Forwarded-For from any local process set the throttle's address and the log's."""
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    api.client().post("/api/session", json={"email": "nobody@program.test",
                                            "password": "x"}, headers=spoofed)
    keys = {r["key"] for r in query(data_dir(api), "SELECT key FROM wwc_sign_in_failures")}
    assert keys == {"email:nobody@program.test", "client:127.0.0.1"}, keys
    assert access_lines(api.log, "/api/session")[-1]["client"] == "127.0.0.1"
    query(data_dir(api), "DELETE FROM wwc_sign_in_failures")
    with second_api(api, WWC_TRUSTED_PROXIES="127.0.0.1") as behind_proxy:
        httpx.post(f"{behind_proxy}/api/session", headers=spoofed, timeout=60,
                   json={"email": "nobody@program.test", "password": "x"})
    keys = {r["key"] for r in query(data_dir(api), "SELECT key FROM wwc_sign_in_failures")}
    assert keys == {"email:nobody@program.test", "client:203.0.113.7"}, keys


# --- headers, docs, request ids -----------------------------------------------------------

def test_private_answers_are_not_stored_nor_sniffed(api: ApiService, admin: Person) -> None:
    for answer in (admin.get("/api/me"), admin.get("/api/accounts"),
                   api.client().get("/api/me"), admin.get("/api/cities/us-nowhere-zz"),
                   admin.get("/portal")):
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.request.url
    public = api.client().get("/api/registry")
    assert public.headers.get("x-content-type-options") == "nosniff"
    assert "no-store" not in public.headers.get("cache-control", "")
    static = api.client().get("/static/portal.css")
    assert "immutable" in static.headers["cache-control"]


def test_the_docs_load_nothing_from_elsewhere(api: ApiService) -> None:
    """/docs loaded swagger-ui from a CDN at a floating version, with no integrity."""
    page = api.client().get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), page.text
    assert "<script>" not in page.text  # no inline script: the CSP allows none
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for found in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
        asset = api.client().get(found)
        assert asset.status_code == 200, found
        assert len(asset.content) > 100
    assert "SwaggerUIBundle" in api.client().get(
        re.findall(r"src=\"(/docs/assets/swagger-ui-bundle.js[^\"]*)\"", page.text)[0]).text
    assert api.client().get("/openapi.json").json()["openapi"].startswith("3.1")


def test_the_request_id_on_the_events_is_ours(api: ApiService, admin: Person) -> None:
    """A caller-chosen X-Request-ID became the audit trail's correlation id."""
    joined = admin.post("/api/cities", headers={"X-Request-ID": "forged-id-1"}, json={
        "name": "Requestville", "country": "US", "population": 50_000})
    assert joined.status_code == 201, joined.text
    ours = joined.headers["X-Request-ID"]
    assert ours != "forged-id-1"
    assert joined.headers["X-Caller-Request-ID"] == "forged-id-1"
    history = admin.get(f"/api/cities/{joined.json()['city_key']}/history").json()
    assert {e["correlation_id"] for e in history} == {ours}
    line = access_lines(api.log, "/api/cities")[-1]
    assert (line["request_id"], line["caller_request_id"]) == (ours, "forged-id-1")


# --- the sign-in form ----------------------------------------------------------------------

def test_the_sign_in_page_offers_only_paths_on_this_site(api: ApiService) -> None:
    client = api.client()
    for payload in REDIRECTS:
        page = client.get("/sign-in", params={"next": payload})
        assert page.status_code == 200
        assert 'data-next="/portal"' in page.text, payload
        assert 'name="next" value="/portal"' in page.text, payload
    kept = client.get("/sign-in", params={"next": "/portal/cities/us-x-y?lang=es"})
    assert 'data-next="/portal/cities/us-x-y?lang=es"' in kept.text
    # A page that needs a session sends the browser to sign in, its address encoded.
    bounced = client.get("/portal/pipeline", params={"lang": "es"}, follow_redirects=False)
    assert bounced.headers["location"] == "/sign-in?next=%2Fportal%2Fpipeline%3Flang%3Des"


def test_the_sign_in_form_posts_and_works_without_javascript(api: ApiService) -> None:
    """The form had no method: without JavaScript the password went into the URL."""
    client = api.client()
    page = client.get("/sign-in").text
    assert re.search(r'<form[^>]*method="post"[^>]*action="/sign-in"', page), page
    for payload in REDIRECTS:
        signed = api.client().post("/sign-in", follow_redirects=False, data={
            "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": payload})
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/portal", payload
    signed = client.post("/sign-in", follow_redirects=False, data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/portal/pipeline"})
    assert (signed.status_code, signed.headers["location"]) == (303, "/portal/pipeline")
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert client.get("/api/me").json()["email"] == ADMIN_EMAIL
    wrong = api.client().post("/sign-in", follow_redirects=False, data={
        "email": ADMIN_EMAIL, "password": "wrong", "next": "/portal"})
    assert wrong.status_code == 401
    assert "Wrong e-mail or password." in wrong.text  # in the page's words
    assert "set-cookie" not in wrong.headers
    # Another site's form would sign the browser in to an account of its choosing.
    forged = api.client().post("/sign-in", follow_redirects=False,
                               headers={"Sec-Fetch-Site": "cross-site"},
                               data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    assert ADMIN_PASSWORD not in api.log.read_text()


def test_a_confirmation_form_needs_the_sessions_csrf_token_in_its_field(
        admin: Person) -> None:
    """The confirmation steps post plain forms (they work without JavaScript): the token
    comes in the form's `csrf_token` field, checked as the header is, before the route."""
    decide = "/portal/cities/us-nowhere-zz/decision"
    for fields in ({}, {"csrf_token": "not-the-sessions"}, {"csrf_token": ""}):
        refused = admin.http.post(decide, data=fields, follow_redirects=False)
        assert refused.status_code == 403, fields
    # With the session's own token the route runs: a city that does not exist.
    ran = admin.http.post(decide, data={"csrf_token": admin.csrf}, follow_redirects=False)
    assert ran.status_code == 404, ran.text
    # A form without a session is no one's: it goes and signs in.
    anonymous = httpx.post(f"{str(admin.http.base_url).rstrip('/')}{decide}",
                           data={"csrf_token": admin.csrf}, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in")
