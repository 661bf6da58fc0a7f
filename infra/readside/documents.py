"""Evidence documents as the log records them (`evidence.document_added` and the
decisions that name them): a city's document by its hash (whether the city may be served
those bytes at all), the documents a decision was made on, every document the log names
(what `wwc verify --documents` checks against the blob store), and the bytes the log
still needs (what `wwc evidence collect` spares)."""

from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from domain import events
from domain.documents import Documents, EvidenceDocument
from domain.events import CertificationDecided, DocumentAdded
from domain.evidence import needed_bytes
from domain.model import Frozen
from domain.streams import CITY_STREAM_PREFIX, city_stream
from infra.eventstore.mapper import UPCASTERS

_DOCUMENTS = TypeAdapter(Documents)


class NamedDocument(Frozen):
    """A document as an event of a city's stream names it."""

    city_key: str
    criterion: str
    document: EvidenceDocument
    stream_version: int


def _named(row: asyncpg.Record) -> NamedDocument:
    data = row["data"]
    return NamedDocument(
        city_key=row["stream_id"].removeprefix(CITY_STREAM_PREFIX), criterion=data["criterion"],
        stream_version=row["stream_version"], document=EvidenceDocument(
            name=data["name"], media_type=data["media_type"], size=data["size"],
            sha256=data["sha256"], added_on=date.fromisoformat(data["on"]),
            added_by=data["by"]))


async def city_document(pool: asyncpg.Pool[Any], key: str,
                        sha256: str) -> NamedDocument | None:
    """The latest time these bytes were attached to one of the city's criteria (any
    application), or None: bytes the city never attached are not the city's to read.
    (The city's stream by its index: a few hundred events at most.)"""
    row = await pool.fetchrow(
        "SELECT stream_id, stream_version, data FROM wwc_events "
        "WHERE stream_id = $1 AND event_type = $2 AND data->>'sha256' = $3 "
        "ORDER BY stream_version DESC LIMIT 1", city_stream(key), DocumentAdded.TYPE, sha256)
    return _named(row) if row is not None else None


async def decided_documents(pool: asyncpg.Pool[Any], key: str,
                            through_version: int | None = None) -> Documents:
    """The documents the city's last decision (up to `through_version`) was made on."""
    found = await pool.fetchval(
        "SELECT data->'documents' FROM wwc_events WHERE stream_id = $1 AND event_type = $2 "
        "AND ($3::int IS NULL OR stream_version <= $3) ORDER BY stream_version DESC LIMIT 1",
        city_stream(key), CertificationDecided.TYPE, through_version)
    return _DOCUMENTS.validate_python(found) if found else {}


# The events that decide which bytes a city still needs (`domain.evidence.needed_bytes`).
_NEEDED_TYPES = [events.DocumentAdded.TYPE, events.DocumentRemoved.TYPE,
                 events.AssessmentSubmitted.TYPE, events.ApplicationOpened.TYPE,
                 events.CityWithdrew.TYPE]


async def needed_documents(pool: asyncpg.Pool[Any]) -> set[str]:
    """Every document's bytes the log still needs kept, over all cities (what the
    collector of unreferenced bytes must spare). Read it just before collecting."""
    rows = await pool.fetch(
        "SELECT stream_id, event_type, schema_version, data FROM wwc_events "
        "WHERE stream_id LIKE $1 AND event_type = ANY($2::text[]) "
        "ORDER BY stream_id, stream_version", f"{CITY_STREAM_PREFIX}%", _NEEDED_TYPES)
    needed: set[str] = set()
    for _, stream in groupby(rows, key=lambda row: row["stream_id"]):
        needed |= needed_bytes(
            events.event_from_data(row["event_type"], UPCASTERS.upcast(
                row["event_type"], row["schema_version"], row["data"])) for row in stream)
    return needed


async def every_document(pool: asyncpg.Pool[Any]) -> list[NamedDocument]:
    """Every document the log has attached, oldest first (a walk of the log by type)."""
    rows = await pool.fetch(
        "SELECT stream_id, stream_version, data FROM wwc_events WHERE event_type = $1 "
        "ORDER BY position", DocumentAdded.TYPE)
    return [_named(row) for row in rows]


class DocumentsInLog:
    """`infra.application.documents.DocumentIndex` over the event store's pool."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def city_document(self, key: str, sha256: str) -> NamedDocument | None:
        return await city_document(self._pool, key, sha256)
