"""`wwc outbox`: the program's outgoing mail, as the service recorded and sent it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from infra.cli.common import async_command, cli_settings, json_safe, shown
from infra.postgres.service_database import open_pool
from infra.readside import queries


@async_command
async def outbox_command(
    to: Annotated[str | None, typer.Option("--to", help="Only the mail to this address.")]
    = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")]
    = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The program's outgoing mail, newest first: when, to whom, which message, whether it
    was sent (and after how many attempts), held (no mail server) or still pending."""
    settings = cli_settings()
    async with open_pool(settings, size=1) as pool:
        rows = await queries.outbox(pool, to=to, limit=limit)
    if as_json:
        for row in rows:
            fields = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                      for k, v in row.model_dump().items()}
            typer.echo(json_safe(json.dumps(fields)))
        return
    # One line per message (it reads in any terminal width and greps well).
    for row in rows:
        status = f"{row.status} ({row.attempts} tr{'y' if row.attempts == 1 else 'ies'})"
        if row.last_error:
            status += f", last error: {row.last_error}"
        typer.echo(f"{row.created_at:%Y-%m-%d %H:%M}  {row.kind:<22} "
                   f"{shown(row.recipient)} [{row.language}]  {shown(row.subject)}  "
                   f"-- {shown(status)}")
    if not rows:
        typer.echo("no mail yet" + (f" to {to}" if to else ""))
