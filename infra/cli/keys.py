"""`wwc keys`: the payload keys (README, Security): which there are, and rotating them.
Key material is never printed; only key ids are."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli.common import cli_settings, confirm
from infra.temporal.keys import configured_keys, key_file, rotate_key_file

keys_app = typer.Typer(help="The keys payloads sent through Temporal are sealed with.",
                       no_args_is_help=True)


@keys_app.command("list")
def list_command() -> None:
    """The key ids and which one seals (never the keys)."""
    settings = cli_settings()
    keys = configured_keys(settings, embedded=False)
    where = "WWC_PAYLOAD_KEYS" if settings.payload_keys else str(key_file(settings))
    typer.echo(f"keys from {where}:")
    for key_id in keys.ids:
        typer.echo(f"  {key_id}" + ("  (seals; opens)" if key_id == keys.encrypting
                                    else "  (opens)"))


@keys_app.command("rotate")
def rotate_command(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Put a new sealing key first in the key file, keeping the others to open what they
    sealed; restart the service (every worker, API and CLI host) to seal with it."""
    settings = cli_settings()
    if settings.payload_keys:
        raise typer.BadParameter("the keys come from WWC_PAYLOAD_KEYS: rotate them there "
                                 "(README, Security)")
    path = key_file(settings)
    configured_keys(settings, embedded=False)  # it exists and reads
    if not yes:
        confirm(f"Add a new sealing key to {path}?")
    new_id = rotate_key_file(path)
    typer.echo(f"{path}: new sealing key {new_id}; the others still open what they sealed. "
               "Restart the service (and copy the file to every host that uses it).")
