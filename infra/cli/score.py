"""`wwc score`: score a self-assessment file offline, with no service running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.answers import check_answers, parse_self_assessment
from domain.report import Report, build_report
from domain.standard import Standard
from infra.cli.common import cell, shown
from infra.platform.files import load_document
from infra.readside.report_formats import report_json
from infra.standards.folder import load_catalog


def score_command(
    file: Annotated[Path, typer.Argument(help="Self-assessment file (.json, .yaml or .yml).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    standards: Annotated[
        list[Path] | None,
        typer.Option("--standards", help="Extra standard file or folder (repeatable)."),
    ] = None,
) -> None:
    """Score a self-assessment offline: tier, points, per-practice breakdown and the report."""
    document = load_document(file)
    assessment = parse_self_assessment(document, origin=str(file))
    catalog = load_catalog(standards or [])
    standard = catalog[assessment.standard]
    answers = assessment.to_answers()
    check_answers(standard, answers, require_evidence=False)
    report = build_report(standard, answers)
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2))
    else:
        print_report(Console(), standard, report)


def print_report(console: Console, standard: Standard, report: Report) -> None:
    result = report.score
    tier = result.tier.value.upper() if result.tier.certified else "NOT CERTIFIED"
    console.print(Text.assemble((shown(standard.title), "bold"), f" ({shown(standard.id)})"))
    console.print(f"Tier: [bold]{tier}[/bold]   points {result.points}/{result.total}   "
                  f"{result.percent:.2f} %")
    if result.criteria_tier != result.tier:
        console.print(f"(criteria alone earn {result.criteria_tier.value}; a gate is not met)")
    table = Table("Practice", "Met", "Of", "Share")
    for practice in result.practices:
        share = 100 * practice.met / practice.total if practice.total else 0.0
        table.add_row(cell(practice.name), str(practice.met), str(practice.total),
                      f"{share:.0f} %")
    console.print(table)
    for gate in result.gates:
        console.print(f"Gate {gate.id}: {'met' if gate.met else 'NOT met'} "
                      f"(outcomes met: {', '.join(gate.options_met) or 'none'})")
    names = {p.code: p.name for p in standard.practices}
    console.print(cell("Strengths: " + (", ".join(names[c] for c in report.strengths)
                                        or "none")))
    console.print(cell("Areas to improve: " + (", ".join(names[c] for c in report.improve)
                                               or "none")))
    step = report.next_tier
    if step is None:
        console.print("Next tier: already at the highest tier")
    else:
        needs = ", ".join(step.criteria) or "no more criteria"
        gates = f" and gate {', '.join(step.gates)}" if step.gates else ""
        console.print(f"Next tier ({step.tier.value}): {needs}{gates}")
