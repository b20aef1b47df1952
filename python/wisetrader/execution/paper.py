"""Paper execution: the core's paper matcher (``_core.PaperVenue``) behind the router, like a venue.

Orders arrive after the risk gate as decimal strings (as for ``LiveExecutor``); the matcher works in
ticks and lots against the live top of book, which the engine feeds in via :meth:`on_top`. Order
updates and fills (fees applied by the matcher) go back through ``on_update``/``on_fill``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from wisetrader._core import PaperVenue
from wisetrader.execution.live import OrderRequest
from wisetrader.execution.orders import Fill, OrderState, TrackedOrder

if TYPE_CHECKING:
    from wisetrader._core import _Fill, _PaperUpdate
    from wisetrader.engine.router import Market

_STATE = {
    "accepted": OrderState.OPEN,
    "partially_filled": OrderState.PARTIALLY_FILLED,
    "filled": OrderState.FILLED,
    "cancelled": OrderState.CANCELED,
    "rejected": OrderState.REJECTED,
}


class PaperExecutor:
    """One account's paper venue: a ``PaperVenue`` per symbol (keyed by ccxt unified symbol)."""

    def __init__(
        self,
        account: str,
        markets: Mapping[str, tuple[Market, str]],
        paper_json: str | None = None,
    ) -> None:
        """``markets``: unified symbol -> (market, the core's instrument JSON)."""
        self.account = account
        self.markets = {u: m for u, (m, _) in markets.items()}
        self.venues = {u: PaperVenue(inst, paper_json) for u, (_, inst) in markets.items()}
        self.tops: dict[str, tuple[int, int]] = {}
        self.orders: dict[str, TrackedOrder] = {}
        self.on_update: Callable[[TrackedOrder], None] | None = None
        self.on_fill: Callable[[Fill], None] | None = None

    def on_top(self, unified: str, bid: int, ask: int, ts_ns: int) -> None:
        venue = self.venues.get(unified)
        if venue is None:
            return
        self.tops[unified] = (bid, ask)
        self._apply(unified, *venue.on_top(bid, ask, ts_ns), maker=True)

    async def place(self, req: OrderRequest) -> TrackedOrder:
        market = self.markets[req.symbol]
        order = TrackedOrder(
            req.client_id, self.account, req.symbol, req.side, req.qty, req.price, bot_id=req.bot_id
        )
        self.orders[req.client_id] = order
        top = self.tops.get(req.symbol)
        if top is None:
            order.state, order.error = OrderState.REJECTED, "paper: no book yet"
            self._updated(order)
            return order
        price = None if req.price is None else int(Decimal(req.price) / market.tick_size)
        updates, fills = self.venues[req.symbol].place(
            req.client_id, req.side, price, market.lots(req.qty), *top, time.time_ns()
        )
        # A crossing or market order fills at once (taker); the rest rests until on_top.
        self._apply(req.symbol, updates, fills, maker=False)
        return order

    async def cancel(self, client_id: str) -> TrackedOrder:
        order = self.orders[client_id]
        if not order.state.terminal:
            self._apply(
                order.symbol, *self.venues[order.symbol].cancel(client_id, time.time_ns()), maker=True
            )
        return order

    def _apply(self, unified: str, updates: list[_PaperUpdate], fills: list[_Fill], *, maker: bool) -> None:
        market = self.markets[unified]
        for f in fills:
            order = self.orders.get(f["client_id"])
            if order is None:
                continue
            fill = Fill(
                client_id=f["client_id"],
                trade_id=f["fill_id"],
                symbol=unified,
                side=f["side"],
                price=market.price(f["price_ticks"]),
                qty=market.qty(f["qty_lots"]),
                fee=f["fee"],
                fee_asset=f["fee_asset"],
                ts_ns=f["ts_ns"],
                maker=maker,
            )
            order.fills.append(fill)
            order.filled = str(Decimal(order.filled) + Decimal(fill.qty))
            if self.on_fill is not None:
                self.on_fill(fill)
        for u in updates:
            order = self.orders.get(u["client_id"])
            if order is not None:
                order.state = _STATE[u["status"]]
                self._updated(order)

    def _updated(self, order: TrackedOrder) -> None:
        if self.on_update is not None:
            self.on_update(order)
