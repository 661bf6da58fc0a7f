"""Open data over a real PostgreSQL, through the whole web app (its routes, the public
cache, the conditional GETs): the files are made from the read models, hold nothing but
announced certifications on any day they are asked for, validate against their own data
dictionaries (checked by the Frictionless reference implementation), agree with the
API's registry, and the badge says what the program's date makes of a certification.

The recorded program, by city: announced and past its expiry with no lapse recorded yet
(Charleston), moved up at a second announcement (Fortaleza), lapsed (Córdoba), certified
then gone from the program (Medellín), certified and reapplying with a decision not yet
announced (Boise); and the private ones, which must never show: a decision awaiting its
announcement (Quito, also added to a cohort not yet announced), a city not certified (Las
Condes), a withdrawn application (Mendoza), an application under review (Rosario)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from unittest.mock import MagicMock
from xml.etree import ElementTree

import asyncpg
import feedparser
import httpx
import pytest
from frictionless import Package, Resource, Schema

from domain import commands as c
from domain.clock import ProgramClock, midnight
from domain.events import CohortAnnounced, CohortCityAdded, CohortCreated
from domain.rules import ProgramRules
from domain.streams import city_stream, cohort_stream
from domain.tiers import Tier
from infra.platform.config import Settings
from infra.readside import queries
from infra.readside.projections import projector
from infra.readside.rows import AnnouncedCertification
from infra.standards.folder import load_catalog
from infra.web.app import build_app
from infra.web.services import HttpServices
from tests.factories import WWC_2022, CityDriver, answers
from tests.integration.test_projections import History

BASE = "https://wwc.example"
TODAY = date(2026, 12, 3)
SILVER, GOLD, PLATINUM, NONE = 24, 31, 38, 8
JOINED = date(2023, 1, 5)
FIRST_COHORT, SECOND_COHORT = date(2023, 6, 20), date(2024, 6, 15)
# What must never be published, by key and by name.
PRIVATE = {"ec-quito": "Quito", "cl-las-condes": "Las Condes", "ar-mendoza": "Mendoza",
           "ar-rosario": "Rosario"}
PUBLIC = {"us-charleston-sc": "Charleston, SC", "br-fortaleza": "Fortaleza",
          "ar-cordoba": "Córdoba", "co-medellin": "Medellín", "us-boise-id": "Boise, ID"}
TABLE_FILES = ("registry.csv", "registry.json", "history.csv", "history.json",
               "cohorts.atom")
STILL_FILES = ("catalog.json", "datapackage.json", "registry.schema.json",
               "history.schema.json")


def decide(city: CityDriver, met: int, on: date) -> None:
    """From an application in assessment to a decision, all on one day."""
    app = city.state.application
    assert app is not None
    submitted = answers(WWC_2022, met)
    city(c.SubmitAssessment(answers=submitted), on)
    city(c.AssignReviewer(reviewer="rfa"), on)
    for code in submitted.criteria:
        city(c.RecordCriterionReview(code=code, met=True), on)
    city(c.CompleteReview(), on)
    city.score_and_decide(on)


def certified(city: CityDriver, met: int, announced: date, cohort: str) -> None:
    decide(city, met, announced - timedelta(days=60))
    city(c.Announce(cohort_id=cohort), announced)


async def record_program(pool: asyncpg.Pool[Any]) -> History:
    history = History(pool)

    def charleston(city: CityDriver) -> None:
        certified(city, GOLD, FIRST_COHORT, "2023-06")

    def fortaleza(city: CityDriver) -> None:
        certified(city, SILVER, FIRST_COHORT, "2023-06")
        city(c.Reapply(), date(2024, 1, 10))
        certified(city, PLATINUM, SECOND_COHORT, "2024-06")

    def cordoba(city: CityDriver) -> None:
        certified(city, SILVER, FIRST_COHORT, "2023-06")
        city(c.Expire(), date(2026, 6, 20))

    def medellin(city: CityDriver) -> None:
        certified(city, GOLD, FIRST_COHORT, "2023-06")
        city(c.Withdraw(reason="left the program"), date(2025, 1, 10))

    def boise(city: CityDriver) -> None:
        certified(city, GOLD, FIRST_COHORT, "2023-06")
        city(c.Reapply(), date(2025, 10, 1))
        decide(city, PLATINUM, date(2026, 1, 15))  # decided, not announced

    def quito(city: CityDriver) -> None:
        decide(city, GOLD, date(2026, 8, 1))

    def las_condes(city: CityDriver) -> None:
        decide(city, NONE, date(2023, 3, 1))

    def mendoza(city: CityDriver) -> None:
        city(c.SubmitAssessment(answers=answers(WWC_2022, GOLD)), date(2023, 2, 1))
        city(c.AssignReviewer(reviewer="rfa"), date(2023, 2, 2))
        city(c.Withdraw(reason="not this year"), date(2023, 4, 1))

    def rosario(city: CityDriver) -> None:
        city(c.SubmitAssessment(answers=answers(WWC_2022, GOLD)), date(2026, 11, 1))

    for name, country, lifecycle in (
            ("Charleston, SC", "US", charleston), ("Fortaleza", "BR", fortaleza),
            ("Córdoba", "AR", cordoba), ("Medellín", "CO", medellin),
            ("Boise, ID", "US", boise), ("Quito", "EC", quito),
            ("Las Condes", "CL", las_condes), ("Mendoza", "AR", mendoza),
            ("Rosario", "AR", rosario)):
        city = CityDriver()
        city(c.JoinNetwork(name=name, country=country, population=300_000), JOINED)
        lifecycle(city)
        await history.record(city_stream(city.state.profile.city_key),  # type: ignore[union-attr]
                             city.events)
    await history.record(cohort_stream("2023-06"), [
        CohortCreated(cohort_id="2023-06", announce_on=FIRST_COHORT, on=date(2023, 4, 1)),
        *[CohortCityAdded(city_key=key, name=PUBLIC[key], tier=tier, on=FIRST_COHORT)
          for key, tier in (("us-charleston-sc", Tier.GOLD), ("br-fortaleza", Tier.SILVER),
                            ("ar-cordoba", Tier.SILVER), ("co-medellin", Tier.GOLD),
                            ("us-boise-id", Tier.GOLD))],
        CohortAnnounced(cities=("us-charleston-sc", "br-fortaleza", "ar-cordoba",
                                "co-medellin", "us-boise-id"), on=FIRST_COHORT)])
    await history.record(cohort_stream("2024-06"), [
        CohortCreated(cohort_id="2024-06", announce_on=SECOND_COHORT, on=date(2024, 4, 1)),
        CohortCityAdded(city_key="br-fortaleza", name="Fortaleza", tier=Tier.PLATINUM,
                        on=SECOND_COHORT),
        CohortAnnounced(cities=("br-fortaleza",), on=SECOND_COHORT)])
    # A cohort still to come, its member already added: not public until announced.
    await history.record(cohort_stream("2027-01"), [
        CohortCreated(cohort_id="2027-01", announce_on=date(2027, 1, 20), on=date(2026, 9, 1)),
        CohortCityAdded(city_key="ec-quito", name="Quito", tier=Tier.GOLD,
                        on=date(2026, 9, 2))])
    return history


class Program:
    """What the web reads of the program service: its clock and today's date, and the
    standards and rules the pages name."""

    def __init__(self, now: datetime) -> None:
        self.clock = ProgramClock(origin_real=datetime.now(UTC), origin_program=now)
        self.catalog = load_catalog()
        self.rules = ProgramRules()

    def program_today(self) -> date:
        return self.clock.today(datetime.now(UTC))


@dataclass
class Site:
    http: httpx.AsyncClient
    services: HttpServices
    pool: asyncpg.Pool[Any]

    async def moved(self) -> None:
        """The read models caught up, as the server's background loop does."""
        read_models = projector(self.pool)
        await read_models.catch_up_all()
        self.services.generations.saw(await read_models.positions())

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)


