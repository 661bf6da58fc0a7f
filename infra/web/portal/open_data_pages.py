"""Open data (`/open-data/`): the page that describes it, in the reader's language, and
the files themselves: the registry and the history of announced certifications as CSV
and JSON, their Table Schemas, the Data Package, the cohorts' Atom feed and the DCAT-US
catalog; and a certified city's badge. Anyone may read them all, and only what is
already public is in them: announced certifications (`queries.announced_certifications`,
from the certification periods, which only an announcement makes).

Each file carries a strong ETag and a Last-Modified and answers conditional GETs with
304; the public cache (`public_cache.py`) keeps the files until a read model moves. The
badge is not kept there: it reads the program's date at every request, and tells caches
to keep it no longer than until its certification expires."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from domain.clock import midnight
from infra.readside import queries
from infra.readside.as_of import announced_by, held_on
from infra.readside.numbers import as_of_day
from infra.readside.rows import AnnouncedCertification, AnnouncedCohort
from infra.web.access import Rule, not_found
from infra.web.conditional import ChangeTimes, http_date, not_modified, strong_etag
from infra.web.portal.open_data import files
from infra.web.portal.open_data.badge import State, badge_svg, lines, standing
from infra.web.portal.open_data.dictionary import (
    HISTORY,
    LICENCE_ID,
    LICENCE_TITLE,
    LICENCE_URL,
    REGISTRY,
    TABLES,
    Table,
    data_package,
)
from infra.web.portal.render import page, portal
from infra.web.routing import route
from infra.web.services import services

router = APIRouter()
# Its form is checked by the rule /api/stats and the CLI's --as-of use (`as_of_day`), so
# a wrong day gets the same code (`not_a_day`, `day_to_come`) at every door.
AsOf = Annotated[str | None, Query(max_length=32, description="The record as it stood at "
                                   "the end of that day (YYYY-MM-DD); none: as it stands.")]
# Every file is revalidated at each use (cheaply: a 304 from the kept answer), so a cache
# between us and a reader never serves a record older than ours.
REVALIDATE = "public, no-cache"
BADGE_KEPT_AT_MOST = 600  # seconds: a badge's tier may change with any announcement
SCHEMA_TYPE = "application/json"


def _change_times(request: Request) -> ChangeTimes:
    """This process's Last-Modified times of the files (see `conditional.py`)."""
    state = request.app.state
    found: ChangeTimes | None = getattr(state, "open_data_change_times", None)
    if found is None:
        found = state.open_data_change_times = ChangeTimes()
    return found


def _answer(request: Request, body: bytes, media_type: str, *, cache: str = REVALIDATE,
            headers: dict[str, str] | None = None) -> Response:
    """The file with its validators, or 304 if the caller holds it already."""
    etag = strong_etag(body)
    key = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    validators = {"ETag": etag, "Last-Modified": http_date(_change_times(request).of(key, etag)),
                  "Cache-Control": cache}
    if not_modified(request.headers, etag, validators["Last-Modified"]):
        return Response(status_code=304, headers=validators)
    return Response(body, media_type=media_type, headers={**validators, **(headers or {})})


def _day(request: Request, as_of: str | None) -> date | None:
    """The day asked for: a real date, not after the program's today (what a day still
    to come holds is not known yet)."""
    if as_of is None:
        return None
    return as_of_day(as_of, services(request).program.program_today())


def _links(request: Request, table: Table) -> dict[str, str]:
    base = services(request).settings.effective_portal_url
    return {"Link": f'<{base}/open-data/{table.name}.schema.json>; rel="describedby"; '
                    f'type="{SCHEMA_TYPE}", <{LICENCE_URL}>; rel="license"'}


async def _certifications(request: Request, *, hashes: bool = True
                          ) -> list[AnnouncedCertification]:
    return await queries.announced_certifications(services(request).pool, hashes=hashes)


def _rows(table: Table, found: list[AnnouncedCertification], day: date | None,
          portal_url: str) -> list[files.Record]:
    if table is REGISTRY:
        return files.registry_records(held_on(found, day), portal_url)
    return files.history_records(announced_by(found, day), portal_url)


