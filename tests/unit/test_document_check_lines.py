"""What `wwc verify --documents` prints: a missing file is never counted as hashed."""

from infra.cli.maintenance import DocumentProblem, DocumentsChecked

GONE = DocumentProblem(sha256="a" * 64, now_hashes_to=None, named_by=["br-recife DM1 'x.pdf'"])


def test_missing_files_are_counted_apart_from_those_hashed_again() -> None:
    checked = DocumentsChecked(documents=3, files=2, missing=[GONE])
    assert checked.lines()[0] == ("NOT ok: 3 document(s) the log needs, 1 stored file(s) "
                                  "hashed again, 1 missing")
    assert checked.lines()[1].startswith(f"missing: {'a' * 64}; named by br-recife DM1")


def test_all_there_says_so() -> None:
    assert DocumentsChecked(documents=1, files=1).lines() == [
        "ok: 1 document(s) the log needs, 1 stored file(s) hashed again"]
