"""Bots attached to a symbol's book: top-of-book changes from the market-data core drive a
``PaperSession`` (bots + paper matcher), with the book's levels for market and crossing orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wisetrader._core import Changes, MarketData, PaperSession
from wisetrader.marketdata import Recording

if TYPE_CHECKING:
    from wisetrader._core import _Fill, _Intent


@dataclass
class PaperBook:
    """One symbol of a ``MarketData`` with its bots trading on paper."""

    market: MarketData
    symbol: str
    session: PaperSession
    depth: int = 20
    tops: int = 0
    intents: list[_Intent] = field(default_factory=list)
    fills: list[_Fill] = field(default_factory=list)

    def apply(self, changes: Changes) -> list[_Fill]:
        """Feed every top-of-book change of ``symbol`` in ``changes`` to the bots; returns the
        fills of this call. The book's levels are read once per call (feed frame by frame for
        per-change levels)."""
        new: list[_Fill] = []
        tops = [t for t in changes.tops if t[1] == self.symbol and t[3] is not None and t[5] is not None]
        if not tops:
            return new
        bids, asks = self.market.top_ticks(self.symbol, self.depth)
        for recv_ns, _, _, bid, _, ask, _ in tops:
            if bid is None or ask is None:
                continue
            self.tops += 1
            intents, fills = self.session.on_top(bid, ask, recv_ns, asks, bids)
            self.intents.extend(intents)
            new.extend(fills)
        self.fills.extend(new)
        return new

    def replay(self, recording: Path | str) -> None:
        """Run a recording frame by frame through the book and the bots."""
        for recv_ns, frame in Recording(recording).frames():
            self.apply(self.market.feed(frame, recv_ns))
