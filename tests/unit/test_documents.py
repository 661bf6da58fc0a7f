"""Evidence documents in the domain: what kind a file is (judged by its first bytes, on
real small samples), the names kept, the limits, and the decider attaching, removing,
submitting and deciding on them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import commands as c
from domain import events as e
from domain.documents import (
    MAX_NAME_LENGTH,
    DocumentRefused,
    EvidenceDocument,
    MediaType,
    clean_name,
    download_name,
)
from domain.errors import DomainError, ErrorCategory
from domain.evidence import check_upload
from domain.preview import preview
from domain.rules import ProgramRules
from domain.sniffing import media_type_of
from tests.factories import WWC_2022, CityDriver, answers
from tests.unit.decider import CITY, refused

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
HEAD_BYTES = 8192  # infra/blobs/port.py: what the blob store hands over of an upload
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def judged(name: str, *, as_name: str | None = None) -> MediaType:
    data = (SAMPLES / name).read_bytes()
    return media_type_of(data[:HEAD_BYTES], as_name or name,
                         complete=len(data) <= HEAD_BYTES)


@pytest.mark.parametrize(("sample", "kind"), [
    ("inventory.pdf", MediaType.PDF), ("dashboard.png", MediaType.PNG),
    ("python.jpg", MediaType.JPEG), ("python.gif", MediaType.GIF),
    ("python.webp", MediaType.WEBP), ("policy.docx", MediaType.DOCX),
    ("budget.xlsx", MediaType.XLSX), ("minutes.odt", MediaType.ODT),
    ("legacy.doc", MediaType.DOC), ("legacy-far.xls", MediaType.XLS),
    ("notes.txt", MediaType.TEXT), ("datasets.csv", MediaType.CSV),
])
def test_a_document_is_known_by_its_content(sample: str, kind: MediaType) -> None:
    assert judged(sample) == kind


def test_the_content_decides_not_the_name() -> None:
    # A PDF named .docx is a PDF; a workbook named .pdf is a workbook.
    assert judged("inventory.pdf", as_name="report.docx") is MediaType.PDF
    assert judged("budget.xlsx", as_name="budget.pdf") is MediaType.XLSX
    assert judged("datasets.csv", as_name="datasets.txt") is MediaType.TEXT


@pytest.mark.parametrize(("sample", "said"), [
    ("tool-renamed.pdf", "Linux executable"),   # a whole ELF program (it runs: exit 0)
    ("setup-renamed.docx", "Windows executable"),
    ("page-named.pdf", "web page"),             # HTML with a script, named .pdf
    ("script.txt", "script"),
    ("archive.zip", "ZIP archive that is not an office document"),
    ("macros.docm", "macros"),
    ("installer-renamed.doc", "not an office document"),
    ("python.bmp", "neither a known document format"),
    ("utf16.txt", "nor UTF-8 text"),
])
def test_what_the_program_does_not_take_is_refused_for_what_it_is(sample: str,
                                                                  said: str) -> None:
    with pytest.raises(DocumentRefused, match=said) as refusal:
        judged(sample)
    assert refusal.value.code == "unsupported_document_type"
    assert refusal.value.category is ErrorCategory.INVALID_INPUT
    assert refusal.value.facts == {"name": sample}


def test_a_legacy_office_file_whose_directory_lies_beyond_the_head_needs_its_name() -> None:
    with pytest.raises(DocumentRefused, match=r"name it \.doc, \.xls or \.ppt"):
        judged("legacy-far.xls", as_name="legacy-far.bin")
    assert judged("legacy-far.xls", as_name="old.ppt") is MediaType.PPT


def test_a_head_cut_inside_a_character_is_still_text_unless_it_is_the_whole_file() -> None:
    head = "ação ".encode() * 10 + "ç".encode()[:1]
    assert media_type_of(head, "notes.txt", complete=False) is MediaType.TEXT
    with pytest.raises(DocumentRefused):
        media_type_of(head, "notes.txt", complete=True)


@given(st.sampled_from([b"", b"PK\x03\x04", OLE_MAGIC, b"%PDF-", b"\xef\xbb\xbf<"]),
       st.binary(max_size=9000), st.booleans())
def test_any_bytes_are_judged_or_refused_never_anything_else(start: bytes, rest: bytes,
                                                            complete: bool) -> None:
    """The sniffer reads untrusted structures (a zip's headers, a compound file's
    directory): whatever the bytes, a type or a refusal, never a crash."""
    found: MediaType | str
    try:
        found = media_type_of((start + rest)[:HEAD_BYTES], "upload.bin", complete=complete)
    except DocumentRefused as refusal:
        found = refusal.code
    assert isinstance(found, MediaType) or found == "unsupported_document_type"


@pytest.mark.parametrize("raw", ["../../etc/passwd", "a/b.pdf", "C:\\Users\\x.pdf", "..",
                                 "  ", "", "report\u202egpj.pdf", "line\nbreak.pdf",
                                 "nul\x00.pdf"])
def test_a_name_with_a_path_or_a_control_character_is_refused(raw: str) -> None:
    with pytest.raises(DocumentRefused) as refusal:
        clean_name(raw)
    assert refusal.value.code == "invalid_document_name"
    assert refusal.value.message.startswith("name: ")


def test_a_name_is_trimmed_composed_and_shortened_keeping_its_extension() -> None:
    assert clean_name("  Relato\u0301rio.pdf ") == "Relatório.pdf"
    long = clean_name("x" * 500 + ".xlsx")
    assert len(long) == MAX_NAME_LENGTH
    assert long.endswith("x.xlsx")
    assert clean_name("v1.2 .. final.pdf") == "v1.2 .. final.pdf"  # dots, not a path


@given(st.text(max_size=300))
def test_a_cleaned_name_is_one_line_without_a_path_and_bounded(raw: str) -> None:
    try:
        name = clean_name(raw)
    except DocumentRefused:
        return
    assert 0 < len(name) <= MAX_NAME_LENGTH
    assert "/" not in name
    assert "\\" not in name
    assert "\n" not in name
    assert clean_name(name) == name


def test_a_download_keeps_its_name_and_gets_the_extension_of_its_type() -> None:
    assert download_name("policy.pdf", "application/pdf") == "policy.pdf"
    assert download_name("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert download_name("policy.html", "text/plain") == "policy.html.txt"
    assert download_name("report", MediaType.DOCX) == "report.docx"


MB = 1024 * 1024
RULES = ProgramRules(document_max_bytes=2 * MB, city_documents_max_bytes=5 * MB)


def _doc(sha: str, size: int) -> EvidenceDocument:
    return EvidenceDocument(name="a.pdf", media_type="application/pdf", size=size,
                            sha256=sha * 64, added_on=D0, added_by="acc-1")


def test_the_limits_are_the_operators_rules() -> None:
    with pytest.raises(DomainError) as empty:
        check_upload(0, "a" * 64, {}, RULES)
    assert empty.value.code == "empty_document"
    with pytest.raises(DomainError) as big:
        check_upload(2 * MB + 1, "a" * 64, {}, RULES)
    assert (big.value.code, big.value.facts) == ("document_too_large", {"limit": 2})
    check_upload(2 * MB, "a" * 64, {}, RULES)
    attached = {"DM1": (_doc("a", 2 * MB), _doc("b", 2 * MB)), "DM2": (_doc("a", 2 * MB),)}
    # 4 MB kept (the same bytes twice count once): 1 MB more fits, a new 2 MB does not.
    check_upload(MB, "c" * 64, attached, RULES)
    with pytest.raises(DomainError) as full:
        check_upload(2 * MB, "c" * 64, attached, RULES)
    assert (full.value.code, full.value.facts) == ("city_documents_too_large",
                                                    {"limit": 5, "used": 4})
    assert full.value.category is ErrorCategory.REFUSED
    check_upload(2 * MB, "b" * 64, attached, RULES)  # attached already: takes nothing more
    assert ProgramRules().document_max_bytes == 25 * MB
    assert ProgramRules().city_documents_max_bytes == 500 * MB


# --- the decider -------------------------------------------------------------------------

D0 = date(2027, 3, 1)
D1 = date(2027, 3, 2)
JOIN = c.JoinNetwork(name="Rock Hill, SC", country="US", population=74_372)
SHA = "ab" * 32
ADD = c.AddDocument(criterion="DM1", name="inventory.pdf", media_type="application/pdf",
                    size=699, sha256=SHA)
JOINED = (e.CityJoined(city_key="us-rock-hill-sc", name="Rock Hill, SC", country="US",
                       population=74_372, on=D0),
          e.ApplicationOpened(number=1, standard_id="wwc-2022", reapplication=False, on=D0))
ADDED = e.DocumentAdded(criterion="DM1", name="inventory.pdf", media_type="application/pdf",
                        size=699, sha256=SHA, by="operator", on=D1)


def test_a_document_is_attached_to_a_criterion_with_its_hash() -> None:
    state = CITY.given(*JOINED).when(ADD, on=D1).then(ADDED)
    assert state.application is not None
    assert state.application.documents == {"DM1": (EvidenceDocument(
        name="inventory.pdf", media_type="application/pdf", size=699, sha256=SHA,
        added_on=D1, added_by="operator"),)}


def test_the_same_bytes_on_the_same_criterion_are_one_document() -> None:
    CITY.given(*JOINED, ADDED).when(ADD.model_copy(update={"name": "again.pdf"}),
                                    on=D1).then()
    # On another criterion they are another document.
    CITY.given(*JOINED, ADDED).when(ADD.model_copy(update={"criterion": "DM2"}), on=D1).then(
        ADDED.model_copy(update={"criterion": "DM2"}))


def test_a_document_is_removed_by_an_event_and_only_if_attached() -> None:
    removed = e.DocumentRemoved(criterion="DM1", sha256=SHA, name="inventory.pdf", on=D1)
    state = CITY.given(*JOINED, ADDED).when(
        c.RemoveDocument(criterion="DM1", sha256=SHA), on=D1).then(removed)
    assert state.application is not None
    assert state.application.documents == {}
    CITY.given(*JOINED, ADDED, removed).when(
        c.RemoveDocument(criterion="DM1", sha256=SHA), on=D1).then(refused("unknown_document"))


def test_documents_go_only_to_a_known_criterion_of_an_application_being_assessed() -> None:
    CITY.given(*JOINED).when(ADD.model_copy(update={"criterion": "ZZ9"}), on=D1).then(
        refused("unknown_criterion"))
    CITY.given().when(ADD, on=D1).then(refused("not_joined"))
    submitted = e.AssessmentSubmitted(answers=answers(WWC_2022, ["DM1"]), on=D1)
    CITY.given(*JOINED, submitted).when(ADD, on=D1).then(refused("wrong_stage"))
    CITY.given(*JOINED, ADDED, submitted).when(
        c.RemoveDocument(criterion="DM1", sha256=SHA), on=D1).then(refused("wrong_stage"))


def test_a_command_takes_only_a_type_the_program_takes_and_a_sha256() -> None:
    with pytest.raises(ValueError, match="not a type of document"):
        c.AddDocument(criterion="DM1", name="x.html", media_type="text/html", size=1,
                      sha256=SHA)
    with pytest.raises(ValueError, match="sha256"):
        c.AddDocument(criterion="DM1", name="x.pdf", media_type="application/pdf", size=1,
                      sha256="AB" * 32)


def test_a_document_fills_an_evidence_slot_and_the_submission_and_decision_name_it() -> None:
    city = CityDriver()
    city(JOIN, D0)
    claimed = answers(WWC_2022, ["DM1"], evidence=False)
    with pytest.raises(DomainError) as missing:
        city(c.SubmitAssessment(answers=claimed), D1)
    assert missing.value.code == "missing_evidence"
    assert "0 of 1 links or documents given" in str(missing.value)
    app = city.state.application
    assert app is not None
    assert [m.code for m in preview(WWC_2022, claimed, app.documents).missing_evidence] == [
        "DM1"]
    city(ADD, D1)
    app = city.state.application
    assert app is not None
    assert preview(WWC_2022, claimed, app.documents).missing_evidence == ()
    (submitted,) = city(c.SubmitAssessment(answers=claimed), D1)
    assert isinstance(submitted, e.AssessmentSubmitted)
    assert [d.sha256 for d in submitted.documents["DM1"]] == [SHA]
    city(c.AssignReviewer(reviewer="r@rfa.org"), D1)
    city(c.RecordCriterionReview(code="DM1", met=True), D1)
    city(c.CompleteReview(), D1)
    decided = city.score_and_decide(D1)[0]
    assert isinstance(decided, e.CertificationDecided)
    assert decided.documents == submitted.documents


def test_events_recorded_before_documents_read_with_none() -> None:
    old = e.AssessmentSubmitted.model_validate({"answers": {}, "on": "2024-01-01"})
    assert old.documents == {}
    assert "documents" not in e.CityJoined.model_fields


def test_the_operator_sets_the_limits_in_the_deployments_settings(tmp_path: Path) -> None:
    from infra.bootstrap import operator_rules
    from infra.platform.config import Settings

    settings = Settings.from_env({"WWC_DATA_DIR": str(tmp_path), "WWC_DOCUMENT_LIMIT_MB": "5",
                                  "WWC_CITY_DOCUMENTS_LIMIT_MB": "40"})
    rules = operator_rules(settings)
    assert (rules.document_max_bytes, rules.city_documents_max_bytes) == (5 * MB, 40 * MB)
    assert operator_rules(Settings(data_dir=tmp_path)) == ProgramRules()


def test_the_bytes_a_city_still_needs_are_the_submitted_and_the_attached_ones() -> None:
    from domain.evidence import needed_bytes

    def added(code: str, sha: str) -> e.DocumentAdded:
        return ADDED.model_copy(update={"criterion": code, "sha256": sha * 64})

    submitted = e.AssessmentSubmitted(answers=answers(WWC_2022, ["DM1"]), on=D1, documents={
        "DM1": (EvidenceDocument(name="a.pdf", media_type="application/pdf", size=1,
                                 sha256="a" * 64, added_on=D1, added_by="acc-1"),)})
    history: list[e.Event] = [
        *JOINED, added("DM1", "a"), added("DM2", "b"),
        e.DocumentRemoved(criterion="DM2", sha256="b" * 64, name="b.pdf", on=D1), submitted]
    assert needed_bytes(history) == {"a" * 64}  # b was removed from the draft
    reapplied = e.ApplicationOpened(number=2, standard_id="wwc-2022", reapplication=True, on=D1)
    history += [reapplied, added("DM1", "c"), added("DM2", "b")]
    assert needed_bytes(history) == {"a" * 64, "b" * 64, "c" * 64}
    history.append(e.CityWithdrew(reason="merged with a neighbour", on=D1))
    assert needed_bytes(history) == {"a" * 64}  # what was submitted stays, for good
