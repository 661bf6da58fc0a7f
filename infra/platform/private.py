"""What the service writes is its operator's alone: the data directory (the event store,
Temporal's database with every command's payload, the caught mail with private
decisions, the program clock) and the backups.

Every `wwc` command runs under umask 077, so each file and folder it creates, and each
one its children create (PostgreSQL, the Temporal dev server), is readable by its owner
only. The data directory itself is kept 0700, except when running as root: the embedded
PostgreSQL then runs as a system user of its own (the package makes it), which must
pass through the data directory to its own folder, so it is 0711 (others may pass
through to a name they know, never list it, and every file in it is 0600). The package
also widens every folder above its data folder each time a process opens it, so the
data directory is narrowed again after each opening (`infra/postgres/db.py`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
# Kept by PostgreSQL itself (0700, owned by its user when running as root).
_NOT_OURS = frozenset({"postgres"})


def keep_files_private() -> None:
    """Files and folders created from now on, by this process and its children, are
    the owner's only."""
    os.umask(PRIVATE_UMASK)


def folder_mode() -> int:
    return 0o711 if os.geteuid() == 0 else 0o700


def private_folder(path: Path) -> Path:
    """`path`, created if missing, readable by its owner only (see the module's doc)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.geteuid() and stat.S_IMODE(path.stat().st_mode) != folder_mode():
        path.chmod(folder_mode())
    return path


def tighten(data_dir: Path) -> None:
    """Take group and others' bits off what an older version left in the data
    directory (files 0644, folders 0755), PostgreSQL's own folder aside."""
    for entry in data_dir.iterdir():
        if entry.name in _NOT_OURS or entry.is_symlink():
            continue
        paths = [entry, *entry.rglob("*")] if entry.is_dir() else [entry]
        for path in paths:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077 and not path.is_symlink() and path.lstat().st_uid == os.geteuid():
                path.chmod(mode & 0o700)
