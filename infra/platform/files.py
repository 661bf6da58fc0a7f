"""Reading JSON and YAML documents that operators write by hand.

Stricter than the parsers' defaults where the default would silently take a typo: a key
written twice is refused (both parsers keep the last one, so a criterion answered
`true` and then `false` was scored as `false` without a word). Text that is not UTF-8 and
nesting deeper than anything we read are refused too, each as one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from infra.platform.errors import InvalidInput

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DocumentError(InvalidInput):
    """A file that cannot be read or parsed; the message names the file and the problem."""


class DuplicateKey(ValueError):
    """A mapping names a key twice."""


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key written twice in one mapping (a merge, `<<:`, may
    still be overridden: that is what it is for)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the safe loader says so itself
            if earlier is not None:
                raise ConstructorError(
                    None, None, f"duplicate key {_shown(key)} (first on line "
                    f"{earlier.start_mark.line + 1})", key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _shown(key: object) -> str:
    return repr(key)[:80]


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(f"duplicate key {_shown(key)}")
            seen.add(key)
    return found


def loads_json(text: str | bytes) -> Any:
    """JSON, refusing a key written twice in an object (`DuplicateKey`)."""
    return json.loads(text, object_pairs_hook=_refuse_duplicates)


def loads_yaml(text: str) -> Any:
    """YAML (the safe subset), refusing a key written twice in a mapping."""
    return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: no arbitrary objects


def load_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise DocumentError(f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} "
                            f"at offset {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            return loads_json(text)
        return loads_yaml(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except DuplicateKey as error:
        raise DocumentError(f"{path}: not valid JSON: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DocumentError(f"{path}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        # Both parsers recurse once per level; thousands of levels are no document of ours.
        raise DocumentError(f"{path}: nested too deeply to read") from None
