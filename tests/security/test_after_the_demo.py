"""What `wwc demo` and `wwc up` leave behind: no file under the data directory readable
by anyone but its owner (a caught decision mail, Temporal's database, the program clock
were 0644 in a 0755 folder), and a certificate page that private activity after the
decision cannot move (it counted all of the city's events).

Each test failed on the code before issue 21's fixes."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from infra.platform.private import private_folder, tighten
from infra.postgres.db import stop_embedded_server
from tests.e2e.conftest import WWC, clean_env, wwc_up
from tests.security.web_service import sign_in

pytestmark = pytest.mark.e2e
CITY = "us-boise-id"


def run_wwc(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run([WWC, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    """A demo of one certified city; its environment and the demo accounts' password."""
    folder = tmp_path_factory.mktemp("wwc-demo-modes")
    scenario = folder / "one.yaml"
    scenario.write_text(yaml.safe_dump({
        # A slow program clock: on a loaded machine a fast one outruns the demo (a cohort
        # then refuses its date as past). The test is about what the demo leaves.
        "title": "One city", "start": "2023-03-01", "end": "2023-09-10",
        "days_per_second": 8, "lead_days": 100,
        "cohorts": [{"id": "2023-09", "announce_on": "2023-09-01", "standard": "wwc-2022",
                     "cities": [{"name": "Boise, ID", "country": "US",
                                 "population": 235684, "tier": "gold"}]}]}))
    env = clean_env(folder / "data", COLUMNS="400")
    try:
        shown = run_wwc("demo", "--scenario", str(scenario), env=env)
        found = re.search(r"password (\S+) \(shown this once\)", shown)
        assert found, shown
        yield env, found.group(1)
    finally:
        stop_embedded_server(folder / "data" / "postgres")


def readable_by_others(data_dir: Path) -> list[str]:
    """Every file or folder under `data_dir` that group or others may read or write (the
    data directory itself may let others pass through: see infra/platform/private.py)."""
    found = []
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
            continue  # PostgreSQL's socket lives in its 0700 folder, and only while it runs
        allowed = 0o011 if path == data_dir and os.geteuid() == 0 else 0
        if stat.S_IMODE(mode) & 0o077 & ~allowed:
            found.append(f"{path.relative_to(data_dir)}: {stat.S_IMODE(mode):o}")
    return found


def test_the_demo_leaves_nothing_readable_by_others(
        demo: tuple[dict[str, str], str]) -> None:
    env, _ = demo
    data_dir = Path(env["WWC_DATA_DIR"])
    assert list((data_dir / "mail").glob("*.eml")), "the demo caught no mail"
    assert (data_dir / "temporal.db").exists()
    assert readable_by_others(data_dir) == []


def test_a_certificate_does_not_show_private_activity_after_its_decision(
        demo: tuple[dict[str, str], str]) -> None:
    env, password = demo
    data_dir = Path(env["WWC_DATA_DIR"])
    with wwc_up(env, data_dir / "up.log"):
        url = f"http://{env['WWC_HTTP_ADDRESS']}"
        public = httpx.Client(base_url=url, timeout=60)
        city = public.get(f"/cities/{CITY}")
        assert city.status_code == 200, city.text
        certificate = re.findall(rf"/certificates/{CITY}/\d{{4}}-\d\d-\d\d", city.text)[0]
        before = public.get(certificate)
        assert before.status_code == 200
        assert "verifies" in before.text
        # Private activity: the city reapplies (events in its own stream) and saves a
        # draft (its draft stream), all invisible to the public.
        admin = sign_in(url, "admin@wwc.local", password)
        reapplied = admin.post(f"/api/cities/{CITY}/reapply", json={})
        assert reapplied.status_code == 200, reapplied.text
        loaded = admin.get(f"/api/cities/{CITY}/application")
        saved = admin.send("PUT", f"/api/cities/{CITY}/assessment",
                           json={"criteria": {"DM1": {"met": True}}},
                           headers={"If-Match": loaded.headers["ETag"]})
        assert saved.status_code == 200, saved.text
        after = public.get(certificate)
        assert after.text == before.text
    assert readable_by_others(data_dir) == []


def test_an_older_data_dir_is_tightened(tmp_path: Path) -> None:
    """Files a version before this one left readable are made the owner's at start."""
    data_dir = tmp_path / "data"
    (data_dir / "mail").mkdir(parents=True)
    for name in ("temporal.db", "clock.json", "mail/decision.eml"):
        (data_dir / name).write_text("private")
        (data_dir / name).chmod(0o644)
    data_dir.chmod(0o755)
    (data_dir / "mail").chmod(0o755)
    tighten(private_folder(data_dir))
    assert readable_by_others(data_dir) == []
