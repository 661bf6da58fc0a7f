"""Where a page may send the browser after signing in (`?next=`): a path on this site,
nothing else. The same rule is checked again in the page (`static/portal.js`).

A value passes when it is a path-absolute URL (`/` then anything but `/` or `\\`), with
no backslash, whitespace or control character, and stays so after percent-decoding
(browsers treat `\\` as `/`, and drop tabs and newlines, so `/\\evil.example` and
`/%09/evil.example` would land on another site)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

DEFAULT = "/portal"
MAX_LENGTH = 500
_UNSAFE = re.compile(r"[\\\s\x00-\x1f\x7f]")


def _sound(value: str) -> bool:
    if not value.startswith("/") or value[1:2] in ("/", "\\") or _UNSAFE.search(value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_next(value: str | None, default: str = DEFAULT) -> str:
    """`value` when it is a path on this site, else `default`."""
    if not value or len(value) > MAX_LENGTH:
        return default
    seen = value
    for _ in range(3):  # encoded, encoded twice: every reading must be a local path
        if not _sound(seen):
            return default
        decoded = unquote(seen)
        if decoded == seen:
            return value
        seen = decoded
    return default
