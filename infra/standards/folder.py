"""Loading standards: the ones shipped in `domain/standards/` and an operator's own files."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from domain.catalog import StandardCatalog
from domain.errors import DomainError, StandardError
from domain.model import Frozen
from domain.standard import Standard, parse_standard
from infra.platform.errors import ServiceError
from infra.platform.files import load_document

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


# An operator's file, parsed again only when its modification time or size changes; a
# file that cannot be used is kept with its problem, so it is reported, not parsed again.
_parsed_files: dict[Path, tuple[tuple[int, int], Standard | str]] = {}


class StandardProblem(Frozen):
    """An operator's standard file that was skipped, and why (one line)."""

    file: str
    problem: str


def _parse_file(path: Path) -> Standard:
    return parse_standard(load_document(path), origin=str(path))


def _parsed(path: Path) -> Standard | str:
    """The file's standard, or what is wrong with it, cached by modification time."""
    stat = path.stat()
    seen = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed_files.get(path)
    if cached is not None and cached[0] == seen:
        return cached[1]
    found: Standard | str
    try:
        found = _parse_file(path)
    except (ServiceError, DomainError) as error:
        found = str(error).removeprefix(f"{path}: ")
    except Exception as error:  # a file must never stop the others: said, not raised
        found = f"cannot be read as a standard ({type(error).__name__}: {error})"
    _parsed_files[path] = (seen, found)
    return found


def load_standard_file(path: Path) -> Standard:
    """The standard in `path`, or the error saying what is wrong with it."""
    found = _parsed(path)
    if isinstance(found, str):
        raise StandardError(f"{path}: {found}")
    return found


def standard_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)


def load_catalog(extra: Iterable[Path] = ()) -> StandardCatalog:
    """The shipped standards plus operator files (each a file or a folder of files), for
    a command that names them (`wwc score --standards`): any problem is an error."""
    standards = builtin_standards()
    for path in extra:
        for file in standard_files(path) if path.is_dir() else [path]:
            standard = load_standard_file(file)
            if any(s.id == standard.id for s in standards):
                raise StandardError(f"{file}: standard {standard.id} is already defined")
            standards.append(standard)
    return StandardCatalog(standards)


def survey_folder(folder: Path) -> tuple[StandardCatalog, tuple[StandardProblem, ...]]:
    """The shipped standards plus each usable file of the operator's `folder`, and the
    files skipped with their problem: one broken file (or a second definition of a
    standard's id) must not stop the program, which runs on the others. (A skipped file
    is reported by `wwc up` at start, `wwc status --service` and `/readyz`.)"""
    standards = builtin_standards()
    problems: list[StandardProblem] = []
    for file in standard_files(folder):
        found: Standard | str
        try:
            found = _parsed(file)
        except OSError as error:  # gone or unreadable since it was listed
            found = f"cannot read ({error.strerror})"
        if isinstance(found, Standard) and any(s.id == found.id for s in standards):
            found = f"standard {found.id} is already defined (by another file)"
        if isinstance(found, str):
            problems.append(StandardProblem(file=str(file), problem=found))
        else:
            standards.append(found)
    return StandardCatalog(standards), tuple(problems)


class StandardsFolder:
    """The shipped standards plus the operator's folder (which may not exist yet), read
    afresh at every `load`: the workers' standards source and every front door's. A file
    that cannot be used is skipped; `problems` says which and why."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self) -> StandardCatalog:
        return survey_folder(self.folder)[0]

    def problems(self) -> tuple[StandardProblem, ...]:
        return survey_folder(self.folder)[1]
