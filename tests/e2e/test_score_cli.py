import json
from pathlib import Path

from tests.e2e.conftest import REPO, RunWwc


def test_scores_the_example_file_as_json(wwc: RunWwc) -> None:
    result = wwc("score", "examples/self-assessment.yaml", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["standard"] == "wwc-2022"
    assert (report["points"], report["total"]) == (26, 43)
    assert report["tier"] == "silver"
    assert report["percent"] == 60.47
    assert report["next_tier"]["tier"] == "gold"
    assert len(report["next_tier"]["criteria"]) == 4  # 30 of 43 is gold


def test_prints_a_readable_report(wwc: RunWwc) -> None:
    result = wwc("score", str(REPO / "examples" / "self-assessment.yaml"))
    assert result.returncode == 0, result.stderr
    assert "Tier: SILVER" in result.stdout
    assert "Data Management" in result.stdout
    assert "Next tier (gold):" in result.stdout


def test_a_json_file_is_accepted(wwc: RunWwc, tmp_path: Path) -> None:
    path = tmp_path / "launch.json"
    path.write_text(json.dumps({"standard": "wwc-2017",
                                "criteria": {"COMMIT": True, "MEASURE": True, "ACT": True}}))
    result = wwc("score", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tier"] == "gold"


def test_errors_name_the_problem_and_exit_3(wwc: RunWwc, tmp_path: Path) -> None:
    cases = {
        "broken.json": ('{"standard": "wwc-2022",', "not valid JSON (line 1"),
        "unknown-standard.yaml": ("standard: wwc-1999\ncriteria: {DM1: true}\n",
                                  "unknown standard 'wwc-1999'"),
        "unknown-code.yaml": ("standard: wwc-2022\ncriteria: {DM1: true, QQ7: true}\n",
                              "unknown criterion code QQ7"),
        "incomplete.yaml": ("standard: wwc-2018\ncriteria: {DG2: true}\n",
                            "wwc-2018 is incomplete"),
        "shape.yaml": ("standard: wwc-2022\ncriteria: {DM1: maybe}\n", "criteria.DM1"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = wwc("score", str(path))
        assert result.returncode == 3, (name, result.stderr)
        assert message in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr
    missing = wwc("score", str(tmp_path / "absent.yaml"))
    assert missing.returncode == 3
    assert "no such file" in missing.stderr


def test_an_operator_standard_file_can_be_used(wwc: RunWwc, tmp_path: Path) -> None:
    folder = tmp_path / "standards"
    folder.mkdir()
    (folder / "city-pilot.yaml").write_text(
        "id: pilot-1\ntitle: Pilot\neffective_from: 2030-01-01\n"
        "practices: [{code: P, name: Pilot practice}]\n"
        "criteria: [{code: P1, label: one, practice: P}, {code: P2, label: two, practice: P}]\n"
        "tiers: {rule: percent, silver: 50, gold: 75, platinum: 100}\n")
    assessment = tmp_path / "a.yaml"
    assessment.write_text("standard: pilot-1\ncriteria: {P1: true, P2: true}\n")
    result = wwc("score", str(assessment), "--json", "--standards", str(folder))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tier"] == "platinum"


def test_a_contradictory_operator_standard_is_refused(wwc: RunWwc, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad-1\ntitle: Bad\neffective_from: 2030-01-01\n"
        "practices: [{code: P, name: P}]\n"
        "criteria: [{code: P1, label: one, practice: P, prerequisites: [P9]}]\n"
        "tiers: {rule: percent, silver: 50, gold: 75, platinum: 100}\n")
    assessment = tmp_path / "a.yaml"
    assessment.write_text("standard: wwc-2022\ncriteria: {DM1: true}\n")
    result = wwc("score", str(assessment), "--standards", str(bad))
    assert result.returncode == 3
    assert "criterion P1: unknown prerequisite 'P9'" in result.stderr
