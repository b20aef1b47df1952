"""OKX v5 public streams: subscribe with ``args`` objects, text ``ping`` every 25 s, request signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

import orjson

from wisetrader.venues.base import Endpoints, FrameKind, Limits, VenueProtocol, chunks

ENDPOINTS = {
    "mainnet": Endpoints(ws="wss://ws.okx.com:8443/ws/v5/public", rest="https://www.okx.com"),
    "testnet": Endpoints(ws="wss://wspap.okx.com:8443/ws/v5/public", rest="https://www.okx.com"),
}

_CHANNELS = {"book": "books", "bbo": "bbo-tbt", "trades": "trades"}


def sign(secret: str, timestamp_iso: str, method: str, request_path: str, body: str) -> str:
    """base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    message = f"{timestamp_iso}{method.upper()}{request_path}{body}"
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def inst_id(symbol: str) -> str:
    """OKX instrument id from ``BASE-QUOTE`` or ``BASE/QUOTE``."""
    return symbol.upper().replace("/", "-")


# Order-entry rate limits (count, window seconds), which the risk gate turns into shared token buckets.
ORDER_RATE = (60, 2.0)  # place order: 60 per 2 s per user and instrument
IP_RATE = (300, 2.0)  # batch endpoints: 300 per 2 s (no IP figure is published)


class Protocol(VenueProtocol):
    name = "okx"
    limits = Limits(
        outgoing_msgs_per_s=8.0,
        max_topics_per_connection=30 * 3,  # fewer than 30 deep book channels per connection
        max_args_per_subscribe=50,
        connects_per_window=3,  # 3 connection requests per second per IP
        connect_window_s=1.0,
        max_lifetime_s=None,
        idle_timeout_s=30.0,  # OKX drops a connection after 30 s without traffic
    )
    app_ping = "ping"
    app_ping_interval_s = 25.0

    def topics(self, symbol: str, channels: Sequence[str]) -> list[str]:
        return [f"{_CHANNELS[c]}:{inst_id(symbol)}" for c in channels]

    def ws_url(self, topics: Sequence[str]) -> str:
        return self.endpoints.ws

    def subscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        return self._control("subscribe", topics, req_id)

    def unsubscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        return self._control("unsubscribe", topics, req_id)

    def _control(self, op: str, topics: Sequence[str], req_id: int) -> list[str]:
        messages = []
        for i, part in enumerate(chunks(topics, self.limits.max_args_per_subscribe)):
            args = [dict(zip(("channel", "instId"), t.split(":", 1), strict=True)) for t in part]
            messages.append(orjson.dumps({"id": str(req_id + i), "op": op, "args": args}).decode())
        return messages

    def classify(self, frame: str | bytes) -> FrameKind:
        text = frame if isinstance(frame, str) else frame.decode()
        if text.startswith('{"arg"'):
            return FrameKind.DATA
        if text == "pong":
            return FrameKind.PONG
        if '"event":"error"' in text:
            return FrameKind.ERROR
        if '"event":"subscribe"' in text or '"event":"unsubscribe"' in text:
            return FrameKind.ACK
        return FrameKind.OTHER
