"""Loading standards: the ones shipped in `domain/standards/` and an operator's own files."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from domain.catalog import StandardCatalog
from domain.errors import StandardError
from domain.standard import Standard, parse_standard
from infra.files import load_document

_SUFFIXES = (".yaml", ".yml", ".json")


def builtin_standards() -> list[Standard]:
    folder = resources.files("domain") / "standards"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(_SUFFIXES):
            found.append(parse_standard(yaml.safe_load(entry.read_text("utf-8")),
                                        origin=entry.name))
    return found


def load_standard_file(path: Path) -> Standard:
    return parse_standard(load_document(path), origin=str(path))


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
