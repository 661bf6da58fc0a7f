"""The data dictionary: the two tables open data publishes, their fields (name, type,
constraints, what each means), the licence, and the machine-readable forms of them all:
a Frictionless Table Schema per table and a Data Package that ties each CSV file to its
schema and licence. The human page (`/open-data/`) shows the same fields, translated.

The descriptions are marked for translation (`N_`): the schema files carry them in
English, the page in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.i18n.words import N_

# Every file says which licence it is under: the JSON files in their own metadata, the
# CSV files in the Data Package and a `Link: rel="license"` header, the page and the
# catalog in words and by URL.
LICENCE_ID = "CC-BY-4.0"  # its SPDX identifier
LICENCE_TITLE = "Creative Commons Attribution 4.0 International"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = "What Works Cities certification program"
PROGRAM = "What Works Cities certification"
TIERS = ("silver", "gold", "platinum")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Table Schema type: string, date
    title: str
    description: str
    required: bool = True
    format: str | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    def descriptor(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "type": self.type, "title": self.title,
                                 "description": self.description}
        if self.format:
            found["format"] = self.format
        constraints: dict[str, Any] = {"required": True} if self.required else {}
        if self.pattern:
            constraints["pattern"] = self.pattern
        if self.enum:
            constraints["enum"] = list(self.enum)
        if constraints:
            found["constraints"] = constraints
        return found


@dataclass(frozen=True)
class Table:
    name: str  # the files' stem: registry.csv, registry.json, registry.schema.json
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def table_schema(self) -> dict[str, Any]:
        """The Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/)
        both of the table's files follow: the CSV file's columns, the JSON file's records."""
        return {"fields": [f.descriptor() for f in self.fields],
                "primaryKey": list(self.primary_key), "missingValues": [""]}


CITY_KEY = Field(
    "city_key", "string", "City key",
    N_("The city's stable identifier in the program: its country code and its name, in "
       "lower case, joined by hyphens (us-los-angeles-ca)."),
    pattern="^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$")
CITY = Field("city", "string", "City", N_("The city's name as it joined the program."))
COUNTRY = Field("country", "string", "Country",
                N_("The city's country, as an ISO 3166-1 alpha-2 code (US, MX, BR)."),
                pattern="^[A-Z]{2}$")
TIER = Field("tier", "string", "Tier",
             N_("The tier certified: silver, gold or platinum."), enum=TIERS)
STANDARD = Field("standard", "string", "Standard",
                 N_("The standard the city was assessed against (wwc-2022)."))
COHORT = Field("cohort", "string", "Cohort",
               N_("The cohort whose announcement made the certification public."))
ANNOUNCED = Field("announced", "date", "Announced",
                  N_("The day the certification was announced, from which it holds "
                     "(YYYY-MM-DD)."))
VALID_UNTIL = Field("valid_until", "date", "Valid until",
                    N_("The day the certification expires unless it is renewed "
                       "(YYYY-MM-DD)."))
ENDED = Field("ended", "date", "Ended",
              N_("The day the certification stopped being in force: replaced by a newer "
                 "one, lapsed, or the city left the program (YYYY-MM-DD). Empty while it "
                 "is in force, or if it ended after the day the file is as of."),
              required=False)
CERTIFICATE_URL = Field(
    "certificate_url", "string", "Certificate URL",
    N_("The certificate's page, where anyone can check it against the city's hash chain. "
       "Empty when the city holds no certification now: the pages of its certificates "
       "are public only while it does."),
    required=False, format="uri")
CERTIFICATE_HASH = Field(
    "certificate_hash", "string", "Certificate hash",
    N_("The SHA-256 hash, in hexadecimal, of the event that decided the certification in "
       "the city's hash-chained log: the hash its certificate's page shows."),
    required=False, pattern="^[0-9a-f]{64}$")

REGISTRY = Table(
    "registry", N_("Certified cities"),
    N_("The cities holding an announced certification: one row per city, now or on the "
       "day asked for with ?as_of=YYYY-MM-DD."),
    (CITY_KEY, CITY, COUNTRY, TIER, STANDARD, COHORT, ANNOUNCED, VALID_UNTIL,
     CERTIFICATE_URL, CERTIFICATE_HASH),
    ("city_key",))
HISTORY = Table(
    "history", N_("Announced certifications"),
    N_("Every certification the program has announced, in force or not, oldest first: "
       "one row per certification, as the record stood at the end of today or of the "
       "day asked for with ?as_of=YYYY-MM-DD."),
    (CITY_KEY, CITY, COUNTRY, TIER, STANDARD, COHORT, ANNOUNCED, VALID_UNTIL, ENDED,
     CERTIFICATE_URL, CERTIFICATE_HASH),
    ("city_key", "announced"))
TABLES = (REGISTRY, HISTORY)


def licence() -> dict[str, str]:
    """The licence as a Data Package names it (`licenses`)."""
    return {"name": LICENCE_ID, "title": LICENCE_TITLE, "path": LICENCE_URL}


def data_package() -> dict[str, Any]:
    """The Frictionless Data Package (https://specs.frictionlessdata.io/data-package/) of
    the CSV files. Paths are relative to the package's own URL (`/open-data/`), so it
    reads the same wherever the portal is served from."""
    return {
        "name": "wwc-certifications",
        "title": f"{PROGRAM}: certified cities",
        "description": "Cities certified by the program for their use of data, as "
                       "announced: the registry now and every announced certification.",
        "homepage": "./",
        "licenses": [licence()],
        "resources": [{
            "name": table.name, "title": table.title, "description": table.description,
            "path": f"{table.name}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "schema": f"{table.name}.schema.json",
            "licenses": [licence()]} for table in TABLES],
    }