async def site_on(pool: asyncpg.Pool[Any], now: datetime) -> AsyncIterator[Site]:
    health = MagicMock()
    health.within = 1.0
    services = HttpServices.build(cast(Any, Program(now)), pool,
                                  Settings(portal_url=BASE), health=health)
    transport = httpx.ASGITransport(app=build_app(services))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        found = Site(http, services, pool)
        await found.moved()
        yield found


@pytest.fixture
async def site(pool: asyncpg.Pool[Any]) -> AsyncIterator[Site]:
    await record_program(pool)
    async for found in site_on(pool, midnight(TODAY) + timedelta(hours=12)):
        yield found


# --- what must never be published ---------------------------------------------------------

async def private_hashes(pool: asyncpg.Pool[Any]) -> set[str]:
    """The hashes of every decision not announced (the private cities', and Boise's
    renewal): a certificate hash is only ever an announced decision's."""
    rows = await pool.fetch(
        """SELECT encode(d.hash, 'hex') AS hash FROM wwc_events d
            WHERE d.event_type = 'certification.decided' AND NOT EXISTS (
                  SELECT 1 FROM wwc_events a WHERE a.stream_id = d.stream_id
                     AND a.event_type = 'certification.announced'
                     AND a.stream_version > d.stream_version)""")
    return {r["hash"] for r in rows}


