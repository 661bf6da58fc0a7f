"""The set of standards the program knows, and which one is in force on a date."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from domain.errors import StandardError
from domain.standard import Standard


class StandardCatalog(Mapping[str, Standard]):
    def __init__(self, standards: Iterable[Standard]) -> None:
        self._by_id: dict[str, Standard] = {}
        for standard in standards:
            if standard.id in self._by_id:
                raise StandardError(f"standard {standard.id} is defined twice")
            self._by_id[standard.id] = standard

    def __getitem__(self, standard_id: str) -> Standard:
        try:
            return self._by_id[standard_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "none"
            raise StandardError(
                f"unknown standard {standard_id!r} (known: {known})", code="unknown_standard",
                facts={"standard": standard_id}
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def in_force(self, on: date) -> Standard:
        """The latest standard effective on `on` (incomplete ones included: the caller
        learns it cannot score rather than silently getting an older one)."""
        candidates = [s for s in self._by_id.values() if s.effective_from <= on]
        if not candidates:
            raise StandardError(f"no standard was in force on {on.isoformat()}",
                                code="unknown_standard")
        return max(candidates, key=lambda s: (s.effective_from, s.id))

    def merged(self, extra: Iterable[Standard]) -> StandardCatalog:
        return StandardCatalog([*self._by_id.values(), *extra])
