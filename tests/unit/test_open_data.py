"""Open data's pure parts: the data dictionary (valid Table Schemas and Data Package, as
the Frictionless reference implementation reads them), the files' formats (CSV, JSON,
Atom, DCAT-US, schema.org), the as-of rules, the badge's states and drawing, and the
conditional-GET rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from frictionless import Package, Resource, Schema
from hypothesis import example, given
from hypothesis import strategies as st

from infra.i18n.catalogs import Catalogs
from infra.readside.as_of import announced_by, held_on
from infra.readside.rows import AnnouncedCertification, AnnouncedCohort, CohortCity
from infra.web.conditional import ChangeTimes, etag_matches, http_date, not_modified, strong_etag
from infra.web.portal.open_data import files
from infra.web.portal.open_data.badge import (
    Standing,
    State,
    badge_svg,
    lines,
    standing,
    text_width,
)
from infra.web.portal.open_data.dictionary import HISTORY, REGISTRY, TABLES, data_package

BASE = "https://wwc.example"
CATALOGS = Catalogs()


def certification(key: str = "us-boise-id", name: str = "Boise, ID", *, tier: str = "gold",
                  awarded: date = date(2023, 6, 20), ended: date | None = None,
                  now: bool = True, hashed: bool = True) -> AnnouncedCertification:
    return AnnouncedCertification(
        city_key=key, name=name, country=key[:2].upper(), tier=tier, standard_id="wwc-2022",
        cohort_id=awarded.strftime("%Y-%m"), awarded_on=awarded,
        expires_on=awarded.replace(year=awarded.year + 3), ended_on=ended,
        decision_hash="ab" * 32 if hashed else None, city_certified_now=now)


# --- the dictionary -------------------------------------------------------------------------

def test_each_table_schema_and_the_data_package_are_valid_frictionless_descriptors() -> None:
    for table in TABLES:
        schema = Schema.from_descriptor(table.table_schema())  # raises if invalid
        assert schema.field_names == list(table.field_names)
        assert schema.primary_key == list(table.primary_key)
        assert all(field.description for field in schema.fields)
    package = Package.from_descriptor(data_package())
    assert [r.name for r in package.resources] == [t.name for t in TABLES]
    assert package.licenses == [{"name": "CC-BY-4.0",
                                 "title": "Creative Commons Attribution 4.0 International",
                                 "path": "https://creativecommons.org/licenses/by/4.0/"}]


def test_the_records_have_the_dictionarys_fields_in_its_order() -> None:
    rows = [certification()]
    assert list(files.registry_records(rows, BASE)[0]) == list(REGISTRY.field_names)
    assert list(files.history_records(rows, BASE)[0]) == list(HISTORY.field_names)


# --- the formats ----------------------------------------------------------------------------

def test_csv_is_rfc_4180_with_a_header_and_empty_cells_for_missing_values() -> None:
    rows = [certification(name='Boise, "City of Trees"'),
            certification("br-sao-paulo", "São Paulo", now=False, ended=date(2025, 1, 1))]
    body = files.to_csv(HISTORY, files.history_records(rows, BASE))
    text = body.decode("utf-8")
    assert text.startswith(",".join(HISTORY.field_names) + "\r\n")
    assert text.endswith("\r\n")
    assert '"Boise, ""City of Trees"""' in text
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert parsed[0]["city"] == "São Paulo" or parsed[1]["city"] == "São Paulo"
    paulo = next(r for r in parsed if r["city_key"] == "br-sao-paulo")
    assert paulo["certificate_url"] == ""  # not certified now: its page is not public
    assert paulo["ended"] == "2025-01-01"
    schema = Schema.from_descriptor(HISTORY.table_schema())
    report = Resource(data=[dict(r) for r in parsed], schema=schema).validate()
    assert report.valid, report.flatten(["message"])


def test_json_names_its_licence_its_day_and_its_schema() -> None:
    body = files.to_json(REGISTRY, files.registry_records([certification()], BASE),
                         as_of=date(2024, 1, 1), portal_url=BASE)
    document = json.loads(body)
    assert document["license"]["name"] == "CC-BY-4.0"
    assert document["as_of"] == "2024-01-01"
    assert document["schema"] == f"{BASE}/open-data/registry.schema.json"
    assert document["records"][0]["certificate_url"] == \
        f"{BASE}/certificates/us-boise-id/2023-06-20"


def test_a_certificate_is_linked_only_while_its_page_is_public() -> None:
    assert files.certificate_url(certification(), BASE)
    assert files.certificate_url(certification(now=False), BASE) is None
    assert files.certificate_url(certification(hashed=False), BASE) is None


def cohort(cohort_id: str, day: date, *names: str) -> AnnouncedCohort:
    return AnnouncedCohort(cohort_id=cohort_id, announce_on=day, announced_on=day,
                           city_count=len(names),
                           cities=tuple(CohortCity(city_key=f"us-{i}", name=n, tier="gold")
                                        for i, n in enumerate(names)))