def leaks(body: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in body)


def days_to_ask(events_on: list[date]) -> list[str | None]:
    """Every day something happened in the program, the days either side of it, and the
    record as it stands."""
    days = {d + timedelta(days=shift) for d in events_on for shift in (-1, 0, 1)}
    return [None, *sorted(d.isoformat() for d in days if d <= TODAY)]


async def every_public_answer(site: Site) -> dict[str, str]:
    """Each file on each day worth asking, the page in each language, and each private
    city's badge and certificate link."""
    dates = [r["day"] for r in await site.pool.fetch(
        "SELECT DISTINCT (data->>'on')::date AS day FROM wwc_events")]
    found = {}
    for day in days_to_ask(dates):
        for name in TABLE_FILES:
            path = f"/open-data/{name}" + (f"?as_of={day}" if day else "")
            answer = await site.get(path)
            assert answer.status_code == 200, (path, answer.text)
            found[path] = answer.text
    for name in STILL_FILES:
        found[f"/open-data/{name}"] = (await site.get(f"/open-data/{name}")).text
    for lang in ("en", "es", "pt"):
        found[f"/open-data/?lang={lang}"] = (await site.get(f"/open-data/?lang={lang}")).text
    return found


async def test_no_file_on_any_day_holds_what_was_never_announced(site: Site) -> None:
    secrets = {*PRIVATE, *PRIVATE.values(), *await private_hashes(site.pool), "2027-01"}
    answers_ = await every_public_answer(site)
    assert len(answers_) > 100
    leaked = {path: found for path, body in answers_.items() if (found := leaks(body, secrets))}
    assert not leaked
    # Not vacuous: the announced are there, with their certificates' hashes.
    history = answers_["/open-data/history.csv"]
    assert all(name in history for name in PUBLIC.values())
    assert "Fortaleza" in answers_[f"/open-data/history.csv?as_of={FIRST_COHORT}"]
    assert "Fortaleza" not in answers_[f"/open-data/history.csv?as_of="
                                       f"{FIRST_COHORT - timedelta(days=1)}"]
    # Boise's renewal, decided as platinum, is not announced: Boise is gold everywhere.
    boise = [r for r in csv.DictReader(io.StringIO(history)) if r["city_key"] == "us-boise-id"]
    assert [r["tier"] for r in boise] == ["gold"]


async def test_a_private_citys_badge_and_certificate_are_not_found_as_an_unknown_one(
        site: Site) -> None:
    for key in PRIVATE:
        for path in (f"/cities/{key}/badge.svg", f"/cities/{key}/certificate"):
            private = await site.get(path)
            unknown = await site.get(path.replace(key, "zz-nowhere"))
            assert private.status_code == unknown.status_code == 404
            assert private.text.replace(key, "KEY") == unknown.text.replace("zz-nowhere",
                                                                            "KEY")


