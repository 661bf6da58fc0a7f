"""`wwc outbox`: the program's outgoing mail, as the service recorded and sent it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra import queries
from infra.cli.common import async_command
from infra.config import Settings
from infra.service_database import open_pool


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
    settings = Settings.from_env()
    async with open_pool(settings, size=1) as pool:
        rows = await queries.outbox(pool, to=to, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                   for k, v in row.items()}))
        return
    table = Table("Created", "To", "Lang", "Message", "Subject", "Status", "Tries",
                  title=f"Outbox ({len(rows)} newest)")
    for row in rows:
        status = row["status"] + (f" ({row['last_error']})" if row["last_error"] else "")
        table.add_row(f"{row['created_at']:%Y-%m-%d %H:%M}", row["recipient"],
                      row["language"], row["kind"], row["subject"], status,
                      str(row["attempts"]))
    Console().print(table)
    if not rows:
        typer.echo("no mail yet" + (f" to {to}" if to else ""))
