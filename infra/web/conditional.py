"""Conditional GETs (RFC 9110, section 13): an answer's validators, a strong `ETag` of its
bytes and a `Last-Modified`, and whether a request's `If-None-Match` or
`If-Modified-Since` lets it be answered `304 Not Modified`.

Last-Modified is the time this process first served the answer's current bytes
(`ChangeTimes`), not a time read from the data: an answer computed from read models that
trail the event log by a moment would otherwise carry the time of an event it does not
show yet, and a client holding it would be told "not modified" once it does. A later
first sight is always after the change it shows, so the date only ever errs late (a
needless download, never a stale copy). The ETag is exact, and a client that sends
If-None-Match is judged by it alone."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

# What a 304 repeats of the answer it stands for (RFC 9110, 15.4.5), and nothing else.
KEPT_BY_304 = frozenset({b"etag", b"last-modified", b"cache-control", b"vary", b"expires",
                         b"content-location"})
CONDITIONS = frozenset({b"if-none-match", b"if-modified-since"})
MAX_KEYS = 2_000


def strong_etag(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag, on any server."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _parsed_date(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _opaque(tag: str) -> str:
    """The tag compared the weak way (RFC 9110, 8.8.3.2): W/ ignored."""
    return tag.strip().removeprefix("W/")


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    return _opaque(etag) in {_opaque(tag) for tag in if_none_match.split(",") if tag.strip()}


def not_modified(request_headers: Mapping[str, str], etag: str | None,
                 last_modified: str | None) -> bool:
    """Whether the caller already holds this answer. If-None-Match, when sent, decides
    alone (If-Modified-Since is then ignored, RFC 9110 13.1.3); a date that is not an
    HTTP date is ignored."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return etag is not None and etag_matches(if_none_match, etag)
    since = request_headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    asked, changed = _parsed_date(since), _parsed_date(last_modified)
    return asked is not None and changed is not None and changed <= asked


def header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as a dict of lower-case names (the first of a repeated name)."""
    found: dict[str, str] = {}
    for name, value in raw:
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def headers_of_304(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in headers if name.lower() in KEPT_BY_304]


class ChangeTimes:
    """When this process first served the current bytes of each answer (by a key the
    caller names, e.g. its path and query): their Last-Modified. In whole seconds (as HTTP
    dates are), and always a second after the one before for the same key, so two
    changes within one second still read as two. The least recently asked keys are
    forgotten first; a forgotten key comes back dated when it is asked again (late, never
    early)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 limit: int = MAX_KEYS) -> None:
        self._clock = clock
        self._limit = limit
        self._seen: OrderedDict[str, tuple[str, datetime]] = OrderedDict()

    def of(self, key: str, etag: str) -> datetime:
        seen = self._seen.get(key)
        if seen is not None and seen[0] == etag:
            self._seen.move_to_end(key)
            return seen[1]
        moment = self._clock().replace(microsecond=0)
        if seen is not None:
            moment = max(moment, seen[1] + timedelta(seconds=1))
        self._seen[key] = (etag, moment)
        self._seen.move_to_end(key)
        if len(self._seen) > self._limit:
            self._seen.popitem(last=False)
        return moment