async def test_the_privacy_check_fails_when_an_unannounced_city_gets_through(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a read that let Quito's decision through (read from the
    registry's last decision, as a careless query might) is caught on every file."""
    real = queries.announced_certifications

    async def careless(pool: asyncpg.Pool[Any], city_key: str | None = None, *,
                       hashes: bool = True) -> list[AnnouncedCertification]:
        found = await real(pool, city_key, hashes=hashes)
        quito = await pool.fetchrow("SELECT * FROM wwc_registry WHERE city_key = 'ec-quito'")
        assert quito is not None
        return [*found, AnnouncedCertification(
            city_key="ec-quito", name=quito["name"], country=quito["country"],
            tier=quito["last_decision_tier"], standard_id="wwc-2022", cohort_id="2027-01",
            awarded_on=quito["last_decision_on"],
            expires_on=quito["last_decision_on"] + timedelta(days=1095), ended_on=None,
            decision_hash=None, city_certified_now=True)]

    monkeypatch.setattr(queries, "announced_certifications", careless)
    answers_ = await every_public_answer(site)
    leaked = {path for path, body in answers_.items() if leaks(body, {"Quito", "ec-quito"})}
    assert "/open-data/registry.csv" in leaked
    assert "/open-data/history.json" in leaked
    assert (await site.get("/cities/ec-quito/badge.svg")).status_code == 200


# --- the files against their dictionaries ---------------------------------------------------

async def test_every_file_validates_against_its_data_dictionary(site: Site,
                                                                tmp_path: Path) -> None:
    for day in (None, SECOND_COHORT.isoformat(), "2025-06-01"):
        query = f"?as_of={day}" if day else ""
        for table in ("registry", "history"):
            schema = (await site.get(f"/open-data/{table}.schema.json")).json()
            names = [f["name"] for f in schema["fields"]]
            csv_file = tmp_path / f"{table}-{day}.csv"
            csv_file.write_bytes((await site.get(f"/open-data/{table}.csv{query}")).content)
            report = Resource(path=csv_file.name, schema=Schema.from_descriptor(schema),
                              basepath=str(tmp_path)).validate()
            assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])
            with csv_file.open(newline="", encoding="utf-8") as opened:
                rows = list(csv.DictReader(opened))
            assert rows
            assert list(rows[0]) == names
            document = (await site.get(f"/open-data/{table}.json{query}")).json()
            assert document["license"]["name"] == "CC-BY-4.0"
            assert document["as_of"] == day
            assert document["schema"] == f"{BASE}/open-data/{table}.schema.json"
            assert all(list(record) == names for record in document["records"])
            report = Resource(data=document["records"],
                              schema=Schema.from_descriptor(schema)).validate()
            assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])
            # The two formats hold the same records.
            assert [{k: v or None for k, v in row.items()} for row in rows] == \
                document["records"]


async def test_the_data_package_validates_as_a_harvester_downloads_it(
        site: Site, tmp_path: Path) -> None:
    for name in ("datapackage.json", "registry.csv", "history.csv", "registry.schema.json",
                 "history.schema.json"):
        (tmp_path / name).write_bytes((await site.get(f"/open-data/{name}")).content)
    package = Package(str(tmp_path / "datapackage.json"))
    report = package.validate()
    assert report.valid, report.flatten(["resourceName", "rowNumber", "message"])
    assert [r.name for r in package.resources] == ["registry", "history"]
    assert package.licenses[0]["name"] == "CC-BY-4.0"


async def test_a_data_dictionary_refuses_a_file_that_breaks_it(site: Site,
                                                             tmp_path: Path) -> None:
    """The validation can fail: a tier the dictionary does not know, a date that is no
    date, a hash of the wrong length, a city twice."""
    schema = Schema.from_descriptor((await site.get("/open-data/registry.schema.json")).json())
    good = (await site.get("/open-data/registry.csv")).text.splitlines()
    broken = tmp_path / "broken.csv"
    row = good[1].split(",")
    row[3], row[6], row[9] = "bronze", "2026-02-30", "abc"
    broken.write_text("\r\n".join([good[0], ",".join(row), good[1], good[1]]) + "\r\n")
    report = Resource(path=broken.name, schema=schema, basepath=str(tmp_path)).validate()
    found = {error[0] for error in report.flatten(["type"])}
    assert {"constraint-error", "type-error", "primary-key"} <= found


