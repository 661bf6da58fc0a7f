"""What a city route looks up on every request, kept in the process until the read model
it came from moves: who an API token belongs to, and the city's view.

Both were a query each per request (a city's status answered at 0.18 of a bare route).
A kept value is used only while its read model's generation (`Generations`: the
checkpoint, whoever moved it) is the one it was read at, so it is exactly as fresh as the
read model itself: a write through this server retires it before answering (the write
catches the read model up), and a write elsewhere (a token revoked with `wwc tokens
revoke`, a timer, another server) retires it when this server's background loop sees the
checkpoint move, within `CATCH_UP_EVERY`, as before for every read."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date
from functools import cached_property
from typing import Any, Generic, TypeVar

import asyncpg
from pydantic import TypeAdapter

from domain.views import CityView
from infra.identity.directory import Account, AccountDirectory
from infra.identity.secrets import digest
from infra.readside import queries
from infra.web.public_cache import Generations

K = TypeVar("K")
V = TypeVar("V")
MAX_ENTRIES = 10_000
# What FastAPI serializes a `response_model=CityView` answer with, so a kept answer is
# byte for byte the one FastAPI would have made.
_CITY_VIEW = TypeAdapter(CityView)


class KeptView:
    """A city's view, and its JSON made once while the view stands (a city's status is
    the view itself: answering it from kept bytes skips FastAPI's validation and
    serialization of the same view on every request)."""

    def __init__(self, view: CityView) -> None:
        self.view = view

    @cached_property
    def json(self) -> bytes:
        return _CITY_VIEW.dump_json(self.view)


class _Kept(Generic[K, V]):
    """Values read from one read model, each kept with the generation it was read at;
    least recently used first out. Misses (nothing found) are not kept, so made-up keys
    cannot push real entries out."""

    def __init__(self, generations: Generations, read_model: str) -> None:
        self._generations = generations
        self._read_model = (read_model,)
        self._kept: OrderedDict[K, tuple[int, V]] = OrderedDict()

    async def get(self, key: K, read: Callable[[], Awaitable[V | None]]) -> V | None:
        now = self._generations.of(self._read_model)  # before the read: see public_cache
        kept = self._kept.get(key)
        if kept is not None and kept[0] == now:
            self._kept.move_to_end(key)
            return kept[1]
        value = await read()
        if value is None:
            self._kept.pop(key, None)
            return None
        self._kept[key] = (now, value)
        if len(self._kept) > MAX_ENTRIES:
            self._kept.popitem(last=False)
        return value


class KeptLookups:
    def __init__(self, pool: asyncpg.Pool[Any], directory: AccountDirectory,
                 generations: Generations) -> None:
        self._pool = pool
        self._directory = directory
        self._views: _Kept[tuple[str, date], KeptView] = _Kept(generations, "city_views")
        self._tokens: _Kept[tuple[bytes, date], Account] = _Kept(generations, "accounts")

    async def city_view(self, key: str, today: date) -> KeptView | None:
        """The city's view dated `today` (its days-in-stage and due dates depend on it)."""

        async def read() -> KeptView | None:
            view = await queries.city_view(self._pool, key, today)
            return KeptView(view) if view is not None else None

        return await self._views.get((key, today), read)

    async def token_account(self, token: str, today: date) -> Account | None:
        """The account an API token acts for, if the token is valid today (an expiry date
        is a matter of `today`, a revocation or a disabled account moves the read model).
        Kept by the token's digest: the token itself is never held."""
        return await self._tokens.get((digest(token), today),
                                      lambda: self._directory.check_token(token, today))