def test_the_feed_is_atom_that_a_feed_reader_reads_newest_first() -> None:
    body = files.cohort_feed([cohort("2023-06", date(2023, 6, 20), "Boise, ID"),
                              cohort("2024-06", date(2024, 6, 15), "<Tulsa> & Co")], BASE)
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title.endswith("cohort announcements")
    assert feed.feed.updated == "2024-06-15T00:00:00Z"
    assert [e.title for e in feed.entries] == ["Cohort 2024-06: 1 certified city",
                                              "Cohort 2023-06: 1 certified city"]
    assert "&lt;Tulsa&gt; &amp; Co: gold" in feed.entries[0].content[0].value
    assert feed.entries[0].id.startswith("urn:uuid:")
    assert any(link.rel == "license" for link in feed.feed.links)
    root = ElementTree.fromstring(body)  # and it is XML a strict parser takes
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    # An id never depends on where the portal is served from.
    elsewhere = feedparser.parse(files.cohort_feed(
        [cohort("2023-06", date(2023, 6, 20), "Boise, ID")], "https://other.example"))
    assert elsewhere.entries[0].id == feed.entries[1].id


def test_an_empty_feed_is_still_a_valid_feed() -> None:
    feed = feedparser.parse(files.cohort_feed([], BASE))
    assert not feed.bozo
    assert feed.entries == []


# DCAT-US 1.1 (https://resources.data.gov/resources/dcat-us/): what a catalog and each of
# its datasets and distributions must have (bureauCode and programCode only bind U.S.
# federal agencies).
CATALOG_REQUIRED = {"@context", "@type", "conformsTo", "describedBy", "dataset"}
DATASET_REQUIRED = {"@type", "title", "description", "keyword", "modified", "publisher",
                    "contactPoint", "identifier", "accessLevel", "license", "distribution"}


def test_the_catalog_has_what_dcat_us_requires() -> None:
    catalog = files.catalog([certification()], [cohort("2023-06", date(2023, 6, 20), "B")],
                            portal_url=BASE, mail_from="WWC <certification@wwc.example>")
    assert set(catalog) >= CATALOG_REQUIRED
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    for dataset in catalog["dataset"]:
        assert set(dataset) >= DATASET_REQUIRED, DATASET_REQUIRED - set(dataset)
        assert dataset["accessLevel"] == "public"
        assert dataset["contactPoint"] == {"@type": "vcard:Contact", "fn": "WWC",
                                           "hasEmail": "mailto:certification@wwc.example"}
        date.fromisoformat(dataset["modified"])
        for distribution in dataset["distribution"]:
            assert distribution["downloadURL"].startswith(f"{BASE}/open-data/")
            assert "/" in distribution["mediaType"]
    assert len({d["identifier"] for d in catalog["dataset"]}) == 3
    graph = files.schema_org(catalog)["@graph"]
    assert {d["@type"] for d in graph} == {"Dataset"}
    assert graph[0]["distribution"][0]["@type"] == "DataDownload"


# --- as of a day ----------------------------------------------------------------------------

def test_as_of_a_day_the_registry_holds_what_was_in_force_and_the_history_what_was_known(
) -> None:
    silver = certification(tier="silver", awarded=date(2023, 6, 20), ended=date(2024, 6, 15))
    gold = certification(tier="gold", awarded=date(2024, 6, 15))
    rows = [silver, gold]
    assert held_on(rows, None) == [gold]
    assert held_on(rows, date(2024, 6, 14)) == [silver]
    assert held_on(rows, date(2024, 6, 15)) == [gold]  # the new award replaces it that day
    assert held_on(rows, date(2023, 6, 19)) == []
    assert announced_by(rows, None) == rows
    assert announced_by(rows, date(2024, 1, 1)) == [silver.model_copy(update={"ended_on": None})]
    assert announced_by(rows, date(2024, 6, 15)) == rows


# --- the badge ------------------------------------------------------------------------------

@given(st.dates(date(2020, 1, 1), date(2032, 1, 1)),
       st.one_of(st.none(), st.dates(date(2023, 6, 21), date(2030, 1, 1))))
# The edges: the day before its expiry (still valid), the expiry day (the program lapses
# it that day), a lapse recorded on the expiry day, an end the day before it.
@example(date(2026, 6, 19), None)
@example(date(2026, 6, 20), None)
@example(date(2026, 6, 19), date(2026, 6, 20))
@example(date(2026, 6, 19), date(2026, 6, 19))
def test_a_badge_is_valid_only_before_its_expiry_and_while_not_ended(
        today: date, ended: date | None) -> None:
    found = standing(certification(ended=ended), today)
    expires = date(2026, 6, 20)
    if ended is not None and ended < expires:
        assert found == Standing(State.ENDED, "gold", ended)
    elif ended is not None or today >= expires:
        assert found == Standing(State.EXPIRED, "gold", expires)
    else:
        assert found == Standing(State.VALID, "gold", expires)


