"""Loading the guidance shipped beside the standards (`domain/standards/guidance/`): what
counts as evidence for each criterion, in every language. Every shipped standard has
its file, checked against the standard when loaded (`domain.guidance.parse_guidance`):
a criterion without a sentence in a language stops the load, naming it. An operator's
own standard has none unless it ships one, and its pages then show no guidance."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources

import yaml

from domain.errors import StandardError
from domain.guidance import Guidance, parse_guidance
from infra.standards.folder import builtin_standards

FOLDER = "guidance"


@functools.cache
def shipped_guidance() -> Mapping[str, Guidance]:
    """Each shipped standard's guidance, by standard id (read once: the files do not
    change while the process runs)."""
    folder = resources.files("domain") / "standards" / FOLDER
    found: dict[str, Guidance] = {}
    for standard in builtin_standards():
        entry = folder / f"{standard.id}.yaml"
        if not entry.is_file():
            raise StandardError(f"{FOLDER}/{standard.id}.yaml: standard {standard.id} "
                                "ships without guidance for its criteria")
        found[standard.id] = parse_guidance(yaml.safe_load(entry.read_text("utf-8")),
                                            standard, origin=f"{FOLDER}/{entry.name}")
    return found