async def _csv(request: Request, table: Table, as_of: str | None) -> Response:
    day = _day(request, as_of)
    base = services(request).settings.effective_portal_url
    body = files.to_csv(table, _rows(table, await _certifications(request), day, base))
    name = f"wwc-{table.name}{f'-{day.isoformat()}' if day else ''}.csv"
    return _answer(request, body, files.CSV_TYPE, headers={
        **_links(request, table), "Content-Disposition": f'attachment; filename="{name}"'})


async def _json(request: Request, table: Table, as_of: str | None) -> Response:
    day = _day(request, as_of)
    base = services(request).settings.effective_portal_url
    body = files.to_json(table, _rows(table, await _certifications(request), day, base),
                         as_of=day, portal_url=base)
    return _answer(request, body, files.JSON_TYPE, headers=_links(request, table))


def _describe(summary: str) -> dict[str, Any]:
    return {"summary": summary, "include_in_schema": False}


@route(router, "GET", "/open-data/registry.csv", Rule.PUBLIC, **_describe("Registry, CSV"))
async def open_registry_csv(request: Request, as_of: AsOf = None) -> Response:
    """The cities holding an announced certification, now or at the end of `as_of`."""
    return await _csv(request, REGISTRY, as_of)


@route(router, "GET", "/open-data/registry.json", Rule.PUBLIC, **_describe("Registry, JSON"))
async def open_registry_json(request: Request, as_of: AsOf = None) -> Response:
    """The same records as the CSV file, under the file's metadata and licence."""
    return await _json(request, REGISTRY, as_of)


@route(router, "GET", "/open-data/history.csv", Rule.PUBLIC, **_describe("History, CSV"))
async def open_history_csv(request: Request, as_of: AsOf = None) -> Response:
    """Every announced certification, as the record stood now or at the end of `as_of`."""
    return await _csv(request, HISTORY, as_of)


@route(router, "GET", "/open-data/history.json", Rule.PUBLIC, **_describe("History, JSON"))
async def open_history_json(request: Request, as_of: AsOf = None) -> Response:
    """The same records as the CSV file, under the file's metadata and licence."""
    return await _json(request, HISTORY, as_of)


def _schema(request: Request, table: Table) -> Response:
    body = json.dumps(table.table_schema(), indent=2).encode()
    return _answer(request, body, SCHEMA_TYPE, headers={
        "Link": f'<{LICENCE_URL}>; rel="license"'})


@route(router, "GET", "/open-data/registry.schema.json", Rule.PUBLIC,
       **_describe("The registry's Table Schema"))
async def open_registry_schema(request: Request) -> Response:
    """The registry's data dictionary, as a Frictionless Table Schema."""
    return _schema(request, REGISTRY)


@route(router, "GET", "/open-data/history.schema.json", Rule.PUBLIC,
       **_describe("The history's Table Schema"))
async def open_history_schema(request: Request) -> Response:
    """The history's data dictionary, as a Frictionless Table Schema."""
    return _schema(request, HISTORY)


@route(router, "GET", "/open-data/datapackage.json", Rule.PUBLIC,
       **_describe("The Data Package"))
async def open_data_package(request: Request) -> Response:
    """Both CSV files with their schemas and licence, as a Frictionless Data Package."""
    body = json.dumps(data_package(), indent=2).encode()
    return _answer(request, body, SCHEMA_TYPE, headers={
        "Link": f'<{LICENCE_URL}>; rel="license"'})


async def _announced_cohorts(request: Request, day: date | None) -> list[AnnouncedCohort]:
    found = await queries.public_cohorts(services(request).pool)
    return [c for c in found if day is None or c.announced_on <= day]


@route(router, "GET", "/open-data/cohorts.atom", Rule.PUBLIC,
       **_describe("Cohort announcements, Atom"))
async def open_cohort_feed(request: Request, as_of: AsOf = None) -> Response:
    """The announced cohorts, the latest first (up to `as_of`)."""
    day = _day(request, as_of)
    body = files.cohort_feed(await _announced_cohorts(request, day),
                             services(request).settings.effective_portal_url)
    return _answer(request, body, files.ATOM_TYPE,
                   headers={"Link": f'<{LICENCE_URL}>; rel="license"'})


