"""The program in numbers, for operators (`/portal/numbers?as_of=YYYY-MM-DD`): six charts
drawn on the server (`charts.py`), each with its figures as a table and as a CSV file
(`/portal/numbers/<chart>.csv?as_of=`), in the reader's language and conventions. The
figures are `infra/readside/numbers.py`'s, as `wwc stats` and `GET /api/stats` give
them; the day defaults to the program's today, and a day after it is refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from infra.i18n.catalogs import Language
from infra.platform.errors import NotFound
from infra.readside.numbers import CHARTS, Chart, ProgramNumbers, as_of_day
from infra.readside.numbers_reader import READ_MODELS, numbers_as_of
from infra.web.access import Rule
from infra.web.portal import charts
from infra.web.portal.charts import Series
from infra.web.portal.render import page, portal
from infra.web.routing import identify, route
from infra.web.services import services

router = APIRouter()
AsOf = Annotated[str | None, Query(max_length=32, description=(
    "The figures as they stood at the end of that day (YYYY-MM-DD); none: today."))]
CSV_TYPE = "text/csv; charset=utf-8; header=present"
TIERS = ("silver", "gold", "platinum")
# Stylesheet classes of each series' colour (portal.css, "The program in numbers").
QUARTER_ENDS = {(3, 31), (6, 30), (9, 30), (12, 31)}
STAGE_CSS = {"assessing": "s-assessing", "submitted": "s-submitted",
             "under_review": "s-under-review", "awaiting_clarification": "s-awaiting",
             "review_complete": "s-complete", "decided": "s-decided"}


@dataclass(frozen=True)
class ChartView:
    """A chart as the page shows it: its drawing, its legend, its figures as a table
    (every cell written as the reader writes it) and its CSV file."""

    key: Chart
    title: str
    svg: Markup
    series: tuple[Series, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    csv: str
    note: str = ""


async def _figures(request: Request, as_of: str | None) -> ProgramNumbers:
    found = services(request)
    day = as_of_day(as_of, found.program.program_today())
    await found.fresh.current(*READ_MODELS)
    return await numbers_as_of(found.pool, day)


@page(router, "/portal/numbers", Rule.OPERATOR)
async def numbers_page(request: Request, as_of: AsOf = None) -> HTMLResponse:
    """Certified cities and applications by stage over time, days between steps,
    reviewer load and deadlines, renewals due within a year: as of any day."""
    figures = await _figures(request, as_of)
    shown = portal(request)
    language = shown.language(request, await identify(request))
    return await shown.render(
        request, "portal/numbers.html", numbers=figures,
        charts=chart_views(figures, language),
        today=services(request).program.program_today())


@route(router, "GET", "/portal/numbers/{chart}.csv", Rule.OPERATOR, include_in_schema=False)
async def numbers_csv(request: Request, chart: str, as_of: AsOf = None) -> Response:
    """One chart's figures as CSV (RFC 4180, a header row of the field names, ISO dates):
    the rows `wwc stats --json` gives under the chart's name."""
    if chart not in CHARTS:
        raise NotFound(f"no chart {chart!r}: one of {', '.join(CHARTS)}")
    figures = await _figures(request, as_of)
    name = f"wwc-{chart}-{figures.as_of.isoformat()}.csv"
    return Response(to_csv(figures, chart), media_type=CSV_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# A spreadsheet runs a cell that starts with one of these as a formula; a reviewer's
# address is the only text of these files not written by the program itself.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(figures: ProgramNumbers, chart: Chart) -> bytes:
    """The chart's rows under a header of their field names; a missing value is empty."""
    columns, rows = figures.table(chart)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return value


def chart_views(figures: ProgramNumbers, language: Language) -> list[ChartView]:
    """The six charts, in the reader's language and conventions."""
    _ = language.gettext
    formats = language.formats
    number: Callable[[int], str] = formats.number
    day = formats.date(figures.as_of)

    def when(on: date) -> str:
        """A day of the time line: its quarter's end, or the day asked for itself."""
        if (on.month, on.day) in QUARTER_ENDS:
            return formats.quarter(on)
        return formats.date(on)

    def cells(values: Sequence[object]) -> tuple[str, ...]:
        return tuple("—" if v is None else number(v) if isinstance(v, int)
                     else formats.date(v) if isinstance(v, date) else str(v) for v in values)

    def csv_url(key: str) -> str:
        return f"/portal/numbers/{key}.csv?as_of={figures.as_of.isoformat()}"

    tiers = tuple(Series(f"s-{tier}", _(tier)) for tier in TIERS)
    views = []

    last = figures.certified[-1]
    chart = charts.Chart(
        key="certified", title=_("Certified cities, by tier"),
        description=_("Cities holding an announced certification at the end of each "
                      "quarter, by tier. On %(day)s: %(silver)s silver, %(gold)s gold, "
                      "%(platinum)s platinum, %(total)s in all.") % {
            "day": day, "silver": number(last.silver), "gold": number(last.gold),
            "platinum": number(last.platinum), "total": number(last.total)},
        categories=tuple(when(row.day) for row in figures.certified), series=tiers,
        values=tuple((row.silver, row.gold, row.platinum) for row in figures.certified))
    views.append(ChartView(
        key="certified", title=chart.title, svg=charts.columns(chart, number), series=tiers,
        headers=(_("Day"), *(s.label for s in tiers), _("Total")),
        rows=tuple(cells(r) for r in figures.table("certified")[1]), csv=csv_url("certified")))

    stages = tuple(Series(css, _(stage.replace("_", " "))) for stage, css in STAGE_CSS.items())
    now = figures.stages[-1]
    chart = charts.Chart(
        key="stages", title=_("Applications in each stage"),
        description=_("Applications open at the end of each quarter, by stage. On "
                      "%(day)s: %(total)s open.") % {"day": day, "total": number(now.total)},
        categories=tuple(when(row.day) for row in figures.stages), series=stages,
        values=tuple(tuple(getattr(row, stage) for stage in STAGE_CSS)
                     for row in figures.stages))
    views.append(ChartView(
        key="stages", title=chart.title, svg=charts.columns(chart, number), series=stages,
        headers=(_("Day"), *(s.label for s in stages), _("Total")),
        rows=tuple(cells(r) for r in figures.table("stages")[1]), csv=csv_url("stages")))

    steps = {"join_to_submission": _("Joined to submitted"),
             "submission_to_decision": _("Submitted to decided"),
             "decision_to_announcement": _("Decided to announced")}
    spans = (Series("s-median", _("median")), Series("s-p90", _("90th percentile")))
    chart = charts.Chart(
        key="durations", title=_("Days between the steps of an application"),
        description=_("The median and the 90th percentile (nearest rank) of the days each "
                      "step took, over the applications that took it by %(day)s.")
        % {"day": day},
        categories=tuple(steps[row.step] for row in figures.durations), series=spans,
        values=tuple((row.median_days or 0, row.p90_days or 0) for row in figures.durations))
    views.append(ChartView(
        key="durations", title=chart.title, svg=charts.bars(chart, number, stacked=False),
        series=spans, headers=(_("Step"), _("Applications"), _("Median (days)"),
                               _("90th percentile (days)")),
        rows=tuple((steps[row.step], *cells((row.applications, row.median_days,
                                              row.p90_days))) for row in figures.durations),
        csv=csv_url("durations")))

    load = (Series("s-in-hand", _("reviews in hand")), Series("s-met", _("deadlines met")),
            Series("s-missed", _("deadlines missed")))
    chart = charts.Chart(
        key="reviewers", title=_("Reviewer load and review deadlines"),
        description=_("For each reviewer on %(day)s: the reviews in hand, and the review "
                      "deadlines met and missed so far.") % {"day": day},
        categories=tuple(row.reviewer for row in figures.reviewers), series=load,
        values=tuple((row.open_reviews, row.deadlines_met, row.deadlines_missed)
                     for row in figures.reviewers))
    views.append(ChartView(
        key="reviewers", title=chart.title, svg=charts.bars(chart, number, stacked=False),
        series=load, headers=(_("Reviewer"), _("Reviews in hand"), _("Reviews completed"),
                              _("Deadlines met"), _("Deadlines missed")),
        rows=tuple(cells(r) for r in figures.table("reviewers")[1]),
        csv=csv_url("reviewers"),
        note="" if figures.reviewers else _("No reviewer had been assigned by that day.")))

    kinds = {"review": _("Reviews"), "clarification": _("Clarifications")}
    outcomes = (Series("s-met", _("met")), Series("s-missed", _("missed")),
                Series("s-pending", _("pending")))
    chart = charts.Chart(
        key="deadlines", title=_("Deadlines met or missed"),
        description=_("Review and clarification deadlines by %(day)s: met, missed, and "
                      "still pending.") % {"day": day},
        categories=tuple(kinds[row.kind] for row in figures.deadlines), series=outcomes,
        values=tuple((row.met, row.missed, row.pending) for row in figures.deadlines))
    views.append(ChartView(
        key="deadlines", title=chart.title, svg=charts.bars(chart, number, stacked=True),
        series=outcomes, headers=(_("Deadline"), _("Met"), _("Missed"), _("Pending")),
        rows=tuple((kinds[row.kind], *cells((row.met, row.missed, row.pending)))
                   for row in figures.deadlines), csv=csv_url("deadlines")))

    def month(name: str) -> str:
        return formats.month(date.fromisoformat(f"{name}-01"))

    due = sum(row.total for row in figures.renewals)
    chart = charts.Chart(
        key="renewals", title=_("Renewals due within a year"),
        description=_("Certifications in force on %(day)s that expire within a year, by "
                      "month and tier: %(total)s in all.") % {"day": day, "total": number(due)},
        categories=tuple(month(row.month) for row in figures.renewals), series=tiers,
        values=tuple((row.silver, row.gold, row.platinum) for row in figures.renewals))
    views.append(ChartView(
        key="renewals", title=chart.title, svg=charts.columns(chart, number), series=tiers,
        headers=(_("Month"), *(s.label for s in tiers), _("Total")),
        rows=tuple((month(row.month), *cells((row.silver, row.gold, row.platinum, row.total)))
                   for row in figures.renewals), csv=csv_url("renewals"),
        note=language.ngettext(
            "%(n)s certification is held past its expiry while its renewal is decided.",
            "%(n)s certifications are held past their expiry while their renewal is "
            "decided.", figures.held_past_expiry) % {"n": number(figures.held_past_expiry)}
        if figures.held_past_expiry else ""))
    return views

