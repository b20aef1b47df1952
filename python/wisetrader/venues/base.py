"""What every venue module provides: endpoints, stream names, control messages, frame kinds, limits."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

Network = Literal["mainnet", "testnet"]


class FrameKind(enum.Enum):
    """What a received WebSocket frame is, decided from its first bytes (no JSON parse)."""

    DATA = "data"  # market data: goes to the core
    ACK = "ack"  # subscribe / unsubscribe acknowledgement
    PONG = "pong"  # answer to our application-level ping
    ERROR = "error"  # the venue refused a request
    OTHER = "other"  # anything else (e.g. Binance serverShutdown), counted, not forwarded


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where to connect. ``ws`` is the public market-data base, ``rest`` the REST base (no trailing /)."""

    ws: str
    rest: str


@dataclass(frozen=True, slots=True)
class Limits:
    """Published limits the session must respect."""

    outgoing_msgs_per_s: float  # control messages we may send per connection per second
    max_topics_per_connection: int
    max_args_per_subscribe: int
    connects_per_window: int  # new connections per IP per window
    connect_window_s: float
    max_lifetime_s: float | None  # the venue cuts connections after this long (None: no cut)
    idle_timeout_s: float  # the venue drops a connection silent for this long


class VenueProtocol(ABC):
    """The venue-shaped half of a feed session; the generic half is ``wisetrader.feeds.FeedSession``."""

    name: str
    limits: Limits
    # Topics go in the connection URL (Binance combined streams) instead of subscribe messages.
    topics_in_url: bool = False
    # Application-level ping the client must send, and how often (None: the server pings us instead).
    app_ping: str | None = None
    app_ping_interval_s: float = 20.0

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints

    @abstractmethod
    def topics(self, symbol: str, channels: Sequence[str]) -> list[str]:
        """Venue topic names for ``channels`` among ``book``, ``bbo`` and ``trades`` on ``symbol``."""

    @abstractmethod
    def ws_url(self, topics: Sequence[str]) -> str:
        """The URL to open for these topics (Binance puts them in the URL, the others subscribe)."""

    @abstractmethod
    def subscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        """Messages to send after connecting, split to respect ``limits.max_args_per_subscribe``."""

    @abstractmethod
    def unsubscribe_messages(self, topics: Sequence[str], req_id: int) -> list[str]:
        """Messages that end the subscription of ``topics``."""

    @abstractmethod
    def classify(self, frame: str | bytes) -> FrameKind:
        """Tell data from control frames by their first bytes."""


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), max(1, size))]


def _venue_module(venue: str) -> ModuleType:
    from wisetrader.venues import binance, bybit, okx

    modules = {"binance": binance, "bybit": bybit, "okx": okx}
    try:
        return modules[venue]
    except KeyError:
        raise ValueError(f"unknown venue {venue!r}; expected one of {sorted(modules)}") from None


def venue_protocol(
    venue: str, network: Network = "mainnet", ws_base: str | None = None, rest_base: str | None = None
) -> VenueProtocol:
    """The protocol object of ``venue`` (binance, bybit, okx), with optional base-URL overrides."""
    module = _venue_module(venue)
    default = module.ENDPOINTS[network]
    endpoints = Endpoints(
        ws=(ws_base or default.ws).rstrip("/"), rest=(rest_base or default.rest).rstrip("/")
    )
    protocol: VenueProtocol = module.Protocol(endpoints)
    return protocol


def venue_rates(venue: str) -> tuple[tuple[int, float], tuple[int, float]]:
    """Published order-entry limits: ((orders, window s) per account, (requests, window s) per IP)."""
    module = _venue_module(venue)
    return module.ORDER_RATE, module.IP_RATE
