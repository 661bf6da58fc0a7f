"""The open-data files, made from the read side's rows: each table as CSV (RFC 4180,
UTF-8, a header row) and as JSON (the records under the file's own metadata: title,
licence, the day it is as of, its schema), the cohorts' announcements as an Atom feed
(RFC 4287), and the catalog that open-data portals harvest (DCAT-US 1.1, the Project
Open Data metadata schema that data.gov and CKAN's harvesters read) with its schema.org
twin for the page.

Everything here is a function of the rows and the portal's address alone, never of the
clock: a file changes only when the record does, so its ETag is stable and the public
cache may keep it until a read model moves."""

from __future__ import annotations

import csv
import html
import io
import json
import uuid
from collections.abc import Sequence
from datetime import date
from email.utils import parseaddr
from typing import Any
from xml.etree import ElementTree

from infra.readside.rows import AnnouncedCertification, AnnouncedCohort
from infra.web.portal.open_data.dictionary import (
    ATTRIBUTION,
    HISTORY,
    LICENCE_ID,
    LICENCE_TITLE,
    LICENCE_URL,
    PROGRAM,
    REGISTRY,
    Table,
    licence,
)

Record = dict[str, str | None]
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Ids that outlive the portal's address (an Atom id must never change).
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:wwc-certification:open-data")
FEED_ID = f"urn:uuid:{uuid.uuid5(_IDS, 'cohorts')}"
CSV_TYPE = "text/csv; charset=utf-8; header=present"
JSON_TYPE = "application/json"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
DCAT_US = "https://project-open-data.cio.gov/v1.1/schema"
KEYWORDS = ("cities", "certification", "data-driven government", "open data",
            "What Works Cities")
SPATIAL = "North, Central and South America"
# DCAT-US requires `modified`; a program that has announced nothing yet has none.
NEVER = "1970-01-01"


def certificate_url(row: AnnouncedCertification, portal_url: str) -> str | None:
    """The certificate's page, while it is public: the city holds a certification now and
    the log has the decision its page verifies (as `portal/public_pages.py` serves it)."""
    if not row.city_certified_now or row.decision_hash is None:
        return None
    return f"{portal_url}/certificates/{row.city_key}/{row.awarded_on.isoformat()}"


def records(rows: Sequence[AnnouncedCertification], table: Table,
            portal_url: str) -> list[Record]:
    """The table's records, in its fields' order, a missing value as None."""
    found = []
    for row in rows:
        every: Record = {
            "city_key": row.city_key, "city": row.name, "country": row.country,
            "tier": row.tier, "standard": row.standard_id, "cohort": row.cohort_id,
            "announced": row.awarded_on.isoformat(),
            "valid_until": row.expires_on.isoformat(),
            "ended": row.ended_on.isoformat() if row.ended_on else None,
            "certificate_url": certificate_url(row, portal_url),
            "certificate_hash": row.decision_hash}
        found.append({name: every[name] for name in table.field_names})
    return found


def registry_records(rows: Sequence[AnnouncedCertification], portal_url: str) -> list[Record]:
    """One row per city, by key (as the API's registry lists them)."""
    return records(sorted(rows, key=lambda row: row.city_key), REGISTRY, portal_url)


def history_records(rows: Sequence[AnnouncedCertification], portal_url: str) -> list[Record]:
    """Oldest announcement first, then by key."""
    return records(sorted(rows, key=lambda row: (row.awarded_on, row.city_key)), HISTORY,
                   portal_url)


