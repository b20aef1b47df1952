"""Router and feed news as bus events (``wisetrader.events``): intents, risk decisions, orders, fills, health.

Callbacks come from synchronous code (the router, the feed session); events are queued and one pump
task publishes them, so the hot path never awaits the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal, TypedDict

from wisetrader.bus import Bus
from wisetrader.engine.router import Market
from wisetrader.events import Event, Fill, Health, OrderIntent, OrderUpdate, RiskDecision
from wisetrader.execution import Fill as ExecFill
from wisetrader.execution import OrderState, TrackedOrder
from wisetrader.feeds import FeedHealth
from wisetrader.risk import Decision, Intent

# Our venue names to the event schema's venue ids.
VENUE_IDS = {"binance": "binance-spot", "bybit": "bybit-spot", "okx": "okx"}

_STATUS = {
    OrderState.IN_FLIGHT: "in_flight",
    OrderState.OPEN: "new",
    OrderState.PARTIALLY_FILLED: "partially_filled",
    OrderState.FILLED: "filled",
    OrderState.CANCELED: "canceled",
    OrderState.EXPIRED: "expired",
    OrderState.REJECTED: "rejected",
}


class _Ids(TypedDict):
    bot_id: str
    account_id: str
    user_id: str | None


def _stable_id(*parts: str) -> str:
    """A deterministic event id, so a replayed event deduplicates in the store."""
    return hashlib.blake2b(":".join(parts).encode(), digest_size=16).hexdigest()


class BusPublisher:
    """Implements ``RouterListener``; also takes feed health via :meth:`feed_health`."""

    def __init__(self, bus: Bus, markets: Mapping[tuple[str, str], Market]) -> None:
        self.bus = bus
        self.markets = markets
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.published = 0
        self._pump: asyncio.Task[None] | None = None
        # bot id -> (account id, user id) as the control plane names them, for bots it owns: their
        # events carry the owner, so the API streams each user only their own.
        self.owners: dict[str, tuple[str, str]] = {}

    def _ids(self, intent: Intent) -> _Ids:
        owner = self.owners.get(intent.bot_id)
        if owner is None:
            return {"bot_id": intent.bot_id, "account_id": intent.account, "user_id": None}
        return {"bot_id": intent.bot_id, "account_id": owner[0], "user_id": owner[1]}

    def start(self) -> None:
        self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                await self.bus.publish(event)
                self.published += 1
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        await self.queue.join()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

    # ---- RouterListener ----------------------------------------------------------------------------
    def decision(self, intent: Intent, decision: Decision) -> None:
        market = self.markets[(intent.venue, intent.symbol)]
        ts, venue = time.time_ns(), VENUE_IDS.get(intent.venue, intent.venue)
        self.queue.put_nowait(
            OrderIntent(
                ts_ns=ts,
                venue=venue,
                symbol=intent.symbol,
                **self._ids(intent),
                client_order_id=intent.client_id,
                side="buy" if intent.side == "buy" else "sell",
                order_type="limit" if intent.price is not None else "market",
                price=None if intent.price is None else Decimal(market.price(intent.price)),
                qty=Decimal(market.qty(intent.qty)),
            )
        )
        detail = decision.detail
        if decision.numbers:
            detail += " " + " ".join(f"{k}={v}" for k, v in decision.numbers.items())
        self.queue.put_nowait(
            RiskDecision(
                ts_ns=ts,
                venue=venue,
                symbol=intent.symbol,
                **self._ids(intent),
                client_order_id=intent.client_id,
                accepted=decision.accepted,
                rule=decision.reason.value if decision.reason else "ok",
                detail=detail.strip(),
            )
        )

    def order_update(self, order: TrackedOrder, intent: Intent | None) -> None:
        if intent is None:
            return  # adopted orders are reported by reconciliation, not here
        self.queue.put_nowait(
            OrderUpdate(
                ts_ns=time.time_ns(),
                venue=VENUE_IDS.get(intent.venue, intent.venue),
                symbol=intent.symbol,
                **self._ids(intent),
                client_order_id=order.client_id,
                venue_order_id=order.venue_id,
                status=_STATUS[order.state],  # type: ignore[arg-type]
                side="buy" if order.side == "buy" else "sell",
                order_type="limit" if order.price is not None else "market",
                price=None if order.price is None else Decimal(order.price),
                qty=Decimal(order.qty),
                filled_qty=Decimal(order.filled),
                reason=order.error,
            )
        )

    def fill(self, fill: ExecFill, intent: Intent | None) -> None:
        if intent is None:
            return
        market = self.markets[(intent.venue, intent.symbol)]
        base, _, quote = market.unified.partition("/")
        venue = VENUE_IDS.get(intent.venue, intent.venue)
        self.queue.put_nowait(
            Fill(
                id=_stable_id("fill", venue, intent.symbol, fill.trade_id),
                ts_ns=fill.ts_ns,
                venue=venue,
                symbol=intent.symbol,
                **self._ids(intent),
                trade_id=fill.trade_id,
                client_order_id=fill.client_id,
                side="buy" if fill.side == "buy" else "sell",
                price=Decimal(fill.price),
                qty=Decimal(fill.qty),
                base=base,
                quote=quote,
                fee=Decimal(fill.fee),
                fee_currency=fill.fee_asset,
                liquidity="maker" if fill.maker else "taker",
            )
        )

    # ---- feeds -------------------------------------------------------------------------------------
    def book_state(self, venue: str, symbol: str, state: str, reason: str | None) -> None:
        """A book's sync state changed (the core's: ``synced``, ``waiting_for_snapshot``, ``out_of_sync``)."""
        status: Literal["ok", "degraded", "resync"] = (
            "ok" if state == "synced" else "resync" if state == "out_of_sync" else "degraded"
        )
        self.queue.put_nowait(
            Health(
                ts_ns=time.time_ns(),
                venue=VENUE_IDS.get(venue, venue),
                symbol=symbol,
                component="book",
                status=status,
                reason=reason or state,
            )
        )

    def feed_health(self, health: FeedHealth) -> None:
        self.queue.put_nowait(
            Health(
                ts_ns=time.time_ns(),
                venue=VENUE_IDS.get(health.venue, health.venue),
                symbol="",
                component=f"feed:{health.name}",
                status="ok" if health.connected else "down",
                reason=health.last_error,
            )
        )
