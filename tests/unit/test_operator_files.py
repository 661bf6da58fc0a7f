"""Files operators write by hand: read strictly (a key written twice, text that is not
UTF-8, absurd nesting: one line naming the file, invalid input), and standard files
judged one by one (a broken one is reported and skipped, the others work)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from domain.catalog import StandardCatalog
from domain.errors import StandardError
from infra.platform.errors import ErrorKind, classify
from infra.platform.files import DocumentError, load_document
from infra.standards.folder import StandardsFolder, load_catalog

if TYPE_CHECKING:
    from infra.standards.folder import StandardProblem

PILOT = """id: city-pilot-2030
title: City pilot standard
effective_from: 2030-01-01
complete: true
practices: [{code: DM, name: Data Management}]
criteria:
  - {code: DM1, label: Data inventory, practice: DM}
tiers: {rule: percent, silver: 51, gold: 68, platinum: 85}
"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(DocumentError) as error:
        load_document(path)
    assert classify(error.value) is ErrorKind.INVALID_INPUT  # exit 3, 422
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_a_yaml_key_written_twice_is_refused_naming_it_and_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "standard: wwc-2022\ncriteria:\n  DM1: true\n  DM1: false\n")
    assert refused(path) == ("not valid YAML (line 4, column 3): duplicate key 'DM1' "
                             "(first on line 3)")


def test_a_json_key_written_twice_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json",
                 '{"standard": "wwc-2022", "criteria": {"DM1": true, "DM1": false}}')
    assert refused(path) == "not valid JSON: duplicate key 'DM1'"


def test_a_yaml_merge_may_still_be_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n")
    assert load_document(path)["m"] == {"x": 3, "y": 2}


def test_the_same_key_in_two_mappings_is_no_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "a: {k: 1}\nb: {k: 2}\n")
    assert load_document(path) == {"a": {"k": 1}, "b": {"k": 2}}


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "standard: wwc-2022\ncity: Bogot\xe1\n".encode("latin-1"))
    assert refused(path) == "not UTF-8 text (byte 0xe1 at offset 30); save it as UTF-8"


@pytest.mark.parametrize(("name", "text"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000),
])
def test_absurd_nesting_is_refused(tmp_path: Path, name: str, text: str) -> None:
    assert refused(write(tmp_path, name, text)) == "nested too deeply to read"


# --- standard files -----------------------------------------------------------------------

def survey_folder(folder: Path) -> tuple[StandardCatalog, tuple[StandardProblem, ...]]:
    # Imported here: the module's other tests also run on the code from before it.
    from infra.standards.folder import survey_folder as survey

    return survey(folder)


def test_a_broken_operator_file_is_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "id: broken\ntitle: [unclosed\n")
    write(tmp_path, "pilot.yaml", PILOT)
    catalog, problems = survey_folder(tmp_path)
    assert {"wwc-2017", "wwc-2018", "wwc-2022", "city-pilot-2030"} <= set(catalog)
    assert [(Path(p.file).name, p.problem) for p in problems] == [
        ("broken.yaml", "not valid YAML (line 3, column 1): expected ',' or ']', but got "
                        "'<stream end>'")]
    folder = StandardsFolder(tmp_path)
    assert set(folder.load()) == set(catalog)
    assert folder.problems() == problems


def test_a_second_definition_of_a_standard_is_that_files_problem(tmp_path: Path) -> None:
    write(tmp_path, "a-pilot.yaml", PILOT)
    write(tmp_path, "b-pilot-again.yaml", PILOT)
    write(tmp_path, "c-shipped-again.json", json.dumps({"id": "wwc-2022"}))
    catalog, problems = survey_folder(tmp_path)
    assert "city-pilot-2030" in catalog
    assert [(Path(p.file).name, p.problem) for p in problems] == [
        ("b-pilot-again.yaml", "standard city-pilot-2030 is already defined (by another "
                               "file)"),
        ("c-shipped-again.json", problems[1].problem)]
    assert problems[1].problem.startswith("title: Field required")


def test_a_file_that_is_not_a_standard_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "- just\n- a list\n")
    write(tmp_path, "latin1.yaml", b"id: caf\xe9\n")
    _, problems = survey_folder(tmp_path)
    assert [Path(p.file).name for p in problems] == ["latin1.yaml", "list.yaml"]


def test_a_fixed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "pilot.yaml", "id: [\n")
    assert survey_folder(tmp_path)[1]
    path.write_text(PILOT, encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    catalog, problems = survey_folder(tmp_path)
    assert problems == ()
    assert "city-pilot-2030" in catalog


def test_a_file_named_on_the_command_line_is_still_an_error(tmp_path: Path) -> None:
    """`wwc score --standards FILE`: the operator asked for that file."""
    path = write(tmp_path, "broken.yaml", "id: [\n")
    with pytest.raises(StandardError, match=f"^{path}: not valid YAML"):
        load_catalog([path])