def to_csv(table: Table, found: Sequence[Record]) -> bytes:
    """RFC 4180: a header row of the field names, CRLF line ends, quotes where needed; a
    missing value is an empty cell (the schema's `missingValues`)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.field_names)
    for record in found:
        writer.writerow(["" if record[name] is None else record[name]
                         for name in table.field_names])
    return buffer.getvalue().encode("utf-8")


def to_json(table: Table, found: Sequence[Record], *, as_of: date | None,
            portal_url: str) -> bytes:
    """The records under the file's metadata: what it is, as of when (null: the record as
    it stands), its licence and how to credit it, and its Table Schema."""
    document = {
        "title": f"{PROGRAM}: {table.title}",
        "description": table.description,
        "as_of": as_of.isoformat() if as_of else None,
        "license": licence(),
        "attribution": ATTRIBUTION,
        "schema": f"{portal_url}/open-data/{table.name}.schema.json",
        "records": list(found),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _element(parent: ElementTree.Element, tag: str, text: str | None = None,
             **attributes: str) -> ElementTree.Element:
    made = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    made.text = text
    return made


def _instant(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def cohort_feed(cohorts: Sequence[AnnouncedCohort], portal_url: str) -> bytes:
    """An Atom feed of the announced cohorts, the latest first: each with its date and the
    cities it certified, at their tiers. Cohorts still to come are not in it (their
    members are not announced), nor are the cities' pages linked (a page is public only
    while its city holds a certification; the cohort's page always is)."""
    ElementTree.register_namespace("", ATOM)
    newest = sorted(cohorts, key=lambda c: (c.announced_on, c.cohort_id), reverse=True)
    feed = ElementTree.Element(f"{{{ATOM}}}feed", {XML_LANG: "en"})
    _element(feed, "id", FEED_ID)
    _element(feed, "title", f"{PROGRAM}: cohort announcements")
    _element(feed, "subtitle", "Each cohort of cities certified for their use of data, "
                               "as the program announced it.")
    _element(feed, "updated", _instant(newest[0].announced_on) if newest else
             f"{NEVER}T00:00:00Z")
    author = _element(feed, "author")
    _element(author, "name", ATTRIBUTION)
    _element(feed, "link", rel="self", type="application/atom+xml",
             href=f"{portal_url}/open-data/cohorts.atom")
    _element(feed, "link", rel="alternate", type="text/html", href=f"{portal_url}/cohorts")
    _element(feed, "link", rel="license", href=LICENCE_URL)  # RFC 4946
    _element(feed, "rights", f"{LICENCE_TITLE} ({LICENCE_ID}): {LICENCE_URL}")
    for cohort in newest:
        entry = _element(feed, "entry")
        _element(entry, "id", f"urn:uuid:{uuid.uuid5(_IDS, f'cohort/{cohort.cohort_id}')}")
        count = len(cohort.cities)
        _element(entry, "title", f"Cohort {cohort.cohort_id}: {count} certified "
                                 f"{'city' if count == 1 else 'cities'}")
        _element(entry, "published", _instant(cohort.announced_on))
        _element(entry, "updated", _instant(cohort.announced_on))
        _element(entry, "link", rel="alternate", type="text/html",
                 href=f"{portal_url}/cohorts/{cohort.cohort_id}")
        for tier in sorted({city.tier for city in cohort.cities}):
            _element(entry, "category", term=tier)
        # HTML as escaped text (every feed reader shows it; the XML writer escapes it once
        # more, html.escape escaped the names within it).
        cities = "".join(f"<li>{html.escape(city.name)}: {city.tier}</li>"
                         for city in cohort.cities)
        _element(entry, "content", f"<p>Announced on {cohort.announced_on.isoformat()}."
                                   f"</p><ul>{cities}</ul>", type="html")
    written: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return written


def last_change(certifications: Sequence[AnnouncedCertification],
                cohorts: Sequence[AnnouncedCohort]) -> date | None:
    """The latest day the public record changed: an announcement or an end."""
    days = [d for c in certifications for d in (c.awarded_on, c.ended_on) if d is not None]
    days += [c.announced_on for c in cohorts]
    return max(days, default=None)


def _contact(mail_from: str) -> dict[str, str]:
    name, address = parseaddr(mail_from)
    return {"@type": "vcard:Contact", "fn": name or ATTRIBUTION,
            "hasEmail": f"mailto:{address or 'certification@wwc.local'}"}


def _temporal(certifications: Sequence[AnnouncedCertification],
              changed: date | None) -> dict[str, str]:
    first = min((c.awarded_on for c in certifications), default=None)
    return {"temporal": f"{first.isoformat()}/{changed.isoformat()}"} \
        if first is not None and changed is not None else {}


