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


class FileApp:
    """A file with its validators, answering 304 itself when asked with its tag (as the
    open-data routes do), so the cache must ask without the caller's conditions."""

    def __init__(self, *, vary: bool = False) -> None:
        self.calls = 0
        self.vary = vary
        self.seen_conditions: list[bool] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        asked = dict(scope["headers"])
        self.seen_conditions.append(b"if-none-match" in asked)
        headers = [(b"etag", b'"v1"'), (b"last-modified", b"Thu, 03 Dec 2026 10:00:00 GMT"),
                   (b"cache-control", b"public, no-cache"), (b"content-type", b"text/csv")]
        if self.vary:
            headers.append((b"vary", b"Cookie, Accept-Language"))
        if asked.get(b"if-none-match") == b'"v1"':
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"city_key\r\n"})


Answer = tuple[int, dict[bytes, bytes], bytes]


async def answer(cache: PublicCache, path: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> Answer:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await cache({"type": "http", "method": "GET", "path": path, "query_string": b"",
                 "headers": headers or []}, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


async def test_a_kept_file_answers_304_to_a_caller_who_holds_it() -> None:
    app = FileApp()
    cache = PublicCache(app, Generations())
    # The first caller already holds it: the cache still makes (and keeps) the whole file.
    status, headers, body = await answer(cache, "/open-data/registry.csv",
                                         [(b"if-none-match", b'"v1"')])
    assert (status, body) == (304, b"")
    assert headers[b"etag"] == b'"v1"'
    assert b"content-type" not in headers  # a 304 repeats the validators, not the body's type
    assert app.seen_conditions == [False]
    status, _, body = await answer(cache, "/open-data/registry.csv")
    assert (status, body) == (200, b"city_key\r\n")
    status, _, _ = await answer(cache, "/open-data/registry.csv",
                                [(b"if-modified-since", b"Thu, 03 Dec 2026 10:00:00 GMT")])
    assert status == 304
    status, _, _ = await answer(cache, "/open-data/registry.csv",
                                [(b"if-none-match", b'"v0"')])
    assert status == 200
    assert app.calls == 1


async def test_an_answer_that_varies_with_the_caller_is_never_kept() -> None:
    app = FileApp(vary=True)
    cache = PublicCache(app, Generations())
    for _ in range(2):
        await answer(cache, "/open-data/")
    assert app.calls == 2