# --- what the files say ---------------------------------------------------------------------

async def test_the_registry_file_agrees_with_the_api_on_every_day(site: Site) -> None:
    dates = [FIRST_COHORT, SECOND_COHORT, date(2025, 1, 10), date(2026, 6, 20), TODAY]
    for day in days_to_ask(dates):
        api = await queries.public_registry(
            site.pool, as_of=date.fromisoformat(day) if day else None, limit=1000)
        path = "/open-data/registry.json" + (f"?as_of={day}" if day else "")
        records = (await site.get(path)).json()["records"]
        assert [(r["city_key"], r["tier"], r["announced"], r["valid_until"])
                for r in records] == [(a.city_key, a.tier, a.awarded_on.isoformat(),
                                       a.expires_on.isoformat()) for a in api], day


async def test_the_history_is_the_record_as_it_was_known_that_day(site: Site) -> None:
    def fortaleza(path: str) -> list[tuple[str, str | None]]:
        return [(r["tier"], r["ended"]) for r in records[path]
                if r["city_key"] == "br-fortaleza"]

    records = {}
    for path in ("/open-data/history.json", "/open-data/history.json?as_of=2024-01-01"):
        records[path] = (await site.get(path)).json()["records"]
    # Its silver ended when platinum was announced, which was not known in January 2024.
    assert fortaleza("/open-data/history.json") == [("silver", "2024-06-15"),
                                                    ("platinum", None)]
    assert fortaleza("/open-data/history.json?as_of=2024-01-01") == [("silver", None)]
    ended = {r["city_key"]: r["ended"] for r in records["/open-data/history.json"]}
    assert ended["ar-cordoba"] == "2026-06-20"
    assert ended["co-medellin"] == "2025-01-10"


async def test_a_certificate_is_linked_while_its_page_is_public_and_its_hash_is_the_pages(
        site: Site) -> None:
    rows = {(r["city_key"], r["announced"]): r for r in
            (await site.get("/open-data/history.json")).json()["records"]}
    charleston = rows[("us-charleston-sc", FIRST_COHORT.isoformat())]
    certificate = await queries.certificate(site.pool, "us-charleston-sc", FIRST_COHORT)
    assert certificate is not None
    assert certificate.decided is not None
    assert charleston["certificate_hash"] == certificate.decided.hash
    assert charleston["certificate_url"] == \
        f"{BASE}/certificates/us-charleston-sc/{FIRST_COHORT}"
    page = await site.get(charleston["certificate_url"].removeprefix(BASE))
    assert page.status_code == 200
    assert certificate.decided.hash in page.text
    # Lapsed, or gone: the hash stays (it was public), the page does not.
    for key in ("ar-cordoba", "co-medellin"):
        row = rows[(key, FIRST_COHORT.isoformat())]
        assert row["certificate_url"] is None
        assert len(row["certificate_hash"]) == 64
        assert (await site.get(f"/certificates/{key}/{FIRST_COHORT}")).status_code == 404
    # A replaced certificate of a city certified now keeps its page.
    assert rows[("br-fortaleza", FIRST_COHORT.isoformat())]["certificate_url"]
    # Without the hashes (the page's and the catalog's counts and dates), the same rows.
    hashed = await queries.announced_certifications(site.pool)
    assert await queries.announced_certifications(site.pool, hashes=False) == [
        row.model_copy(update={"decision_hash": None}) for row in hashed]
    assert all(row.decision_hash for row in hashed)


