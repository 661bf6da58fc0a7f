"""`wwc report CITY --html FILE`: the page shows the report's Markdown as HTML, never its
marks (the standard's id read "(`wwc-2022`)", its backticks and all)."""

from __future__ import annotations

from domain.report import build_report
from infra.cli.reading import report_html
from infra.readside.report_formats import report_markdown
from tests.factories import WWC_2022, answers


def test_the_html_report_renders_code_and_bold_instead_of_printing_their_marks() -> None:
    report = build_report(WWC_2022, answers(WWC_2022, 20))
    page = report_html(report_markdown(WWC_2022, report, city="Rock <Hill>, SC"), report)
    assert "(<code>wwc-2022</code>)" in page
    assert "Result: <strong>" in page
    assert "`" not in page
    assert "**" not in page
    assert "Rock &lt;Hill&gt;, SC" in page  # what a city typed stays text
    assert "<li><code>" in page  # the path to the next tier names its criteria as code
