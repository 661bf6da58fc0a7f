"""`wwc` as an operator uses it: `wwc up` in one terminal, commands in another."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pty
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml

from infra.mail.catcher import stored_messages
from infra.postgres.db import stop_embedded_server
from tests.e2e.conftest import REPO, WWC, RunWwc, clean_env, free_port, wwc_up
from tests.factories import WWC_2022

pytestmark = pytest.mark.e2e
CITY = "us-rock-hill-sc"


def on_a_terminal(env: dict[str, str], answer: str,
                  *args: str) -> subprocess.CompletedProcess[str]:
    """`wwc ARGS` typed at a terminal (its stdin a pseudo-terminal holding `answer`)."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run([WWC, *args], stdin=terminal, capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=120, check=False)
    finally:
        os.close(terminal)
        os.close(controller)


def succeeding(wwc: RunWwc, env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`wwc ARGS` that must exit 0 (the failure shows the arguments and stderr)."""

    def ok(*args: str) -> subprocess.CompletedProcess[str]:
        result = wwc(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
        return result

    return ok


@pytest.fixture(scope="module")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`wwc up` running on its own data directory for the whole module."""
    data_dir = tmp_path_factory.mktemp("wwc-data")
    env = clean_env(data_dir, COLUMNS="120")
    with wwc_up(env, data_dir / "up.log"):
        yield env
    # Ctrl-C stops everything `wwc up` started, its PostgreSQL included.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


def test_up_prints_where_things_are_and_refuses_a_second_start(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    log = (Path(service_env["WWC_DATA_DIR"]) / "up.log").read_text()
    assert "Temporal UI:  http://127.0.0.1:" in log
    again = wwc("up", env=service_env)
    assert again.returncode == 4
    assert "already running" in again.stderr


def test_the_installed_wwc_lists_its_commands(wwc: RunWwc) -> None:
    """The console script as installed (each command's own help is walked in process by
    tests/unit/test_cli_help.py, a subprocess per command cost half a minute)."""
    top = wwc("--help")
    assert top.returncode == 0
    for command in ("join", "assessment", "review", "decide", "cohort", "reapply", "withdraw",
                    "status", "list", "history", "report", "export", "up", "down", "demo",
                    "worker", "score", "verify", "db", "projections", "backup", "restore"):
        assert command in top.stdout, command
    assert wwc("review", "--help").returncode == 0


def _assessment(tmp_path: Path, met: int) -> Path:
    codes = WWC_2022.codes[:met]
    path = tmp_path / "assessment.yaml"
    path.write_text(yaml.safe_dump({
        "standard": "wwc-2022", "criteria": {code: True for code in codes},
        "evidence": {code: [f"https://rockhillsc.gov/data/{code}"] for code in codes},
        "outcomes": {"broadband": True}}))
    return path


def test_a_city_through_its_lifecycle_with_the_cli(
    wwc: RunWwc, service_env: dict[str, str], tmp_path: Path
) -> None:
    ok = succeeding(wwc, service_env)

    joined = json.loads(ok("join", "--name", "Rock Hill, SC", "--country", "US",
                           "--population", "74372", "--json").stdout)
    assert (joined["city_key"], joined["status"]) == (CITY, "assessing")

    incomplete = tmp_path / "no-evidence.yaml"
    incomplete.write_text("standard: wwc-2022\ncriteria: {DM1: true}\n")
    refused = wwc("assessment", "submit", CITY, str(incomplete), env=service_env)
    assert refused.returncode == 3
    assert "lacks evidence" in refused.stderr

    ok("assessment", "save", CITY, str(incomplete))  # a draft needs no evidence yet
    ok("assessment", "submit", CITY, str(_assessment(tmp_path, 24)))
    late = wwc("assessment", "save", CITY, str(incomplete), env=service_env)
    assert late.returncode == 4
    assert "the application is submitted" in late.stderr
    unknown = wwc("review", "assign", CITY, "rfa-review-team", env=service_env)
    assert unknown.returncode == 4
    assert "[unknown_reviewer]" in unknown.stderr  # a reviewer is an account
    ok("users", "add", "rfa@review.test", "--role", "reviewer")
    ok("review", "assign", CITY, "rfa@review.test")
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(yaml.safe_dump({code: True for code in WWC_2022.codes[:24]}))
    ok("review", "record", CITY, "--sheet", str(sheet))
    ok("review", "clarify", CITY, "DM2", "When was the inventory last updated?")
    early = wwc("review", "complete", CITY, env=service_env)
    assert early.returncode == 4
    assert "clarification 1 still awaits" in early.stderr
    ok("review", "answer", CITY, "1", "In May", "--evidence", "https://rockhillsc.gov/inv")
    ok("review", "complete", CITY)
    decided = json.loads(ok("decide", CITY, "--json").stdout)
    assert (decided["status"], decided["last_decision_tier"]) == ("awaiting_announcement",
                                                                  "silver")

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    ok("cohort", "create", "e2e-cohort", "--date", tomorrow)
    # On a terminal it first lists what it would publish and asks: "no" announces nothing
    # (a script's stdin is no terminal: the --json announcement below goes at once).
    asked = on_a_terminal(service_env, "n\n", "cohort", "announce", "e2e-cohort")
    assert asked.returncode == 2, asked.stderr
    assert "cohort e2e-cohort will announce 1 city now, publicly:" in asked.stdout
    assert f"silver    Rock Hill, SC ({CITY})" in asked.stdout
    assert "not confirmed: nothing changed" in asked.stderr
    announced = json.loads(ok("cohort", "announce", "e2e-cohort", "--json").stdout)
    assert [c["city_key"] for c in announced["cities"]] == [CITY]

    status = json.loads(ok("status", CITY, "--json").stdout)
    assert (status["status"], status["tier"]) == ("certified", "silver")
    listed = json.loads(ok("list", "--tier", "silver", "--json").stdout)
    assert [row["city_key"] for row in listed] == [CITY]

    history = ok("history", CITY).stdout
    for event in ("city.joined", "draft.saved", "draft.sealed",
                  "review.clarification_requested", "certification.announced"):
        assert event in history
    assert f"Temporal workflow id: city/{CITY}" in history

    page = tmp_path / "report.html"
    report = ok("report", CITY, "--html", str(page)).stdout
    assert "Result: **Silver** with 24 of 43 criteria met" in report
    assert "<svg" in page.read_text()

    exported = ok("export", "registry", "--format", "csv").stdout.splitlines()
    assert exported[0].startswith("city_key,name,country,status,tier")
    assert any(line.startswith(f"{CITY},Rock Hill, SC") or CITY in line for line in exported)
    assert "every hash chain holds" in ok("verify").stdout
    assert "workflows, event log and read models agree" in ok("audit").stdout

    # The program as of a day, from the event log.
    today = datetime.now(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert json.loads(ok("list", "--as-of", yesterday, "--json").stdout) == []
    held = json.loads(ok("list", "--as-of", today.isoformat(), "--json").stdout)
    assert [(row["city_key"], row["tier"]) for row in held] == [(CITY, "silver")]
    then = json.loads(ok("status", CITY, "--as-of", today.isoformat(), "--json").stdout)
    assert (then["status"], then["tier"]) == ("certified", "silver")
    before_joining = wwc("status", CITY, "--as-of", "2001-01-01", env=service_env)
    assert before_joining.returncode == 6

    # The program in numbers (the portal's /portal/numbers): Rock Hill joined, submitted,
    # was reviewed (its clarification answered in time), decided and announced today.
    numbers = json.loads(ok("stats", "--json").stdout)
    assert numbers["as_of"] == today.isoformat()
    assert numbers["certified"][-1] == {"day": today.isoformat(), "silver": 1, "gold": 0,
                                        "platinum": 0, "total": 1}
    assert [(d["step"], d["applications"], d["median_days"]) for d in numbers["durations"]] \
        == [("join_to_submission", 1, 0), ("submission_to_decision", 1, 0),
            ("decision_to_announcement", 1, 0)]
    assert numbers["reviewers"] == [{"reviewer": "rfa@review.test", "open_reviews": 0,
                                     "completed_reviews": 1, "deadlines_met": 1,
                                     "deadlines_missed": 0}]
    shown = ok("stats").stdout
    assert "Days between the steps of an application" in shown
    assert "rfa@review.test" in shown
    # (Other days, and a day still to come, in tests/web/test_numbers.py: in process.)
    refused = wwc("stats", "--as-of", "2026-02-30", env=service_env)
    assert refused.returncode == 3, refused.stderr
    assert refused.stderr.startswith("wwc: error: --as-of: "), refused.stderr
    assert refused.stderr.count("\n") == 1, refused.stderr
    for command in (("list",), ("status", CITY)):  # the same rule for every --as-of
        refused = wwc(*command, "--as-of", "2026-02-30", env=service_env)
        assert refused.returncode == 3, refused.stderr
        assert refused.stderr.startswith("wwc: error: --as-of: "), refused.stderr


def test_accounts_and_tokens_from_the_server_shell(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    ok = succeeding(wwc, service_env)

    # By name and country: the key its join makes (the city may not have joined yet).
    added = ok("users", "add", "ed@rockhill.test", "--role", "city_editor", "--joining",
               "Rock Hill, SC", "--country", "US")
    password = added.stdout.split("one-time password: ")[1].strip()
    assert len(password) >= 20
    no_city = wwc("users", "add", "x@rockhill.test", "--role", "city_editor", env=service_env)
    assert no_city.returncode == 3
    assert "needs at least one city" in no_city.stderr
    twice = wwc("users", "add", "ed@rockhill.test", "--role", "operator", env=service_env)
    assert twice.returncode == 4
    accounts = json.loads(ok("users", "list", "--json").stdout)
    editor = next(a for a in accounts if a["email"] == "ed@rockhill.test")
    assert (editor["role"], editor["cities"]) == ("city_editor", [CITY])

    created = ok("tokens", "create", "ed@rockhill.test", "--name", "intake", "--days", "7")
    token = created.stdout.splitlines()[-1]
    assert token.startswith("wwc_")
    # Its account still has the one-time password: the token cannot work yet, and says so.
    assert "ed@rockhill.test has a one-time password: this token is answered 403 " \
        "password_change_required until its person changes it" in created.stderr
    robot = ok("users", "add", "intake@rockhill.test", "--role", "operator", "--no-password")
    assert "one-time password" not in robot.stdout
    for_robot = ok("tokens", "create", "intake@rockhill.test", "--name", "intake form")
    assert for_robot.stderr == ""  # an account without a password: its token just works
    city = f"http://{service_env['WWC_HTTP_ADDRESS']}/api/cities/{CITY}"
    for issued, refused in ((token, True), (for_robot.stdout.splitlines()[-1], False)):
        answer = httpx.get(city, headers={"Authorization": f"Bearer {issued}"}, timeout=30)
        assert (answer.status_code == 403) is refused, answer.text
        assert ("password_change_required" in answer.text) is refused, answer.text
    listed = ok("tokens", "list").stdout
    assert "intake" in listed
    assert token not in listed
    token_id = created.stdout.split()[1]
    ok("tokens", "revoke", token_id)
    assert "revoked" in ok("tokens", "list").stdout
    ok("users", "disable", "ed@rockhill.test", "--reason", "left the city")
    assert next(a for a in json.loads(ok("users", "list", "--json").stdout)
                if a["email"] == "ed@rockhill.test")["disabled"] is True
    assert "enabled ed@rockhill.test" in ok("accounts", "enable", "ed@rockhill.test").stdout


def test_an_invitation_from_the_shell_arrives_by_mail_and_its_link_signs_in(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    """`wwc users invite` records the invitation and the running worker mails it: the
    message reaches the stack's SMTP server (its catcher), in the invitee's language, and
    its link, followed, lets her choose a password and signs her in."""
    ok = succeeding(wwc, service_env)
    invited = ok("users", "invite", "rosa@rockhill.test", "--role", "reviewer",
                 "--language", "es", "--name", "Rosa")
    assert "invited rosa@rockhill.test" in invited.stdout
    assert "token" not in invited.stdout  # no link printed: it is hers alone
    listed = ok("users", "list", "--search", "ROSA").stdout
    assert listed.split() == ["rosa@rockhill.test", "reviewer", "invited"]
    mail = Path(service_env["WWC_DATA_DIR"]) / "mail"
    deadline = time.monotonic() + 60
    while not (found := [m for m in stored_messages(mail)
                         if str(m["To"]) == "rosa@rockhill.test"]):
        assert time.monotonic() < deadline, "no invitation arrived"
        time.sleep(0.25)
    body = found[0].get_body(("plain",))
    assert body is not None
    assert found[0]["Subject"] == "Le invitamos al portal de la certificación What Works Cities"
    link = next(word for word in body.get_content().split() if "/set-password?" in word)
    assert link.startswith(f"http://{service_env['WWC_HTTP_ADDRESS']}/set-password?token=")
    with httpx.Client(timeout=60) as browser:
        page = browser.get(link)
        assert page.status_code == 200
        assert "Le damos la bienvenida, Rosa" in page.text
        token = link.split("token=")[1].split("&")[0]
        chosen = browser.post(link.split("?")[0], data={
            "token": token, "password": "mi contraseña nueva y larga",
            "confirm": "mi contraseña nueva y larga"}, follow_redirects=False)
        assert (chosen.status_code, chosen.headers["location"]) == (303, "/portal")
        me = browser.get(link.split("/set-password")[0] + "/api/me")
        assert me.json()["email"] == "rosa@rockhill.test"


def test_refusals_and_missing_things_have_their_exit_codes(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    tiny = wwc("join", "--name", "Tiny, VT", "--country", "US", "--population", "1200",
               env=service_env)
    assert tiny.returncode == 4
    assert "below the 30,000 minimum" in tiny.stderr
    assert "Traceback" not in tiny.stderr
    missing = wwc("status", "us-nowhere-xx", env=service_env)
    assert missing.returncode == 6
    assert "no city 'us-nowhere-xx'" in missing.stderr
    bad_date = wwc("cohort", "create", "x", "--date", "soon", env=service_env)
    assert bad_date.returncode == 2


def test_refused_or_malformed_starts_leave_no_workflow_behind(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    """Every command that can start a workflow, given what it must refuse: each answers
    with its exit code and the stock Temporal CLI finds no workflow afterwards."""
    attempts = [
        (("join", "--name", "Tinytown, VT", "--country", "US", "--population", "29999"), 4,
         "below the 30,000 minimum"),
        (("join", "--name", "!!!", "--country", "US", "--population", "50000"), 3,
         "at least one letter or digit"),
        (("join", "--name", "Sometown, VT", "--country", "US", "--population", "50000",
          "--standard", "wwc-2018"), 3, "incomplete"),
        (("cohort", "create", "bad id/x", "--date", "2099-01-01"), 2, "cohort id"),
        (("cohort", "create", "long-ago", "--date", "2001-01-01"), 4, "already past"),
    ]
    for args, code, message in attempts:
        result = wwc(*args, env=service_env)
        assert (result.returncode, message in result.stderr) == (code, True), result.stderr
    # A city whose join was refused is not found, not "not joined".
    assert wwc("status", "us-tinytown-vt", env=service_env).returncode == 6
    address = json.loads((Path(service_env["WWC_DATA_DIR"]) / "temporal.json").read_text())[
        "address"]
    listed = subprocess.run(
        [str(Path(WWC).parent / "temporal"), "workflow", "list", "--address", address,
         "--query", "WorkflowId IN ('city/us-tinytown-vt', 'city/us-sometown-vt', "
         "'cohort/long-ago')"], capture_output=True, text=True, timeout=60, check=True)
    assert "city/" not in listed.stdout, listed.stdout
    assert "cohort/" not in listed.stdout, listed.stdout


def test_commands_say_when_the_service_is_not_running(wwc: RunWwc, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")}
    env["WWC_DATA_DIR"] = str(tmp_path)
    result = wwc("status", CITY, env=env)
    assert result.returncode == 5
    assert "start it with `wwc up`" in result.stderr


def test_the_demo_replays_a_small_scenario(wwc: RunWwc, tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump({
        "title": "Small test scenario", "start": "2023-01-02", "end": "2024-07-01",
        # Generous margins: the test is about what happens, not how fast.
        "days_per_second": 40, "lead_days": 200,
        "places": {"Recife": [-8.05, -34.88]},
        "cohorts": [
            {"id": "2023-09", "announce_on": "2023-09-01", "standard": "wwc-2022",
             "cities": [
                 {"name": "Boise, ID", "country": "US", "population": 235684, "tier": "gold"},
                 {"name": "Recife", "country": "BR", "population": 1488920, "tier": "silver"},
                 {"name": "Tiny Test, ID", "country": "US", "population": 40000,
                  "tier": "none", "type": "HR"}]},
            {"id": "2024-06", "announce_on": "2024-06-01", "standard": "wwc-2022",
             "cities": [{"name": "Recife", "country": "BR", "population": 1488920,
                         "tier": "platinum", "type": "U"}]},
        ]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")}
    env |= {"WWC_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    try:
        _replay_and_inspect(wwc, scenario, env)
    finally:
        # Each command stops the PostgreSQL it had to start; this stops one a failed
        # assertion would leave behind.
        stop_embedded_server(tmp_path / "data" / "postgres")


def _replay_and_inspect(wwc: RunWwc, scenario: Path, env: dict[str, str]) -> None:
    result = wwc("demo", "--scenario", str(scenario), env=env, timeout=240)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Small test scenario" in result.stdout
    assert "As of 2024-07-01: certified platinum 1, gold 1, silver 0" in result.stdout
    assert "refused" not in result.stdout
    # Each cohort announced at its size in the scenario (the summary compares them).
    assert "not as recorded" not in result.stdout, result.stdout
    # Certified cities at each year's end (the last year on the demo's end), by tier:
    # Boise gold and Recife silver from 2023-09, then Recife platinum from 2024-06.
    years = _table_rows(result.stdout, "Certified cities at the end of each year")
    assert years["2023"] == ["2023-12-31", "0", "1", "1", "2"], years
    assert years["2024"] == ["2024-07-01", "1", "1", "0", "2"], years
    # One application per cohort waits on a clarification, so its deadlines fire: the
    # city's reminder and the operators' overdue flag.
    fired = result.stdout.split("Deadlines fired along the way:")[1].split(".")[0]
    assert "clarification reminder 2" in fired, fired
    assert "clarification due 2" in fired, fired
    # It ends by telling how to open the portal, with an account per role.
    for account in ("admin@wwc.local", "operator@demo.wwc.local", "reviewer@demo.wwc.local",
                    "editor@demo.wwc.local (for"):
        assert account in result.stdout
    assert "/sign-in" in result.stdout
    # Afterwards the data is there to inspect (the embedded PostgreSQL starts on demand).
    rows = json.loads(wwc("list", "--json", env=env).stdout)
    tiers = {row["city_key"]: (row["tier"], row["last_outcome"]) for row in rows}
    assert tiers == {"us-boise-id": ("gold", "new"), "br-recife": ("platinum", "moved_up"),
                     "us-tiny-test-id": ("none", None)}
    history = wwc("history", "br-recife", "--json", env=env)
    kinds = [event["type"] for event in json.loads(history.stdout)]
    assert kinds.count("certification.announced") == 2
    # The city's mail went to the demo's editor through the demo's mail catcher, once each.
    assert "Mail (each message once" in result.stdout
    outbox = wwc("outbox", "--json", "--to", "editor@demo.wwc.local", "--limit", "500",
                 env=env)
    assert outbox.returncode == 0, outbox.stderr
    sent = [json.loads(line) for line in outbox.stdout.splitlines()]
    assert {m["status"] for m in sent} == {"sent"}
    mailed = Counter(m["kind"] for m in sent)
    assert mailed["announcement"] == 3  # Boise once, Recife twice
    assert mailed["decision"] == 3
    assert mailed["decision_not_certified"] == 1  # Tiny Test's report, in its own words
    assert len({m["message_id"] for m in sent}) == len(sent)


def _table_rows(output: str, title: str) -> dict[str, list[str]]:
    """The rows of the table printed under `title`, keyed by their first cell."""
    rows: dict[str, list[str]] = {}
    for line in output.split(title, 1)[1].splitlines()[1:]:
        if line.lstrip().startswith("└"):  # the table's last border
            break
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) > 1 and cells[0].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_the_audit_names_a_read_model_that_disagrees(
    wwc: RunWwc, service_env: dict[str, str]
) -> None:
    ok = succeeding(wwc, service_env)

    ok("join", "--name", "Audit Town, SC", "--country", "US", "--population", "40000")
    ok("audit")
    socket_dir = Path(service_env["WWC_DATA_DIR"]) / "postgres"

    async def tamper() -> None:
        conn = await asyncpg.connect(f"postgresql://postgres:@/wwc?host={socket_dir}")
        await conn.execute("UPDATE wwc_registry SET tier = 'platinum' "
                           "WHERE city_key = 'us-audit-town-sc'")
        await conn.close()

    asyncio.run(tamper())
    found = wwc("audit", "--json", env=service_env)
    assert found.returncode == 7, found.stderr
    (disagreement,) = json.loads(found.stdout)["disagreements"]
    assert disagreement == {"stream": "city/us-audit-town-sc", "field": "registry.tier",
                            "workflow": "none", "log": "none", "read_model": "platinum"}
    ok("projections", "rebuild", "registry")
    ok("audit")


def test_the_service_reports_its_health(wwc: RunWwc, service_env: dict[str, str]) -> None:
    result = wwc("status", "--service", "--json", env=service_env)
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)
    assert (health["postgres"], health["temporal"]) == ("ok", "ok")
    assert set(health["lag"]) >= {"registry", "city_views", "accounts"}
    assert wwc("status", env=service_env).returncode == 2  # a city, or --service


def test_wwc_serve_runs_the_api_alone_beside_a_running_service(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    """`wwc serve` against the running service's Temporal and PostgreSQL: it answers, and
    Ctrl-C stops it cleanly."""
    env = {**service_env, "WWC_HTTP_ADDRESS": f"127.0.0.1:{free_port()}"}
    log = tmp_path / "serve.log"
    process = subprocess.Popen([WWC, "serve"], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while "API: http://" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        answer = httpx.get(f"http://{env['WWC_HTTP_ADDRESS']}/readyz", timeout=30)
        assert answer.status_code == 200, answer.text
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    assert "stopped" in log.read_text()


def test_evidence_added_from_the_shell_is_verified_against_the_log(
        wwc: RunWwc, service_env: dict[str, str]) -> None:
    """`wwc evidence add` keeps the file by its hash and binds it into the city's chain;
    `wwc verify --documents` recomputes every stored file's hash against the log, and
    names one altered by hand (exit 7)."""
    ok = succeeding(wwc, service_env)
    city = "us-asheville-nc"
    ok("join", "--name", "Asheville, NC", "--country", "US", "--population", "94589")
    samples = Path(__file__).resolve().parents[1] / "samples" / "documents"
    pdf = samples / "inventory.pdf"
    added = json.loads(ok("evidence", "add", city, "DM1", str(pdf), "--json").stdout)
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert (added["sha256"], added["media_type"], added["nothing_new"]) == (
        digest, "application/pdf", None)
    wrong = wwc("evidence", "add", city, "DM1", str(samples / "tool-renamed.pdf"),
                env=service_env)
    assert wrong.returncode == 3
    assert "Linux executable" in wrong.stderr
    assert "[unsupported_document_type]" in wrong.stderr
    listed = json.loads(ok("evidence", "list", city, "--json").stdout)
    assert [(d["criterion"], d["sha256"]) for d in listed["documents"]] == [("DM1", digest)]

    # A document removed from the draft: its bytes go once the collector runs.
    notes = samples / "notes.txt"
    notes_digest = hashlib.sha256(notes.read_bytes()).hexdigest()
    ok("evidence", "add", city, "DM2", str(notes))
    ok("evidence", "remove", city, "DM2", notes_digest)
    collected = ok("evidence", "collect", "--grace-hours", "0").stdout
    assert f"1 stored document(s) needed by the log; removed 1 no longer needed\n  " \
           f"{notes_digest}" in collected

    checked = ok("verify", "--documents").stdout  # the removed one is needed no more
    assert "ok: 1 document(s) the log needs, 1 stored file(s) hashed again" in checked
    stored = next((Path(service_env["WWC_DATA_DIR"]) / "documents").rglob(digest))
    stored.write_bytes(pdf.read_bytes().replace(b"42 datasets", b"99 datasets"))
    broken = wwc("verify", "--documents", env=service_env)
    assert broken.returncode == 7
    assert f"changed: {digest} now hashes to" in broken.stdout
    assert f"{city} DM1 'inventory.pdf'" in broken.stdout
    stored.write_bytes(pdf.read_bytes())  # as it was: the module's other checks hold