async def test_the_feed_lists_announced_cohorts_only(site: Site) -> None:
    feed = feedparser.parse((await site.get("/open-data/cohorts.atom")).content)
    assert not feed.bozo, feed.bozo_exception
    assert [e.link for e in feed.entries] == [f"{BASE}/cohorts/2024-06",
                                              f"{BASE}/cohorts/2023-06"]
    assert "Fortaleza: platinum" in feed.entries[0].content[0].value
    earlier = feedparser.parse((await site.get("/open-data/cohorts.atom?as_of=2024-06-14"))
                               .content)
    assert [e.link for e in earlier.entries] == [f"{BASE}/cohorts/2023-06"]
    assert earlier.entries[0].id == feed.entries[1].id  # ids are for ever


async def test_the_catalog_names_every_file_and_its_licence(site: Site) -> None:
    catalog = (await site.get("/open-data/catalog.json")).json()
    urls = {d["downloadURL"] for s in catalog["dataset"] for d in s["distribution"]}
    for url in urls:
        answer = await site.get(url.removeprefix(BASE))
        assert answer.status_code == 200, url
    assert {s["license"] for s in catalog["dataset"]} == {
        "https://creativecommons.org/licenses/by/4.0/"}
    assert catalog["dataset"][1]["modified"] == "2026-06-20"  # Córdoba's lapse
    assert catalog["dataset"][1]["temporal"] == "2023-06-20/2026-06-20"


async def test_a_day_still_to_come_or_no_day_at_all_is_refused(site: Site) -> None:
    # The codes the numbers' page, GET /api/stats and the CLI's --as-of give: one rule.
    for as_of, code in (((TODAY + timedelta(days=1)).isoformat(), "day_to_come"),
                        ("2026-02-30", "not_a_day"), ("yesterday", "not_a_day"),
                        ("20260105", "not_a_day")):
        answer = await site.get(f"/open-data/registry.csv?as_of={as_of}")
        assert answer.status_code == 422, as_of
        assert answer.json()["code"] == code, answer.text
        assert answer.json()["detail"].startswith("as_of: "), answer.text
    # A browser following a link gets the page, in its words.
    page = await site.get("/open-data/registry.csv?as_of=yesterday",
                          headers={"Accept": "text/html,*/*;q=0.8"})
    assert (page.status_code, page.headers["content-type"]) == (422, "text/html; charset=utf-8")
    assert (await site.get(f"/open-data/registry.csv?as_of={TODAY}")).status_code == 200


# --- conditional GETs and the public cache --------------------------------------------------