async def _catalog(request: Request) -> dict[str, Any]:
    found = services(request)
    # The catalog needs the certifications' dates, not their hashes.
    return files.catalog(await _certifications(request, hashes=False),
                         await _announced_cohorts(request, None),
                         portal_url=found.settings.effective_portal_url,
                         mail_from=found.settings.mail_from)


@route(router, "GET", "/open-data/catalog.json", Rule.PUBLIC,
       **_describe("The DCAT-US catalog"))
async def open_data_catalog(request: Request) -> Response:
    """The datasets, for open-data portals to harvest (DCAT-US 1.1)."""
    body = json.dumps(await _catalog(request), indent=2).encode()
    return _answer(request, body, SCHEMA_TYPE)


def _json_ld(document: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json"> block: nothing in it can end the
    block or open markup."""
    text = json.dumps(document, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


@page(router, "/open-data/", Rule.PUBLIC)
async def open_data_page(request: Request) -> HTMLResponse:
    """What is published, in which formats, under which licence, and what each field
    means (the human data dictionary); how to harvest it; the badge."""
    found = services(request)
    # Counts and dates only (the page is made at every visit: it speaks the reader's
    # language, so the public cache does not keep it).
    certifications = await _certifications(request, hashes=False)
    base = found.settings.effective_portal_url
    catalog = files.catalog(certifications, await _announced_cohorts(request, None),
                            portal_url=base, mail_from=found.settings.mail_from)
    today = found.program.program_today()
    return await portal(request).render(
        request, "public/open_data.html", tables=TABLES, base=base,
        licence={"id": LICENCE_ID, "title": LICENCE_TITLE, "url": LICENCE_URL},
        certified_now=len(held_on(certifications, None)), announced=len(certifications),
        first=min((c.awarded_on for c in certifications), default=None),
        example_day=today.replace(month=1, day=1), today=today,
        json_ld=_json_ld(files.schema_org(catalog)))


@route(router, "GET", "/cities/{key}/badge.svg", Rule.PUBLIC, include_in_schema=False)
async def city_badge(request: Request, key: str,
                     lang: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    """The city's badge, in `lang` (en, es or pt; English otherwise). Only for a city
    with an announced certification: any other key is not found, as an unknown one."""
    found = services(request)
    mine = await queries.announced_certifications(found.pool, key)
    if not mine:
        raise not_found(key)
    latest = max(mine, key=lambda c: c.awarded_on)
    today = found.program.program_today()
    now = standing(latest, today)
    language = portal(request).catalogs.get(lang or "en")
    svg = badge_svg(lines(latest.name, now, language), now, language=language.code,
                    link=f"{found.settings.effective_portal_url}/cities/{key}/certificate")
    return _answer(request, svg.encode(), "image/svg+xml; charset=utf-8",
                   cache=f"public, max-age={_badge_fresh_for(request, now.state, now.until)}",
                   headers={"Content-Security-Policy": "default-src 'none'",
                            # Other sites embed it: <img src> across origins.
                            "Cross-Origin-Resource-Policy": "cross-origin"})


def _badge_fresh_for(request: Request, state: State, until: date) -> int:
    """Seconds a cache may keep the badge: never past the moment its certification
    expires on the program's clock (which may run faster than the wall's)."""
    if state is not State.VALID:
        return BADGE_KEPT_AT_MOST
    clock = services(request).program.clock
    left = clock.real_delay(datetime.now(UTC), midnight(until))
    if left is None:  # a frozen program clock never gets there
        return BADGE_KEPT_AT_MOST
    return max(0, min(BADGE_KEPT_AT_MOST, int(left.total_seconds())))


@route(router, "GET", "/cities/{key}/certificate", Rule.PUBLIC, include_in_schema=False)
async def current_certificate(request: Request, key: str) -> Response:
    """The certificate of the city's current certification (where a badge links: the
    same link stays right when the city is certified anew)."""
    city = await queries.public_city(services(request).pool, key)
    if city is None:
        raise not_found(key)
    return RedirectResponse(f"/certificates/{key}/{city.awarded_on.isoformat()}",
                            status_code=303)
