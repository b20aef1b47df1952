"""Top-N book views for venues that publish a depth-limited book as snapshot + deltas (Bybit, OKX).

A view remembers what it last published; a delta is exactly the difference to the book now, including
levels that left the top N (size 0), so a client applying deltas to the snapshot holds the same top N.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wisetrader.sim.exchange import Market, fmt
from wisetrader.sim.matching import Side

Level = tuple[str, str, int]  # price, size, order count


@dataclass
class BookView:
    market: Market
    depth: int
    bids: dict[int, tuple[int, int]] = field(default_factory=dict)
    asks: dict[int, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bids, self.asks = self._read()

    def _read(self) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
        book = self.market.book
        return (
            {p: (q, n) for p, q, n in book.levels(Side.BUY, self.depth)},
            {p: (q, n) for p, q, n in book.levels(Side.SELL, self.depth)},
        )

    def _fmt(self, levels: list[tuple[int, int, int]]) -> list[Level]:
        spec = self.market.spec
        return [(fmt(p, spec.tick_size), fmt(q, spec.step_size), n) for p, q, n in levels]

    def snapshot(self) -> tuple[list[Level], list[Level]]:
        bids = sorted(((p, q, n) for p, (q, n) in self.bids.items()), reverse=True)
        asks = sorted((p, q, n) for p, (q, n) in self.asks.items())
        return self._fmt(bids), self._fmt(asks)

    def update(self) -> tuple[list[Level], list[Level]]:
        """Levels changed since the last call (size 0: removed), and remember the new view."""
        new_bids, new_asks = self._read()
        out = []
        for old, new, reverse in ((self.bids, new_bids, True), (self.asks, new_asks, False)):
            changed = [(p, *new.get(p, (0, 0))) for p in set(old) | set(new) if old.get(p) != new.get(p)]
            out.append(self._fmt(sorted(changed, reverse=reverse)))
        self.bids, self.asks = new_bids, new_asks
        return out[0], out[1]