@pytest.mark.parametrize(("lang", "valid", "expired"), [
    ("en", ("Gold", "valid until Jun 20, 2026"), ("Expired", "Gold until Jun 20, 2026")),
    ("es", ("Oro", "válida hasta el 20 jun 2026"), ("Vencida", "Oro hasta el 20 jun 2026")),
    ("pt", ("Ouro", "válida até 20 de jun. de 2026"),
     ("Expirada", "Ouro até 20 de jun. de 2026")),
])
def test_the_badge_speaks_three_languages(lang: str, valid: tuple[str, str],
                                          expired: tuple[str, str]) -> None:
    language = CATALOGS.get(lang)
    words = lines("Boise, ID", Standing(State.VALID, "gold", date(2026, 6, 20)), language)
    assert (words.headline, words.detail) == valid
    words = lines("Boise, ID", Standing(State.EXPIRED, "gold", date(2026, 6, 20)), language)
    assert (words.headline, words.detail) == expired


def test_the_badge_is_well_formed_svg_whatever_the_citys_name() -> None:
    now = Standing(State.VALID, "platinum", date(2027, 6, 15))
    name = 'Tulsa <script>alert("x")</script> & Sons'
    svg = badge_svg(lines(name, now, CATALOGS.get("en")), now, language="en",
                    link=f"{BASE}/cities/us-tulsa-ok/certificate?a=1&b=2")
    root = ElementTree.fromstring(svg)  # a name cannot break out of the markup
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["What Works Cities", name, "Platinum", "valid until Jun 15, 2027"]
    assert root.find(".//{http://www.w3.org/2000/svg}script") is None
    assert root.get("data-state") == "valid"
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert rects[0].get("fill") == "#3b4a8f"  # platinum's colour while in force
    # Every line fits inside the badge, as measured.
    width = float(root.get("width") or 0)
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        assert float(text.get("x") or 0) + float(text.get("textLength") or 0) <= width


def test_a_badge_not_in_force_is_red_and_says_so() -> None:
    ended = Standing(State.ENDED, "silver", date(2025, 1, 10))
    svg = badge_svg(lines("Medellín", ended, CATALOGS.get("es")), ended, language="es",
                    link=BASE)
    root = ElementTree.fromstring(svg)
    assert next(root.iter("{http://www.w3.org/2000/svg}rect")).get("fill") == "#a4161a"
    assert "Terminó" in svg
    assert "Plata hasta el 10 ene 2025" in svg


def test_text_is_measured_wider_for_wider_letters() -> None:
    assert text_width("WWW", 10) > text_width("iii", 10)
    assert text_width("São", 10) == text_width("Sao", 10)
    assert text_width("Gold", 12, bold=True) > text_width("Gold", 12)


# --- conditional GETs -----------------------------------------------------------------------

def test_if_none_match_compares_weakly_and_decides_alone() -> None:
    tag = strong_etag(b"body")
    assert tag == strong_etag(b"body") != strong_etag(b"other")
    assert etag_matches(tag, tag)
    assert etag_matches(f'"a", W/{tag}', tag)
    assert etag_matches("*", tag)
    assert not etag_matches('"a", "b"', tag)
    modified = http_date(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    later = http_date(datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC))
    assert not_modified({"if-none-match": tag}, tag, modified)
    # If-None-Match, when sent, decides: a date that would match does not.
    assert not not_modified({"if-none-match": '"x"', "if-modified-since": later}, tag, modified)
    assert not_modified({"if-modified-since": modified}, tag, modified)
    assert not_modified({"if-modified-since": later}, tag, modified)
    assert not not_modified({"if-modified-since": "Wed, 02 Dec 2026 10:00:00 GMT"}, tag,
                            modified)
    assert not not_modified({"if-modified-since": "yesterday"}, tag, modified)
    assert not not_modified({}, tag, modified)


def test_a_change_is_dated_after_the_last_even_within_one_second() -> None:
    moments = iter([datetime(2026, 12, 3, 10, 0, 0, 300_000, tzinfo=UTC),
                    datetime(2026, 12, 3, 10, 0, 0, 800_000, tzinfo=UTC),
                    datetime(2026, 12, 3, 10, 0, 0, 900_000, tzinfo=UTC)])
    times = ChangeTimes(clock=lambda: next(moments), limit=2)
    first = times.of("/f", '"a"')
    assert times.of("/f", '"a"') == first  # the same bytes keep their date
    second = times.of("/f", '"b"')
    assert second == first + timedelta(seconds=1)
    # Back to earlier bytes is a change too, dated after the last.
    assert times.of("/f", '"a"') > second
