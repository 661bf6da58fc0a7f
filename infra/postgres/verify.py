"""Walking the log to check every stream's hash chain (`wwc verify`)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from infra.postgres.db import Connection

# Each row recomputed server-side with the same digest the append used; `lag` gives the
# previous event of the same stream, whose hash this row must chain from.
_WALK = """
SELECT position, stream_id, stream_version, event_type,
       hash = wwc_event_digest(prev_hash, stream_id, stream_version, event_id, event_type,
                               schema_version, data, metadata, recorded_at) AS content_ok,
       prev_hash = coalesce(lag(hash) OVER w,
                            sha256(convert_to('wwc:' || stream_id, 'UTF8'))) AS link_ok,
       stream_version = coalesce(lag(stream_version) OVER w, 0) + 1 AS contiguous
  FROM wwc_events
 WHERE ($1::text IS NULL OR stream_id = $1) AND ($2::int IS NULL OR stream_version <= $2)
WINDOW w AS (PARTITION BY stream_id ORDER BY stream_version)
 ORDER BY stream_id, stream_version"""


class ChainBreak(BaseModel):
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    reason: str


class VerifyResult(BaseModel):
    events: int
    streams: int
    breaks: list[ChainBreak]

    @property
    def first_break(self) -> ChainBreak | None:
        return min(self.breaks, key=lambda b: b.position) if self.breaks else None


async def verify_chains(
    conn: Connection, progress: Callable[[int], None] | None = None, *,
    stream_id: str | None = None, through_version: int | None = None,
) -> VerifyResult:
    """Check every event (or one stream's, up to `through_version` when given); a break
    names the event whose content or link does not hold."""
    events = 0
    streams: set[str] = set()
    breaks = []
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(_WALK, stream_id, through_version, prefetch=2000):
            events += 1
            streams.add(row["stream_id"])
            reason = None
            if not row["content_ok"]:
                reason = "content does not match its hash (the event was altered)"
            elif not row["link_ok"]:
                reason = "does not chain from the previous event of its stream"
            elif not row["contiguous"]:
                reason = "stream versions are not contiguous (an event is missing)"
            if reason:
                breaks.append(ChainBreak(position=row["position"], stream_id=row["stream_id"],
                                         stream_version=row["stream_version"],
                                         event_type=row["event_type"], reason=reason))
            if progress is not None and events % 2000 == 0:
                progress(2000)
    if progress is not None:
        progress(events % 2000)
    return VerifyResult(events=events, streams=len(streams), breaks=breaks)
