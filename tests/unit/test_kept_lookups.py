"""Look-ups kept in the API process are served only while their read model stands."""

from __future__ import annotations

from infra.web.kept import _Kept
from infra.web.public_cache import Generations


class Reads:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.count = 0

    async def __call__(self) -> str | None:
        self.count += 1
        return self.answer


async def test_a_value_is_kept_until_its_read_model_moves() -> None:
    generations = Generations()
    generations.saw({"city_views": 5, "accounts": 3})
    kept: _Kept[str, str] = _Kept(generations, "city_views")
    read = Reads("view at 5")
    assert await kept.get("us-mesa-az", read) == "view at 5"
    assert await kept.get("us-mesa-az", read) == "view at 5"
    generations.saw({"accounts": 4})  # another read model
    assert await kept.get("us-mesa-az", read) == "view at 5"
    assert read.count == 1
    read.answer = "view at 6"
    generations.saw({"city_views": 6})
    assert await kept.get("us-mesa-az", read) == "view at 6"
    assert read.count == 2


async def test_nothing_found_is_not_kept() -> None:
    # A revoked token, or a made-up key: asked again each time, never filling the table.
    kept: _Kept[str, str] = _Kept(Generations(), "accounts")
    read = Reads(None)
    assert await kept.get("made-up", read) is None
    assert await kept.get("made-up", read) is None
    assert read.count == 2


async def test_a_value_dropped_by_its_read_model_is_not_served_again() -> None:
    generations = Generations()
    kept: _Kept[str, str] = _Kept(generations, "accounts")
    read = Reads("account")
    assert await kept.get("token", read) == "account"
    read.answer = None  # revoked
    generations.saw({"accounts": 1})
    assert await kept.get("token", read) is None
    generations.saw({"accounts": 1})
    assert await kept.get("token", read) is None
    assert read.count == 3
