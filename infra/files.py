"""Reading JSON and YAML documents that operators write by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra.errors import InvalidInput


class DocumentError(InvalidInput):
    """A file that cannot be read or parsed; the message names the file and the problem."""


def load_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DocumentError(f"{path}: not valid YAML{where}: {problem}") from None
