"""Turning scores and reports into what operators and cities read: JSON and Markdown."""

from __future__ import annotations

from typing import Any

from domain.report import Report
from domain.standard import Standard


def report_json(report: Report) -> dict[str, Any]:
    result = report.score
    return {
        "standard": result.standard,
        "tier": result.tier.value,
        "criteria_tier": result.criteria_tier.value,
        "points": result.points,
        "total": result.total,
        "percent": result.percent,
        "practices": [p.model_dump(mode="json") for p in result.practices],
        "components_worked": list(result.components_worked),
        "gates": [g.model_dump(mode="json") for g in result.gates],
        "met": list(result.met),
        "blocked_by_prerequisite": list(result.blocked),
        "strengths": list(report.strengths),
        "improve": list(report.improve),
        "honor_roll": report.honor_roll,
        "next_tier": report.next_tier.model_dump(mode="json") if report.next_tier else None,
    }


def _practice_names(standard: Standard) -> dict[str, str]:
    return {p.code: p.name for p in standard.practices}


def report_markdown(standard: Standard, report: Report, *, city: str | None = None) -> str:
    result = report.score
    names = _practice_names(standard)
    title = f"# Data-practice report{f': {city}' if city else ''}"
    tier = result.tier.value.capitalize() if result.tier.certified else "Not certified"
    lines = [
        title,
        "",
        f"Standard: **{standard.title}** (`{standard.id}`)",
        "",
        f"Result: **{tier}** with {result.points} of {result.total} criteria met "
        f"({result.percent:.1f} %)." + (" Listed on the Honor Roll." if report.honor_roll
                                          else ""),
        "",
        "## Criteria met per practice",
        "",
        "| Practice | Met | Of | Share |",
        "|---|---:|---:|---:|",
    ]
    for practice in result.practices:
        share = 100 * practice.met / practice.total if practice.total else 0.0
        lines.append(f"| {practice.name} | {practice.met} | {practice.total} | {share:.0f} % |")
    for gate in result.gates:
        met = ", ".join(gate.options_met) or "none"
        lines += ["", f"Gate — {gate.label}: **{'met' if gate.met else 'not met'}** "
                      f"(outcomes met: {met})."]
    if result.blocked:
        lines += ["", "Claimed but blocked by an unmet prerequisite: "
                      + ", ".join(result.blocked) + "."]
    lines += ["", "## Strengths", ""]
    lines += [f"- {names[c]}" for c in report.strengths] or ["- none yet"]
    lines += ["", "## Areas to improve", ""]
    lines += [f"- {names[c]}" for c in report.improve] or ["- none"]
    lines += ["", "## Path to the next tier", ""]
    step = report.next_tier
    if step is None:
        lines.append("The city holds the highest tier.")
    else:
        lines.append(f"To reach **{step.tier.value}**, meet these "
                     f"{len(step.criteria)} criteria (the smallest such set):")
        lines.append("")
        for code in step.criteria:
            criterion = standard.criterion(code)
            lines.append(f"- `{code}` {criterion.label} ({names[criterion.practice]})")
        labels = {g.id: g.label for g in standard.gates}
        lines += [f"- and the gate: {labels[gate_id]}" for gate_id in step.gates]
    return "\n".join(lines) + "\n"