async def test_an_unchanged_file_answers_304_and_a_changed_one_its_new_bytes(
        site: Site, pool: asyncpg.Pool[Any]) -> None:
    # Asked with a condition first: the cache still fills with the whole answer.
    cold = await site.get("/open-data/registry.csv", headers={"If-None-Match": '"nope"'})
    assert cold.status_code == 200
    assert cold.content
    first = await site.get("/open-data/registry.csv")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert 'rel="license"' in first.headers["Link"]
    for condition in ({"If-None-Match": etag}, {"If-None-Match": f'"x", W/{etag}'},
                      {"If-Modified-Since": modified}):
        held = await site.get("/open-data/registry.csv", headers=condition)
        assert held.status_code == 304, condition
        assert held.content == b""
        assert held.headers["ETag"] == etag
    # If-None-Match decides alone: a stale tag with a recent date downloads again.
    stale = await site.get("/open-data/registry.csv",
                           headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert stale.status_code == 200
    # A city is announced: the same tag now gets the new file.
    driver = CityDriver()
    driver(c.JoinNetwork(name="Recife", country="BR", population=1_488_920), JOINED)
    certified(driver, GOLD, date(2026, 11, 20), "2026-11")
    await History(pool).record(city_stream("br-recife"), driver.events)
    await site.moved()
    again = await site.get("/open-data/registry.csv", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "Recife" in again.text
    assert again.headers["ETag"] != etag
    assert datetime.strptime(again.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT") > \
        datetime.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT")
    since = await site.get("/open-data/registry.csv", headers={"If-Modified-Since": modified})
    assert since.status_code == 200


# --- the badge ------------------------------------------------------------------------------

def badge_of(answer: httpx.Response) -> tuple[str, str]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(answer.content)
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None
    assert title.text
    return root.get("data-state") or "", title.text


async def test_the_badge_says_what_the_programs_date_makes_of_the_certification(
        site: Site) -> None:
    states = {key: badge_of(await site.get(f"/cities/{key}/badge.svg"))[0]
              for key in PUBLIC}
    assert states == {"br-fortaleza": "valid",  # platinum until 2027-06-15
                      # past its expiry, though no lapse is recorded (nor will be: a
                      # renewal is under way, and private)
                      "us-charleston-sc": "expired", "us-boise-id": "expired",
                      "ar-cordoba": "expired",  # lapsed
                      "co-medellin": "ended"}  # left the program
    _, title = badge_of(await site.get("/cities/br-fortaleza/badge.svg?lang=es"))
    assert title == "Certificación What Works Cities de Fortaleza: Platino, válida hasta " \
                    "el 15 jun 2027"
    _, title = badge_of(await site.get("/cities/br-fortaleza/badge.svg?lang=pt"))
    assert "Platina" in title
    assert "válida até" in title
    _, title = badge_of(await site.get("/cities/ar-cordoba/badge.svg"))
    assert title == "What Works Cities certification of Córdoba: Expired, Silver until " \
                    "Jun 20, 2026"


async def test_the_badge_turns_expired_by_itself_and_is_never_kept_past_its_expiry(
        pool: asyncpg.Pool[Any]) -> None:
    await record_program(pool)
    expiry = date(2027, 6, 15)  # Fortaleza's platinum
    async for site in site_on(pool, midnight(expiry) - timedelta(seconds=90)):
        answer = await site.get("/cities/br-fortaleza/badge.svg")
        assert badge_of(answer)[0] == "valid"
        max_age = int(answer.headers["Cache-Control"].split("max-age=")[1])
        assert 0 < max_age <= 90
        assert answer.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert answer.headers["Content-Security-Policy"] == "default-src 'none'"
        held = await site.get("/cities/br-fortaleza/badge.svg",
                              headers={"If-None-Match": answer.headers["ETag"]})
        assert held.status_code == 304  # the badge is not in the public cache: its own 304
    async for site in site_on(pool, midnight(expiry) + timedelta(seconds=1)):
        assert badge_of(await site.get("/cities/br-fortaleza/badge.svg"))[0] == "expired"


# --- the pages ------------------------------------------------------------------------------

async def test_the_open_data_page_in_each_language(site: Site) -> None:
    for lang, heading, field in (("en", "Open data", "name as it joined the program"),
                                 ("es", "Datos abiertos", "El nombre de la ciudad"),
                                 ("pt", "Dados abertos", "O nome da cidade")):
        page = await site.get(f"/open-data/?lang={lang}")
        assert page.status_code == 200
        assert f"<h1>{heading}</h1>" in page.text
        assert field in page.text
        assert "Vary" in page.headers  # never kept by the public cache
        block = page.text.split('<script type="application/ld+json">')[1].split("</script>")[0]
        graph = json.loads(block)["@graph"]
        assert {d["license"] for d in graph} == {"https://creativecommons.org/licenses/by/4.0/"}
    assert "3 cities hold an announced certification now" in \
        (await site.get("/open-data/?lang=en")).text  # no lapse recorded for two of them


async def test_a_current_certificate_page_gives_the_badges_snippet(site: Site) -> None:
    current = await site.get("/cities/br-fortaleza/certificate", follow_redirects=False)
    assert current.status_code == 303
    assert current.headers["Location"] == f"/certificates/br-fortaleza/{SECOND_COHORT}"
    page = (await site.get(current.headers["Location"] + "?lang=es")).text
    assert (f'&lt;img src="{BASE}/cities/br-fortaleza/badge.svg?lang=es" '
            'alt="Certificación What Works Cities de Fortaleza"&gt;') in page
    assert f'&lt;a href="{BASE}/cities/br-fortaleza/certificate"&gt;' in page
    replaced = (await site.get(f"/certificates/br-fortaleza/{FIRST_COHORT}")).text
    assert "data-snippet" not in replaced  # an ended certificate is nothing to show off