def catalog(certifications: Sequence[AnnouncedCertification],
            cohorts: Sequence[AnnouncedCohort], *, portal_url: str,
            mail_from: str) -> dict[str, Any]:
    """The DCAT-US 1.1 catalog (https://resources.data.gov/resources/dcat-us/): the two
    tables, each in CSV and JSON with its Table Schema, and the cohort feed."""
    base = f"{portal_url}/open-data"
    changed = last_change(certifications, cohorts)
    shared = {
        "@type": "dcat:Dataset", "keyword": list(KEYWORDS),
        "modified": changed.isoformat() if changed else NEVER,
        "publisher": {"@type": "org:Organization", "name": ATTRIBUTION},
        "contactPoint": _contact(mail_from), "accessLevel": "public",
        "license": LICENCE_URL, "spatial": SPATIAL, "accrualPeriodicity": "irregular",
        "landingPage": f"{base}/", "language": ["en"],
        "references": [f"{base}/datapackage.json"]}

    def table(which: Table) -> dict[str, Any]:
        schema = f"{base}/{which.name}.schema.json"
        return {
            **shared, "identifier": f"{base}/#{which.name}",
            "title": f"{PROGRAM}: {which.title}", "description": which.description,
            "describedBy": schema, "describedByType": "application/json",
            **_temporal(certifications, changed),
            "distribution": [
                {"@type": "dcat:Distribution", "title": f"{which.title} (CSV)",
                 "downloadURL": f"{base}/{which.name}.csv", "mediaType": "text/csv",
                 "format": "CSV", "describedBy": schema,
                 "describedByType": "application/json"},
                {"@type": "dcat:Distribution", "title": f"{which.title} (JSON)",
                 "downloadURL": f"{base}/{which.name}.json",
                 "mediaType": "application/json", "format": "JSON", "describedBy": schema,
                 "describedByType": "application/json"}]}

    feed = {**shared, "identifier": f"{base}/#cohorts",
            "title": f"{PROGRAM}: cohort announcements",
            "description": "Each announced cohort of certified cities, with the cities it "
                           "certified and their tiers, as an Atom feed.",
            "modified": max(c.announced_on for c in cohorts).isoformat() if cohorts
            else NEVER,
            "distribution": [
                {"@type": "dcat:Distribution", "title": "Cohort announcements (Atom)",
                 "downloadURL": f"{base}/cohorts.atom", "mediaType": "application/atom+xml",
                 "format": "Atom", "conformsTo": "https://www.rfc-editor.org/rfc/rfc4287"}]}
    return {
        "@context": f"{DCAT_US}/catalog.jsonld", "@id": f"{base}/catalog.json",
        "@type": "dcat:Catalog", "conformsTo": DCAT_US,
        "describedBy": f"{DCAT_US}/catalog.json",
        "dataset": [table(REGISTRY), table(HISTORY), feed]}


def schema_org(dcat: dict[str, Any]) -> dict[str, Any]:
    """The catalog's datasets as schema.org `Dataset`s (JSON-LD), which general search
    engines read from the page."""
    graph = []
    for dataset in dcat["dataset"]:
        graph.append({
            "@type": "Dataset", "name": dataset["title"],
            "description": dataset["description"], "url": dataset["landingPage"],
            "identifier": dataset["identifier"], "keywords": dataset["keyword"],
            "license": dataset["license"], "isAccessibleForFree": True,
            "creator": {"@type": "Organization", "name": ATTRIBUTION},
            "spatialCoverage": dataset["spatial"], "dateModified": dataset["modified"],
            **({"temporalCoverage": dataset["temporal"]} if "temporal" in dataset else {}),
            "distribution": [{"@type": "DataDownload", "encodingFormat": d["mediaType"],
                              "contentUrl": d["downloadURL"]}
                             for d in dataset["distribution"]]})
    return {"@context": "https://schema.org/", "@graph": graph}
