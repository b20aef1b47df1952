"""Binance spot: combined streams, live (un)subscribe, HMAC-SHA256 request signing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import orjson

from wisetrader.venues.base import Endpoints, FrameKind, Limits, VenueProtocol, chunks

ENDPOINTS = {
    "mainnet": Endpoints(ws="wss://stream.binance.com:9443", rest="https://api.binance.com"),
    "testnet": Endpoints(ws="wss://stream.testnet.binance.vision", rest="https://testnet.binance.vision"),
}

_CHANNELS = {"book": "{s}@depth@100ms", "bbo": "{s}@bookTicker", "trades": "{s}@trade"}


def sign(secret: str, payload: str) -> str:
    """hex(HMAC-SHA256(secret, query string + body)), as Binance's signed endpoints expect."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


# Order-entry rate limits (count, window seconds), which the risk gate turns into shared token buckets.
ORDER_RATE = (100, 10.0)  # ORDERS: 100 per 10 s per account
IP_RATE = (6000, 60.0)  # REQUEST_WEIGHT: 6000 per minute per IP (an order weighs 1)


class Protocol(VenueProtocol):
    name = "binance"
    # 5 incoming messages/s per connection (pings, pongs and control all count): stay under it.
    limits = Limits(
        outgoing_msgs_per_s=4.0,
        max_topics_per_connection=1024,
        max_args_per_subscribe=200,
        connects_per_window=300,
        connect_window_s=300.0,
        max_lifetime_s=24 * 3600.0,
        idle_timeout_s=60.0,
    )
    app_ping = None  # the server pings every 20 s; websockets answers with the same payload
    topics_in_url = True

    def topics(self, symbol: str, channels: Sequence[str]) -> list[str]:
        return [_CHANNELS[c].format(s=symbol.lower()) for c in channels]

    def ws_url(self, topics: Sequence[str]) -> str:
        return f"{self.endpoints.ws}/stream?streams={'/'.join(topics)}"

    def subscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        # Topics are already in the URL; live subscribe is used for topics added later.
        return self._control("SUBSCRIBE", topics, req_id)

    def unsubscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        return self._control("UNSUBSCRIBE", topics, req_id)

    def _control(self, method: str, topics: Sequence[str], req_id: int) -> list[str]:
        return [
            orjson.dumps({"method": method, "params": part, "id": req_id + i}).decode()
            for i, part in enumerate(chunks(topics, self.limits.max_args_per_subscribe))
        ]

    def classify(self, frame: str | bytes) -> FrameKind:
        head = frame[:12] if isinstance(frame, str) else frame[:12].decode("latin-1")
        if head.startswith('{"stream"'):
            return FrameKind.DATA
        if head.startswith('{"result"'):
            return FrameKind.ACK
        if head.startswith(('{"error"', '{"code"')):
            return FrameKind.ERROR
        return FrameKind.OTHER
