"""The public's answers are kept only while the read models behind them stay the same."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from infra.web.public_cache import Generations, PublicCache


class CountingApp:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"answer {self.calls}".encode()})


async def get(cache: PublicCache, path: str, headers: list[tuple[bytes, bytes]] | None = None,
              method: str = "GET") -> bytes:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await cache({"type": "http", "method": method, "path": path, "query_string": b"",
                 "headers": headers or []}, receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_an_answer_is_kept_until_a_public_read_model_changes() -> None:
    app, generations = CountingApp(), Generations()
    generations.saw({"periods": 10, "registry": 10, "pipeline": 10})
    cache = PublicCache(app, generations)
    assert await get(cache, "/api/registry") == b"answer 1"
    generations.saw({"periods": 10, "registry": 10})  # read again, nothing moved
    assert await get(cache, "/api/registry") == b"answer 1"
    generations.saw({"pipeline": 13})  # not a read model the public sees
    assert await get(cache, "/api/registry") == b"answer 1"
    generations.saw({"periods": 11})  # an announcement was projected
    assert await get(cache, "/api/registry") == b"answer 2"
    assert app.calls == 2


async def test_a_checkpoint_another_process_moved_retires_the_answer() -> None:
    # The worker or the CLI caught the registry up: this server applied nothing itself
    # and only sees the checkpoint further on.
    app, generations = CountingApp(), Generations()
    generations.saw({"registry": 40})
    cache = PublicCache(app, generations)
    assert await get(cache, "/api/registry") == b"answer 1"
    generations.saw({"registry": 52})
    assert await get(cache, "/api/registry") == b"answer 2"


async def test_only_public_reads_are_kept() -> None:
    app = CountingApp()
    cache = PublicCache(app, Generations())
    for _ in range(2):
        await get(cache, "/api/cities/us-a-xx")
        await get(cache, "/api/registry", method="POST")
    assert app.calls == 4
