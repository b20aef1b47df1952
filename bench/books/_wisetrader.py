"""Shared set-up of the wisetrader subjects: a ``MarketData`` for Binance spot, synced from the snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from wisetrader._core import MarketData


def unavailable() -> str | None:
    try:
        from wisetrader import _core
    except ImportError as exc:  # the extension is not built
        return f"wisetrader._core does not import: {exc}"
    if not hasattr(_core, "MarketData"):
        return "wisetrader._core has no MarketData yet (the market-data core is not merged)"
    return None


def grid(strings: Sequence[str]) -> str:
    """The finest decimal step the strings use, e.g. "0.01" (Binance prints every level on its grid)."""
    places = max((-int(Decimal(s).normalize().as_tuple().exponent) for s in strings), default=0)
    return "1" if places <= 0 else f"{Decimal(1).scaleb(-places):f}"


def synced_market(snapshot: bytes, frames: Sequence[bytes]) -> tuple[MarketData, str]:
    """A market with the stream's instrument registered and its book loaded from ``snapshot``."""
    from wisetrader._core import MarketData

    body = orjson.loads(snapshot)
    symbol = str(orjson.loads(frames[0])["data"]["s"])
    levels = [*body["bids"], *body["asks"]]
    md = MarketData("binance-spot")
    md.add_instrument(symbol, grid([p for p, _ in levels]), grid([q for _, q in levels]))
    md.feed_snapshot(symbol, snapshot, 0)
    return md, symbol


def best_floats(md: MarketData, symbol: str) -> tuple[float, float]:
    bid, ask = md.best_bid(symbol), md.best_ask(symbol)
    return (float(bid[0]) if bid else float("nan"), float(ask[0]) if ask else float("nan"))
