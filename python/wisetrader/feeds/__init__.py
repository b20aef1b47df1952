"""The generic WebSocket feed session (one for every venue) and the REST snapshot fetcher."""

from __future__ import annotations

from wisetrader.feeds.session import FeedConfig, FeedHealth, FeedSession, Frame
from wisetrader.feeds.snapshot import BannedError, SnapshotError, fetch_binance_depth

__all__ = [
    "BannedError",
    "FeedConfig",
    "FeedHealth",
    "FeedSession",
    "Frame",
    "SnapshotError",
    "fetch_binance_depth",
]
