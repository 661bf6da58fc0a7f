"""Recording an ASGI answer as it is sent (the idempotency keeper and the public cache
both keep answers)."""

from __future__ import annotations

from starlette.types import Message, Send


class Captured:
    """An ASGI `send` that records the answer (status, headers, body), and passes each
    message on to `forward` when one is given."""

    def __init__(self, forward: Send | None = None) -> None:
        self.start: Message = {"type": "http.response.start", "status": 500, "headers": []}
        self.chunks: list[bytes] = []
        self._forward = forward

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
        if self._forward is not None:
            await self._forward(message)
