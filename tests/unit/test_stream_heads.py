"""The event store's memory of stream heads: exact versions only, bounded, LRU."""

from __future__ import annotations

from infra.postgres.eventstore import StreamHeads


def test_a_head_is_known_only_at_its_exact_version() -> None:
    heads = StreamHeads()
    heads.advance("s", 3, b"h3")
    assert heads.hash_at("s", 3) == b"h3"
    assert heads.hash_at("s", 2) is None
    assert heads.hash_at("s", 4) is None
    assert heads.hash_at("other", 3) is None
    heads.advance("s", 4, b"h4")
    assert heads.hash_at("s", 3) is None
    heads.forget("s")
    assert heads.hash_at("s", 4) is None


def test_the_least_recently_used_stream_goes_first() -> None:
    heads = StreamHeads(capacity=2)
    heads.advance("a", 1, b"a")
    heads.advance("b", 1, b"b")
    assert heads.hash_at("a", 1) == b"a"  # a is now the most recently used
    heads.advance("c", 1, b"c")
    assert heads.hash_at("b", 1) is None
    assert (heads.hash_at("a", 1), heads.hash_at("c", 1)) == (b"a", b"c")
