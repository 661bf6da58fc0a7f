"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched. Each
is an image with an accessible name and description (`role="img"`, its `<title>` and
`<desc>`); the page gives its figures as a table and a CSV file beside it, so nothing is
said by the drawing alone. Colours come from the stylesheet (a class per series), and
the drawing scales to its box (a viewBox, no fixed size), so it never runs off a phone.

Two shapes: columns along a time line (stacked: cities by tier, applications by stage,
renewals by tier) and horizontal bars by name (stacked or side by side: days per step,
reviewers, deadlines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil

from markupsafe import Markup, escape

WIDTH = 720
LABEL_WIDTH = 8  # a character of the labels, at most, in the drawing's units (13 px font)


@dataclass(frozen=True)
class Series:
    """One series of a chart: the stylesheet's class for its colour, and its name."""

    css: str
    label: str


@dataclass(frozen=True)
class Chart:
    """What a chart draws: per category (a day, a month, a name), one value per series."""

    key: str
    title: str
    description: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    values: tuple[tuple[int, ...], ...]  # [category][series]


def scale_top(largest: int) -> tuple[int, int]:
    """The top of the value axis and its step: 1, 2 or 5 times a power of ten, at most
    five steps up to or past `largest` (never 0, so an empty chart still has an axis)."""
    if largest <= 0:
        return 1, 1
    power = 10 ** (len(str(largest)) - 1)
    for step in (power // 10, power // 5, power // 2, power, 2 * power, 5 * power):
        if step >= 1 and ceil(largest / step) <= 5:
            return step * ceil(largest / step), step
    raise AssertionError("5 x 10^k reaches any number of k + 1 digits in two steps")


def _svg(chart: Chart, height: int, body: list[str]) -> Markup:
    title, desc = f"{chart.key}-chart-title", f"{chart.key}-chart-desc"
    return Markup(
        f'<svg class="chart numbers" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title} {desc}" data-chart-svg="{escape(chart.key)}">'
        f'<title id="{title}">{escape(chart.title)}</title>'
        f'<desc id="{desc}">{escape(chart.description)}</desc>{"".join(body)}</svg>')


def _hover(category: str, chart: Chart, values: Sequence[int],
           number: Callable[[int], str]) -> str:
    """A tooltip: the category and each series' value."""
    parts = ", ".join(f"{s.label} {number(v)}" for s, v in zip(chart.series, values,
                                                               strict=True))
    return f"<title>{escape(category)}: {escape(parts)}</title>"


def columns(chart: Chart, number: Callable[[int], str]) -> Markup:
    """Stacked columns, one per category from left to right (a time line), labelled
    under every few columns so that no two labels overlap, the last always."""
    height, left, bottom, top, right = 300, 52, 36, 12, 8
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak, step = scale_top(max((sum(v) for v in chart.values), default=0))
    count = max(len(chart.categories), 1)
    band = plot_w / count
    body = _value_axis(peak, step, left, top, plot_w, plot_h, number)
    base = top + plot_h
    for index, (category, values) in enumerate(zip(chart.categories, chart.values,
                                                   strict=True)):
        x = left + index * band + band * 0.15
        y = float(base)
        parts = [_hover(category, chart, values, number)]
        for series, value in zip(chart.series, values, strict=True):
            if value:
                tall = plot_h * value / peak
                y -= tall
                parts.append(f'<rect class="{series.css}" x="{x:.1f}" y="{y:.1f}" '
                             f'width="{band * 0.7:.1f}" height="{tall:.1f}"></rect>')
        body.append(f'<g data-category="{escape(category)}">{"".join(parts)}</g>')
    body += _time_labels(chart.categories, left, band, base + 22)
    return _svg(chart, height, body)


def _time_labels(categories: Sequence[str], left: int, band: float, y: int) -> list[str]:
    """Labels under every few columns from the left, as many columns apart as the widest
    label needs, and under the last column, ending at its centre; a regular label that
    would run into the last one is left out."""
    if not categories:
        return []
    widest = max(len(c) for c in categories) * LABEL_WIDTH + 12
    every = max(1, ceil(widest / band))
    last = len(categories) - 1
    centre = left + last * band + band / 2
    labels = [f'<text class="label" x="{centre:.1f}" y="{y}" text-anchor="end">'
              f'{escape(categories[last])}</text>']
    last_starts = centre - len(categories[last]) * LABEL_WIDTH - 12
    for index in range(0, last, every):
        middle = left + index * band + band / 2
        if middle + len(categories[index]) * LABEL_WIDTH / 2 < last_starts:
            labels.append(f'<text class="label" x="{middle:.1f}" y="{y}" '
                          f'text-anchor="middle">{escape(categories[index])}</text>')
    return labels


def _value_axis(peak: int, step: int, left: int, top: int, plot_w: int, plot_h: int,
                number: Callable[[int], str]) -> list[str]:
    lines = []
    for value in range(0, peak + 1, step):
        y = top + plot_h - plot_h * value / peak
        lines.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"></line><text class="label" x="{left - 6}" '
                     f'y="{y + 4:.1f}" text-anchor="end">{escape(number(value))}</text>')
    return lines


def bars(chart: Chart, number: Callable[[int], str], *, stacked: bool) -> Markup:
    """Horizontal bars, one row per category (a name on its left): the series stacked in
    one bar, or side by side as thinner bars. Each bar ends with its value."""
    left, right, top, row_gap = 200, 56, 8, 10
    per_row = 22 if stacked else 14 * len(chart.series)
    height = top * 2 + max(len(chart.categories), 1) * (per_row + row_gap)
    plot_w = WIDTH - left - right
    largest = max(((sum(v) if stacked else max(v, default=0)) for v in chart.values),
                  default=0)
    peak, _ = scale_top(largest)
    body = []
    for index, (category, values) in enumerate(zip(chart.categories, chart.values,
                                                   strict=True)):
        y = top + index * (per_row + row_gap)
        shown = category if len(category) <= 27 else category[:26] + "…"
        parts = [_hover(category, chart, values, number),
                 f'<text class="label" x="{left - 8}" y="{y + per_row / 2 + 4:.1f}" '
                 f'text-anchor="end">{escape(shown)}</text>']
        x = float(left)
        for position, (series, value) in enumerate(zip(chart.series, values, strict=True)):
            long = plot_w * value / peak
            if stacked:
                if value:
                    parts.append(f'<rect class="{series.css}" x="{x:.1f}" y="{y}" '
                                 f'width="{long:.1f}" height="{per_row}"></rect>')
                x += long
            else:
                bar_y = y + position * 14
                parts.append(f'<rect class="{series.css}" x="{left}" y="{bar_y}" '
                             f'width="{long:.1f}" height="12"></rect><text class="value" '
                             f'x="{left + long + 4:.1f}" y="{bar_y + 10}">'
                             f'{escape(number(value))}</text>')
        if stacked:
            parts.append(f'<text class="value" x="{x + 4:.1f}" y="{y + per_row / 2 + 4:.1f}">'
                         f'{escape(number(sum(values)))}</text>')
        body.append(f'<g data-category="{escape(category)}">{"".join(parts)}</g>')
    return _svg(chart, height, body)
