"""The numbers page's charts (`infra/web/portal/charts.py`): an accessible name and
description, names escaped, a value axis that reaches every value in at most five round
steps, and time labels that never run into each other."""

from __future__ import annotations

import re
from itertools import pairwise
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from infra.web.portal.charts import LABEL_WIDTH, Chart, Series, bars, columns, scale_top

SVG = "{http://www.w3.org/2000/svg}"


def chart(categories: tuple[str, ...], key: str = "test") -> Chart:
    return Chart(key=key, title="Cities <by> tier", description="On Dec 31: 3 & more.",
                 categories=categories, series=(Series("s-silver", "silver"),
                                                Series("s-gold", "gold")),
                 values=tuple((index % 3, index % 2) for index in range(len(categories))))


def parsed(markup: str) -> ElementTree.Element:
    # As text: Markup's own replace would escape what it puts in.
    return ElementTree.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ',
                                                      1))


@given(st.integers(0, 10**9))
def test_the_value_axis_reaches_every_value_in_at_most_five_round_steps(largest: int) -> None:
    top, step = scale_top(largest)
    assert top >= largest
    assert top % step == 0
    assert 1 <= top // step <= 5
    assert re.fullmatch(r"[125]0*", str(step))


def test_a_chart_is_an_image_named_and_described_its_text_escaped() -> None:
    drawn = columns(chart(("Q1 2024", "Q2 2024", "<b>Dec 3</b>")), str)
    svg = parsed(drawn)
    assert svg.get("role") == "img"
    named = [svg.find(f".//*[@id='{ident}']") for ident in svg.get("aria-labelledby", "").split()]
    assert [e.text for e in named if e is not None] == ["Cities <by> tier",
                                                        "On Dec 31: 3 & more."]
    assert "<b>" not in drawn  # a category is text, never markup
    bars_svg = parsed(bars(chart(("ana@review.test", "<i>x</i>")), str, stacked=False))
    assert bars_svg.get("role") == "img"


def test_time_labels_never_overlap_and_the_last_is_always_shown() -> None:
    for count in (1, 2, 5, 17, 40, 120):
        days = tuple(f"T{index % 4 + 1} de {2000 + index // 4}" for index in range(count - 1))
        svg = parsed(columns(chart((*days, "31 de dez. de 2026")), str))
        spans = []
        for text in svg.iter(f"{SVG}text"):
            if text.get("text-anchor") in ("middle", "end") and float(text.get("y", 0)) > 280:
                width = len(text.text or "") * LABEL_WIDTH
                x = float(text.get("x", 0))
                start = x - width if text.get("text-anchor") == "end" else x - width / 2
                spans.append((start, start + width, text.text))
        spans.sort()
        assert spans[-1][2] == "31 de dez. de 2026", count
        for (_, end, _), (start, _, _) in pairwise(spans):
            assert end < start, (count, spans)
