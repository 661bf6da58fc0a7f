"""Evidence documents at the API's doors, in process: uploads streamed, judged by content
and kept once, refusals with nothing kept, who may read a document (another city's
editor finds nothing), removal as an event, and the submission and decision naming the
documents. The program runs in memory over the real event store and a disk blob store."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.accounts import Role
from domain.rules import ProgramRules
from tests.factories import WWC_2022, answers
from tests.web.conftest import Web

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
CITY, OTHER = "us-durham-nc", "us-tempe-az"
KB = 1024
# Small limits, so a file over them is small too (the program's are 25 MB and 500 MB).
RULES = ProgramRules(document_max_bytes=64 * KB, city_documents_max_bytes=100 * KB)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_path(criterion: str, name: str, city: str = CITY) -> str:
    return f"/api/cities/{city}/documents?criterion={criterion}&name={name}"


@pytest.fixture(scope="module")
async def people(web: Web) -> dict[str, dict[str, str]]:
    web.program.rules = RULES
    found: dict[str, dict[str, str]] = {"anonymous": {}}
    people: tuple[tuple[str, Role, dict[str, Any]], ...] = (
            ("editor", Role.CITY_EDITOR, {"cities_to_join": [{"name": "Durham, NC",
                                                                "country": "US"}]}),
            ("other_editor", Role.CITY_EDITOR, {"cities_to_join": [{"name": "Tempe, AZ",
                                                                      "country": "US"}]}),
            ("reviewer", Role.REVIEWER, {}), ("other_reviewer", Role.REVIEWER, {}),
            ("operator", Role.OPERATOR, {}))
    for name, role, extra in people:
        account = await web.account(f"{name.replace('_', '-')}@docs.test", role, **extra)
        found[name] = await web.token(account)
    for who, body in (("editor", {"name": "Durham, NC", "country": "US",
                                  "population": 291_928}),
                      ("other_editor", {"name": "Tempe, AZ", "country": "US",
                                        "population": 180_000})):
        async with web.client(found[who]) as client:
            joined = await client.post("/api/cities", json=body)
            assert joined.status_code == 201, joined.text
    return found


def kept_files(web: Web) -> set[str]:
    root = web.services.settings.effective_documents_dir
    return {p.name for p in root.rglob("*") if p.is_file()}


async def test_an_upload_is_kept_by_its_hash_and_read_back_checked(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    pdf = sample("inventory.pdf")
    async with web.client(people["editor"]) as editor:
        answer = await editor.post(upload_path("DM1", "Data inventory.pdf"), content=pdf,
                                   headers={"Content-Type": "application/octet-stream"})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["sha256"] == sha(pdf)
        assert (body["name"], body["media_type"], body["size"], body["inline"]) == (
            "Data inventory.pdf", "application/pdf", len(pdf), True)
        read = await editor.get(body["href"])
    assert read.status_code == 200
    assert read.content == pdf
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["content-disposition"].startswith("inline;")
    assert read.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in read.headers["content-security-policy"]
    assert "default-src 'none'" in read.headers["content-security-policy"]
    assert read.headers["cache-control"] == "no-store"
    assert sha(pdf) in kept_files(web)
    assert not any(name.startswith("upload-") for name in kept_files(web))  # no spool left


async def test_anything_but_pdf_and_images_is_only_ever_downloaded(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    notes = sample("notes.txt")
    async with web.client(people["editor"]) as editor:
        answer = await editor.post(upload_path("DM2", "minutes.html"), content=notes)
        assert answer.status_code == 201, answer.text
        assert answer.json()["media_type"] == "text/plain"
        read = await editor.get(answer.json()["href"])
        image = await editor.post(upload_path("DM2", "dashboard.png"),
                                  content=sample("dashboard.png"))
        as_file = await editor.get(image.json()["href"] + "?download=true")
    assert read.headers["content-type"] == "text/plain; charset=utf-8"
    # Saved as text whatever it was called: never as a page.
    assert read.headers["content-disposition"] == (
        "attachment; filename=\"minutes.html.txt\"; filename*=UTF-8''minutes.html.txt")
    assert as_file.headers["content-disposition"].startswith("attachment;")


async def test_a_retried_upload_is_stored_once_and_answered_as_the_first_time(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    docx = sample("policy.docx")
    keyed = {**people["editor"], "Idempotency-Key": "upload-policy-1"}
    async with web.client(keyed) as editor:
        first = await editor.post(upload_path("DM3", "policy.docx"), content=docx)
        again = await editor.post(upload_path("DM3", "policy.docx"), content=docx)
        other = await editor.post(upload_path("DM3", "policy.docx"), content=docx + b"x")
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    async with web.client(people["editor"]) as editor:
        unkeyed = await editor.post(upload_path("DM3", "policy (1).docx"), content=docx)
        history = (await editor.get(f"/api/cities/{CITY}/history")).json()
    assert unkeyed.status_code == 200
    assert unkeyed.json()["nothing_new"] == "DM3 already has this document (policy.docx)"
    added = [h for h in history if h["type"] == "evidence.document_added"
             and "DM3" in h["summary"]]
    assert len(added) == 1


async def refused_upload(web: Web, headers: dict[str, str], path: str,
                         content: Any, **extra: Any) -> dict[str, Any]:
    before = kept_files(web)
    async with web.client(headers) as client:
        answer = await client.post(path, content=content, **extra)
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    assert kept_files(web) == before  # nothing kept, no spool left behind
    return {"status": answer.status_code, **answer.json()}


@pytest.mark.parametrize(("name", "code", "status"), [
    ("tool-renamed.pdf", "unsupported_document_type", 415),
    ("page-named.pdf", "unsupported_document_type", 415),
    ("macros.docm", "unsupported_document_type", 415),
])
async def test_a_file_of_the_wrong_type_is_refused(
        web: Web, people: dict[str, dict[str, str]], name: str, code: str,
        status: int) -> None:
    found = await refused_upload(web, people["editor"], upload_path("DM1", name),
                                 sample(name))
    assert (found["status"], found["code"]) == (status, code)
    assert found["detail"].startswith("body: ")
    assert found["facts"] == {"name": name}


async def test_a_name_with_a_path_is_refused_before_a_byte_is_kept(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    found = await refused_upload(web, people["editor"],
                                 upload_path("DM1", "../../etc/passwd"), b"root:x:0:0\n")
    assert (found["status"], found["code"]) == (422, "invalid_document_name")
    assert found["detail"].startswith("name: ")


async def test_an_over_size_file_is_refused_declared_or_streamed(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    big = b"a" * (64 * KB + 1)
    declared = await refused_upload(web, people["editor"], upload_path("DM1", "big.txt"),
                                    big)
    assert (declared["status"], declared["code"]) == (413, "document_too_large")
    assert declared["facts"] == {"limit": 1}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(20):
            yield b"a" * (4 * KB)

    streamed = await refused_upload(web, people["editor"], upload_path("DM1", "big.txt"),
                                    chunks())
    assert (streamed["status"], streamed["code"]) == (413, "document_too_large")
    empty = await refused_upload(web, people["editor"], upload_path("DM1", "empty.txt"), b"")
    assert (empty["status"], empty["code"]) == (422, "empty_document")
    unknown = await refused_upload(web, people["editor"], upload_path("ZZ9", "a.txt"), b"a")
    assert (unknown["status"], unknown["code"]) == (422, "unknown_criterion")


async def test_a_citys_documents_over_its_limit_are_refused(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    # 100 KB an application: the city holds a few KB; 60 KB fit once, not twice.
    one, two = b"b" * (60 * KB), b"c" * (60 * KB)
    async with web.client(people["other_editor"]) as editor:
        kept = await editor.post(upload_path("DM1", "one.txt", OTHER), content=one)
        assert kept.status_code == 201, kept.text
    full = await refused_upload(web, people["other_editor"],
                                upload_path("DM2", "two.txt", OTHER), two)
    assert (full["status"], full["code"]) == (413, "city_documents_too_large")
    async with web.client(people["other_editor"]) as editor:  # the same bytes: no more
        again = await editor.post(upload_path("DM2", "one.txt", OTHER), content=one)
        removed = await editor.delete(f"/api/cities/{OTHER}/documents/{sha(one)}",
                                      params={"criterion": "DM1"})
    assert again.status_code == 201
    assert removed.status_code == 200


async def test_a_document_is_the_citys_private_data(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    pdf_sha = sha(sample("inventory.pdf"))
    mine = f"/api/cities/{CITY}/documents/{pdf_sha}"
    statuses = {}
    for who in ("anonymous", "other_editor", "reviewer", "operator", "editor"):
        async with web.client(people[who]) as client:
            answer = await client.get(mine)
        statuses[who] = answer.status_code
        if who == "other_editor":  # exactly the answer for a city that does not exist
            assert answer.json()["detail"] == f"no city {CITY!r}"
    assert statuses == {"anonymous": 401, "other_editor": 404, "reviewer": 404,
                        "operator": 200, "editor": 200}
    # The same bytes asked for under the other city's own path: not its document.
    async with web.client(people["other_editor"]) as other:
        theirs = await other.get(f"/api/cities/{OTHER}/documents/{pdf_sha}")
        listed = await other.get(f"/api/cities/{OTHER}/documents")
    assert theirs.status_code == 404
    assert pdf_sha not in listed.text


async def test_removing_a_document_is_an_event_and_a_second_removal_finds_nothing(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    gif = sample("python.gif")
    async with web.client(people["editor"]) as editor:
        added = await editor.post(upload_path("DM4", "logo.gif"), content=gif)
        assert added.status_code == 201, added.text
        path = f"/api/cities/{CITY}/documents/{sha(gif)}"
        removed = await editor.delete(path, params={"criterion": "DM4"})
        again = await editor.delete(path, params={"criterion": "DM4"})
        listed = (await editor.get(f"/api/cities/{CITY}/documents")).json()
        history = (await editor.get(f"/api/cities/{CITY}/history")).json()
    assert removed.status_code == 200, removed.text
    assert again.status_code == 404
    assert all(d["criterion"] != "DM4" for d in listed["documents"])
    assert [h["summary"] for h in history if h["type"] == "evidence.document_removed"] == [
        "DM4: document logo.gif removed"]


async def test_the_submission_and_the_decision_name_the_documents_the_review_saw(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    claimed = answers(WWC_2022, 20)
    # DM1's evidence is its document alone: no link.
    claimed.criteria["DM1"] = claimed.criteria["DM1"].model_copy(update={"evidence": ()})
    async with web.client(people["editor"]) as editor:
        submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit",
                                      json={"answers": claimed.model_dump(mode="json")})
        assert submitted.status_code == 200, submitted.text
        late = await refused_upload(web, people["editor"], upload_path("DM1", "late.txt"),
                                    b"too late")
    assert (late["status"], late["code"]) == (409, "wrong_stage")
    pdf_sha = sha(sample("inventory.pdf"))
    async with web.client(people["operator"]) as operator:
        assigned = await operator.post(f"/api/cities/{CITY}/reviewer",
                                       json={"reviewer": "reviewer@docs.test"})
        assert assigned.status_code == 200, assigned.text
    async with web.client(people["reviewer"]) as reviewer:
        seen = await reviewer.get(f"/api/cities/{CITY}/documents/{pdf_sha}")
        assert seen.status_code == 200  # the reviewer assigned reads them
        sheet = [{"code": code, "met": True} for code in claimed.criteria]
        reviewed = await reviewer.post(f"/api/cities/{CITY}/reviews", json={"reviews": sheet})
        assert reviewed.status_code == 200, reviewed.text
        done = await reviewer.post(f"/api/cities/{CITY}/review/complete", json={})
        assert done.status_code == 200, done.text
    async with web.client(people["operator"]) as operator:
        decided = await operator.post(f"/api/cities/{CITY}/decision", json={})
        assert decided.status_code == 200, decided.text
    rows = await web.pool.fetch(
        "SELECT event_type, data FROM wwc_events WHERE stream_id = $1 AND event_type = ANY($2)",
        f"city/{CITY}", ["assessment.submitted", "certification.decided"])
    named = {row["event_type"]: {c: [d["sha256"] for d in docs]
                                 for c, docs in row["data"]["documents"].items()}
             for row in rows}
    assert named["assessment.submitted"] == named["certification.decided"]
    assert named["certification.decided"]["DM1"] == [pdf_sha]


async def test_a_stored_file_altered_by_hand_is_never_served(
        web: Web, people: dict[str, dict[str, str]]) -> None:
    data = sample("datasets.csv")
    async with web.client(people["other_editor"]) as editor:
        added = await editor.post(upload_path("DM3", "datasets.csv", OTHER), content=data)
        assert added.json()["media_type"] == "text/csv"
        stored = next(web.services.settings.effective_documents_dir.rglob(sha(data)))
        stored.chmod(0o600)
        stored.write_bytes(data.replace(b"finance", b"FINANCE"))
        read = await editor.get(added.json()["href"])
    assert (read.status_code, read.json()["code"]) == (409, "document_altered")
