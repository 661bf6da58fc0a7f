"""The public registry's search: by a city's name (any part of it, with or without
accents, in any case: "bogota" finds Bogotá), country, tier, standard and cohort. On the
server, from the URL's query, so it works without JavaScript, a search can be linked to
and kept, and its CSV is the same search (`query`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
from fastapi import Query

from infra.readside import queries
from infra.readside.rows import CertifiedCity

TIERS = ("silver", "gold", "platinum")
NAME_MAX = 100


def folded(text: str) -> str:
    """`text` without accents and case, for matching what people type."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class RegistrySearch:
    """What the registry is asked for; an empty field means "any"."""

    name: str = ""
    tier: str = ""
    country: str = ""
    standard: str = ""
    cohort: str = ""

    @classmethod
    def of(cls, asked: Mapping[str, str | None]) -> RegistrySearch:
        def given(key: str) -> str:
            return (asked.get(key) or "").strip()
        return cls(name=" ".join(given("q").split())[:NAME_MAX], tier=given("tier"),
                   country=given("country").upper(), standard=given("standard"),
                   cohort=given("cohort"))

    def keeps(self, row: CertifiedCity) -> bool:
        return ((not self.tier or self.tier not in TIERS or row.tier == self.tier)
                and (not self.country or row.country == self.country)
                and (not self.standard or row.standard_id == self.standard)
                and (not self.cohort or row.cohort_id == self.cohort)
                and (not self.name or folded(self.name) in folded(row.name)))

    @property
    def chosen(self) -> dict[str, str]:
        """The fields as the form shows them again."""
        return {"q": self.name, "tier": self.tier, "country": self.country,
                "standard": self.standard, "cohort": self.cohort}

    @property
    def query(self) -> str:
        """The search as a URL's query (only what is set), for the CSV link."""
        return urlencode({k: v for k, v in self.chosen.items() if v})


def asked_in_query(
    q: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
    tier: Annotated[str | None, Query(max_length=20)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    standard: Annotated[str | None, Query(max_length=64)] = None,
    cohort: Annotated[str | None, Query(max_length=64)] = None,
) -> RegistrySearch:
    """The search from a request's query (a dependency of the page and of its CSV, so
    both take the same fields with the same bounds)."""
    return RegistrySearch.of({"q": q, "tier": tier, "country": country,
                              "standard": standard, "cohort": cohort})


async def search_registry(pool: asyncpg.Pool[Any], search: RegistrySearch
                          ) -> tuple[list[CertifiedCity], list[CertifiedCity]]:
    """Every city certified now (the filters' choices come from them all), and those the
    search keeps, in the registry's order."""
    everyone = await queries.public_registry(pool, limit=10_000)
    return everyone, [r for r in everyone if search.keeps(r)]
