"""Market data: the Rust core's ``MarketData`` plus recordings, instrument grids and replay.

``MarketData`` (from ``wisetrader._core``) takes raw WebSocket frames as bytes and keeps one L2 book
per symbol in sync by each venue's rules; see ``wisetrader/_core.pyi`` for the full API.
"""

from __future__ import annotations

from wisetrader._core import Changes, MarketData
from wisetrader.marketdata.instruments import InstrumentSpec, bundled_instrument, resolve_instruments
from wisetrader.marketdata.recording import Recording
from wisetrader.marketdata.venues import VENUES, Venue

__all__ = [
    "VENUES",
    "Changes",
    "InstrumentSpec",
    "MarketData",
    "Recording",
    "Venue",
    "bundled_instrument",
    "resolve_instruments",
]
