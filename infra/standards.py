"""Loading standards: the ones shipped in `domain/standards/` and an operator's own files."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from domain.catalog import StandardCatalog
from domain.errors import StandardError
from domain.standard import Standard, parse_standard
from infra.files import load_document

_SUFFIXES = (".yaml", ".yml", ".json")


# Parsing is the cost: the workers load the catalog at every city's cycle boundary, and
# parsing the YAML afresh each time was a seventh of the worker's CPU in the lifecycle
# benchmark's profile. Standards are immutable values, so a parsed one can be shared.


@functools.cache
def _shipped() -> tuple[Standard, ...]:
    """The package's own files: they do not change while the process runs."""
    folder = resources.files("domain") / "standards"
    return tuple(parse_standard(yaml.safe_load(entry.read_text("utf-8")), origin=entry.name)
                 for entry in sorted(folder.iterdir(), key=lambda item: item.name)
                 if entry.name.endswith(_SUFFIXES))


def builtin_standards() -> list[Standard]:
    return list(_shipped())


# An operator's file, parsed again only when its modification time or size changes.
_parsed_files: dict[Path, tuple[tuple[int, int], Standard]] = {}


def load_standard_file(path: Path) -> Standard:
    stat = path.stat()
    seen = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed_files.get(path)
    if cached is not None and cached[0] == seen:
        return cached[1]
    standard = parse_standard(load_document(path), origin=str(path))
    _parsed_files[path] = (seen, standard)
    return standard


def standard_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)


def load_catalog(extra: Iterable[Path] = ()) -> StandardCatalog:
    """The shipped standards plus operator files (each a file or a folder of files)."""
    standards = builtin_standards()
    for path in extra:
        for file in standard_files(path) if path.is_dir() else [path]:
            standard = load_standard_file(file)
            if any(s.id == standard.id for s in standards):
                raise StandardError(f"{file}: standard {standard.id} is already defined")
            standards.append(standard)
    return StandardCatalog(standards)


class StandardsFolder:
    """The shipped standards plus the operator's folder (which may not exist yet), read
    afresh at every `load`: the workers' standards source and every front door's."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self) -> StandardCatalog:
        return load_catalog([self.folder] if self.folder.is_dir() else [])
