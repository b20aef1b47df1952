"""Rate limiting (fixed one-minute windows per key) and the request-body size limit."""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RateLimiter:
    """Counts requests per key in one-minute windows; bounded memory (oldest keys are dropped)."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self._max_keys = max_keys
        self._windows: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count one request; False when ``key`` is over its limit in the current window."""
        window = int((time.monotonic() if now is None else now) // 60)
        start, count = self._windows.pop(key, (window, 0))
        if start != window:
            start, count = window, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > self._max_keys:
            self._windows.popitem(last=False)
        return count <= self.per_minute


class BodySizeLimit:
    """ASGI middleware answering 413 for bodies over ``max_bytes``.

    A declared ``content-length`` is checked up front (the server enforces it); a body of unknown length
    (chunked) is read up to the limit before the app sees it, then handed over whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await _too_large(send)
                    return
                await self.app(scope, receive, send)
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _too_large(send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay({"type": "http.request", "body": bytes(body)}, receive), send)


def _replay(first: Message, receive: Receive) -> Receive:
    pending: list[Message] = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body too large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
