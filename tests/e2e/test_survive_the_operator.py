"""Survive the operator: bad numbers, bad text, bad files and repeated commands are
refused at every door with one line naming the field (exit 3 / 422 for bad input, 4 /
409 for the rules), and leave nothing stuck; a broken standard file is reported and
skipped. Each case is one an operator met on the service before it was refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService, serving
from tests.e2e.conftest import RunWwc

pytestmark = pytest.mark.e2e
PILOT = """id: city-pilot-2030
title: City pilot standard
effective_from: 2030-01-01
complete: true
practices: [{code: DM, name: Data Management}]
criteria:
  - {code: DM1, label: Data inventory, practice: DM}
tiers: {rule: percent, silver: 51, gold: 68, platinum: 85}
"""
BROKEN = "id: broken\ntitle: [unclosed\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    """`wwc up` on a data directory whose standards folder holds a broken file beside a
    good one (before, `wwc up` refused to start)."""
    data_dir = tmp_path_factory.mktemp("wwc-operator")
    (data_dir / "standards").mkdir()
    (data_dir / "standards" / "broken.yaml").write_text(BROKEN)
    (data_dir / "standards" / "pilot.yaml").write_text(PILOT)
    with serving(data_dir) as service:
        yield service


Run = Callable[..., Any]


@pytest.fixture
def run(wwc: RunWwc, api: ApiService) -> Run:
    def command(*args: str, code: int = 0) -> Any:
        result = wwc(*args, env=api.env)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "\x1b" not in result.stderr  # never an escape sequence echoed
        return result

    return command


def test_a_broken_standard_file_is_reported_and_the_others_work(api: ApiService,
                                                                run: Run) -> None:
    skipped = "standard file skipped: "
    assert f"warning: {skipped}" in api.log.read_text()
    assert "broken.yaml: not valid YAML (line 3, column 1)" in api.log.read_text()
    health = json.loads(run("status", "--service", "--json").stdout)
    assert [Path(p["file"]).name for p in health["standards"]] == ["broken.yaml"]
    ready = httpx.get(f"{api.url}/readyz", timeout=60)
    assert ready.status_code == 200  # a broken operator file alone: still ready
    assert [Path(p["file"]).name for p in ready.json()["standards"]] == ["broken.yaml"]
    joined = run("join", "--name", "Rock Hill, SC", "--country", "US", "--population",
                 "74372", "--json")
    assert json.loads(joined.stdout)["standard_id"] == "wwc-2022"


def test_a_population_beyond_the_bound_is_refused_and_the_registry_still_reads(
    run: Run
) -> None:
    """2^31 joined, then wedged `wwc list`, export, rebuild and audit (exit 1)."""
    refused = run("join", "--name", "Big, TX", "--country", "US", "--population",
                  "2147483648", code=3)
    assert "population: must be at most 100,000,000 residents" in refused.stderr
    for reader in (("list", "--json"), ("export", "registry", "--format", "csv")):
        run(*reader)


def test_control_and_bidi_characters_are_refused_naming_the_field(run: Run) -> None:
    title = run("join", "--name", "Evil\x1b]0;pwned\x07, TX", "--country", "US",
                "--population", "74372", code=3)
    assert ("name: may not contain control or bidi-override characters (found U+001B)"
            in title.stderr)
    run("join", "--name", "Good, TX", "--country", "US", "--population", "74372")
    withdrawn = run("withdraw", "us-good-tx", "--reason", "moved\u202eaway", code=3)
    assert "reason: may not contain control or bidi-override characters" in withdrawn.stderr


def test_cohorts_dated_years_ahead_or_created_twice_are_refused(run: Run) -> None:
    far = run("cohort", "create", "far", "--date", "9999-12-31", code=3)
    assert "announce_on: 9999-12-31 is more than 3 years ahead" in far.stderr
    assert "[date_too_far]" in far.stderr
    run("cohort", "create", "twice", "--date", _in_days(30))
    again = run("cohort", "create", "twice", "--date", _in_days(30), code=4)
    assert "wwc: refused: cohort twice already exists [cohort_exists]" in again.stderr
    run("cohort", "announce", "twice")
    after = run("cohort", "create", "twice", "--date", _in_days(31), code=4)
    assert "[cohort_exists]" in after.stderr


def _in_days(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def test_an_editor_for_a_city_that_never_joined_is_refused(run: Run) -> None:
    typo = run("users", "add", "ed@nowhere.test", "--role", "city_editor", "--city",
               "us-nowhere-zz", code=3)
    assert "cities: us-nowhere-zz has not joined the network" in typo.stderr
    assert "[unknown_city]" in typo.stderr
    made = run("users", "add", "ed@tempe.test", "--role", "city_editor", "--joining",
               "Tempe, AZ", "--country", "US")
    assert "created ed@tempe.test" in made.stdout
    editor = next(a for a in json.loads(run("users", "list", "--json").stdout)
                  if a["email"] == "ed@tempe.test")
    assert editor["cities"] == ["us-tempe-az"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("dup.yaml", "standard: wwc-2022\ncriteria:\n  DM1: true\n  DM1: false\n",
     "duplicate key 'DM1' (first on line 3)"),
    ("latin1.yaml", b"standard: wwc-2022\ncriteria: {DM1: true}  # caf\xe9\n",
     "not UTF-8 text"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply to read"),
])
def test_wwc_score_refuses_a_file_it_cannot_read_as_written(
    wwc: RunWwc, tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = wwc("score", str(path))
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"wwc: error: {path}: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1  # one line


def test_the_api_refuses_the_same_with_422_naming_the_field(api: ApiService) -> None:
    admin = api.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    as_text = admin.post("/api/cities", json={"name": "Str Pop, TX", "country": "US",
                                              "population": "74372"})
    assert as_text.status_code == 422, as_text.text
    assert as_text.json()["detail"].startswith("body.population: Input should be")
    twice = admin.post("/api/cities", content=b'{"name": "Dup, TX", "name": "Dup2, TX", '
                       b'"country": "US", "population": 74372}',
                       headers={"Content-Type": "application/json"})
    assert (twice.status_code, twice.json()["code"]) == (422, "duplicate_key"), twice.text
    assert twice.json()["detail"] == "body: duplicate key 'name'"
    hidden = admin.post("/api/accounts", json={
        "email": "ed@x.test", "display_name": "Ed\x1b]0;x\x07", "role": "operator"})
    assert hidden.status_code == 422, hidden.text
    assert hidden.json()["detail"].startswith("body: display_name: may not contain control")
    typo = admin.post("/api/accounts", json={
        "email": "ed@x.test", "display_name": "Ed", "role": "city_editor",
        "cities": ["us-nowhere-zz"]})
    assert (typo.status_code, typo.json()["code"]) == (422, "unknown_city"), typo.text
    to_join = admin.post("/api/accounts", json={
        "email": "ed@x.test", "display_name": "Ed", "role": "city_editor",
        "cities_to_join": [{"name": "Nampa, ID", "country": "US"}]})
    assert to_join.status_code == 201, to_join.text
    assert to_join.json()["account"]["cities"] == ["us-nampa-id"]
    far = admin.post("/api/cohorts", json={"cohort_id": "far", "announce_on": "9999-12-31"})
    assert (far.status_code, far.json()["code"]) == (422, "date_too_far"), far.text
    made = admin.post("/api/cohorts", json={"cohort_id": "api-1",
                                            "announce_on": _in_days(10)})
    assert made.status_code == 201, made.text
    again = admin.post("/api/cohorts", json={"cohort_id": "api-1",
                                             "announce_on": _in_days(10)})
    assert (again.status_code, again.json()["code"]) == (409, "cohort_exists"), again.text
