"""Bybit v5 public streams: subscribe in chunks of 10, JSON ping every 20 s, request signing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import orjson

from wisetrader.venues.base import Endpoints, FrameKind, Limits, VenueProtocol, chunks

ENDPOINTS = {
    "mainnet": Endpoints(ws="wss://stream.bybit.com/v5/public/spot", rest="https://api.bybit.com"),
    "testnet": Endpoints(
        ws="wss://stream-testnet.bybit.com/v5/public/spot", rest="https://api-testnet.bybit.com"
    ),
}

_CHANNELS = {"book": "orderbook.50.{s}", "bbo": "orderbook.1.{s}", "trades": "publicTrade.{s}"}


def sign(secret: str, timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``timestamp + apiKey + recvWindow + (query | body)``."""
    message = f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# Order-entry rate limits (count, window seconds), which the risk gate turns into shared token buckets.
ORDER_RATE = (20, 1.0)  # /v5/order/create: 20/s for spot per UID
IP_RATE = (600, 5.0)  # 600 requests per 5 s per IP


class Protocol(VenueProtocol):
    name = "bybit"
    limits = Limits(
        outgoing_msgs_per_s=10.0,
        max_topics_per_connection=200,
        max_args_per_subscribe=10,  # spot accepts at most 10 args per request
        connects_per_window=500,
        connect_window_s=300.0,
        max_lifetime_s=None,
        idle_timeout_s=600.0,
    )
    app_ping = '{"op":"ping"}'
    app_ping_interval_s = 20.0

    def topics(self, symbol: str, channels: Sequence[str]) -> list[str]:
        return [_CHANNELS[c].format(s=symbol.upper()) for c in channels]

    def ws_url(self, topics: Sequence[str]) -> str:
        return self.endpoints.ws

    def subscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        return self._control("subscribe", topics, req_id)

    def unsubscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        return self._control("unsubscribe", topics, req_id)

    def _control(self, op: str, topics: Sequence[str], req_id: int) -> list[str]:
        return [
            orjson.dumps({"req_id": str(req_id + i), "op": op, "args": part}).decode()
            for i, part in enumerate(chunks(topics, self.limits.max_args_per_subscribe))
        ]

    def classify(self, frame: str | bytes) -> FrameKind:
        text = frame if isinstance(frame, str) else frame.decode()
        if text.startswith('{"topic"'):
            return FrameKind.DATA
        if text.startswith('{"success"'):
            if '"op":"ping"' in text or '"ret_msg":"pong"' in text:
                return FrameKind.PONG
            return FrameKind.ACK if text.startswith('{"success":true') else FrameKind.ERROR
        return FrameKind.OTHER
