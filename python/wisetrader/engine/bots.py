"""The core's bots (``_core.BotEngine``, one per symbol) as the engine's strategy.

Top-of-book changes go to the symbol's ``BotEngine``; its intents (place, cancel, replace in ticks and
lots) become router intents and cancels; order updates and fills go back to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from wisetrader._core import BotEngine
from wisetrader.engine.persistence import BotRecord
from wisetrader.engine.router import Market, OrderRouter
from wisetrader.execution import Fill, OrderState, TrackedOrder
from wisetrader.risk import Intent

if TYPE_CHECKING:
    from wisetrader._core import _Intent

# Our order states as the bots' ``on_update`` statuses (None: nothing to tell yet).
_STATUS: dict[OrderState, str | None] = {
    OrderState.IN_FLIGHT: None,
    OrderState.OPEN: "accepted",
    OrderState.PARTIALLY_FILLED: "partially_filled",
    OrderState.FILLED: "filled",
    OrderState.CANCELED: "cancelled",
    OrderState.EXPIRED: "cancelled",
    OrderState.REJECTED: "rejected",
}


class BotStrategy:
    """Bots by (venue, symbol); ``router`` must be set before the first top-of-book change."""

    def __init__(self, account: str, markets: Mapping[tuple[str, str], Market]) -> None:
        self.account = account
        self.markets = markets
        self.engines: dict[tuple[str, str], BotEngine] = {}
        self.router: OrderRouter | None = None
        self.fill_outcomes: dict[str, int] = {}
        self.accounts: dict[int, str] = {}  # bots that trade on another account than ``account``
        self.waiting: dict[str, Intent] = {}  # replacements by the order they replace, until it is gone
        self.gone: dict[str, TrackedOrder] = {}  # replaced orders that are terminal, fills still to come
        # Where intents made outside a callback go (the engine's submit; set by ``Engine``).
        self.send: Callable[[Sequence[Intent]], None] | None = None
        self.bots: dict[int, BotRecord] = {}  # as added: what a state file is checked against
        self.pending_cancels: set[str] = set()  # cancels asked for, not yet confirmed by the venue

    def add_bot(
        self,
        venue: str,
        symbol: str,
        bot_id: int,
        kind: str,
        instrument_json: str,
        spec_json: str,
        account: str | None = None,
    ) -> None:
        if account is not None:
            self.accounts[bot_id] = account
        engine = self.engines.get((venue, symbol))
        if engine is None:
            engine = self.engines[(venue, symbol)] = BotEngine(instrument_json)
        engine.add_bot(bot_id, kind, spec_json)
        self.bots[bot_id] = BotRecord(
            bot_id, venue, symbol, kind, instrument_json, spec_json, account or self.account
        )

    def restore(
        self, bots: Mapping[int, BotRecord], engines: Mapping[tuple[str, str], BotEngine], cancels: set[str]
    ) -> None:
        """Take the bots of a state file (instead of :meth:`add_bot`): they resume where they were."""
        self.bots = dict(bots)
        self.engines = dict(engines)
        self.accounts = {i: b.account for i, b in bots.items() if b.account != self.account}
        self.pending_cancels = set(cancels)

    def account_of(self, bot_id: int) -> str:
        return self.accounts.get(bot_id, self.account)

    def open_orders(self) -> Iterator[Intent]:
        """Every order a bot believes open (placed, not yet filled or confirmed cancelled), as the
        intent that placed it."""
        for bot_id, bot in self.bots.items():
            for o in self.engines[(bot.venue, bot.symbol)].open_orders(bot_id):
                yield Intent(
                    bot.account,
                    str(bot_id),
                    bot.venue,
                    bot.symbol,
                    o["side"],
                    o["qty_lots"] - o["filled_lots"],
                    None if o["order_type"] == "market" else o["price_ticks"],
                    o["client_id"],
                )

    def _convert(self, venue: str, symbol: str, intents: list[_Intent]) -> list[Intent]:
        """The core's intents as router intents; a replacement waits until the order it replaces is gone.

        On a live venue the order being replaced can trade until its cancel lands; placed at once, the
        replacement (sized without those trades) could trade too, and the bot would sell twice.
        """
        out = []
        for it in intents:
            action = it["action"]
            target = it["replaces"] if action == "replace" else None
            if action == "cancel":
                target = it["replaces"] if it["replaces"] is not None else it["client_id"]
            blocker = None if target is None else self.cancel(target)
            if action in ("place", "replace"):
                price = None if it["order_type"] == "market" else it["price_ticks"]
                intent = Intent(
                    self.account_of(it["bot"]),
                    str(it["bot"]),
                    venue,
                    symbol,
                    it["side"],
                    it["qty_lots"],
                    price,
                    it["client_id"],
                    # The market order of a user's emergency close passes the gate's states and
                    # budgets (the instrument filters still apply).
                    emergency=it["reason"] == "manual_close",
                )
                if blocker is None:
                    out.append(intent)
                else:
                    self.waiting[blocker] = intent
        return out

    def cancel(self, client_id: str) -> str | None:
        """Ask the venue to cancel ``client_id`` (without waiting; remembered until the venue confirms);
        returns the order a replacement of it must wait for (None: none)."""
        for blocker, intent in list(self.waiting.items()):
            if intent.client_id == client_id:  # never sent: forget it, and tell its bot it is gone
                del self.waiting[blocker]
                self._tell(intent, client_id, "cancelled")
                return blocker
        router = self.router
        if router is None or client_id not in router.intents:
            return None
        self.pending_cancels.add(client_id)
        router.cancel_soon(client_id, then=self._release)
        return client_id

    def _release(self, order: TrackedOrder) -> None:
        """Once a replaced order is terminal and its bot has every fill of it, send the replacement."""
        intent = self.waiting.get(order.client_id)
        router = self.router
        if intent is None or router is None or not order.state.terminal:
            return
        market = self.markets[(intent.venue, intent.symbol)]
        if router.filled_lots.get(order.client_id, 0) < market.lots(order.filled):
            self.gone[order.client_id] = order
            return  # fills still to come (reconciliation): the bot re-sizes on them, then this runs again
        del self.waiting[order.client_id]
        self.gone.pop(order.client_id, None)
        self._send([intent])

    def _tell(self, intent: Intent, client_id: str, status: str) -> None:
        _, intents = self.engines[(intent.venue, intent.symbol)].on_update(client_id, status, 0)
        self._send(self._convert(intent.venue, intent.symbol, intents))

    def _send(self, intents: Sequence[Intent]) -> None:
        if self.send is not None:
            self.send(intents)
        elif self.router is not None:
            for intent in intents:
                self.router.submit(intent)

    # ---- Strategy ------------------------------------------------------------------------------------
    def on_top(self, venue: str, symbol: str, bid: int, ask: int, ts_ns: int) -> list[Intent]:
        engine = self.engines.get((venue, symbol))
        if engine is None:
            return []
        return self._convert(venue, symbol, engine.on_top(bid, ask, ts_ns))

    def on_reject(self, intent: Intent) -> list[Intent]:
        engine = self.engines.get((intent.venue, intent.symbol))
        if engine is None:
            return []
        _, intents = engine.on_update(intent.client_id, "rejected", time.time_ns())
        return self._convert(intent.venue, intent.symbol, intents)

    # ---- user commands ---------------------------------------------------------------------------
    def command(self, venue: str, symbol: str, bot_id: int, command: str, ts_ns: int) -> list[Intent]:
        """A user command for one bot: ``pause``, ``resume``, ``stop`` or ``close`` (see docs/bot-file.md).

        Its cancels go to the router at once; the orders it places are returned as router intents, to be
        submitted like ``on_top``'s. A close sends its market order only once the venue has confirmed every
        cancel (it comes out of ``on_order``). ValueError for an unknown bot or command, or a command the
        bot's state refuses (a stopped bot accepts only ``close``).
        """
        engine = self.engines.get((venue, symbol))
        if engine is None:
            raise ValueError(f"no bots on {venue} {symbol}")
        return self._convert(venue, symbol, engine.command(bot_id, command, ts_ns))

    def on_order(self, order: TrackedOrder, intent: Intent | None) -> list[Intent]:
        if order.state.terminal:
            self.pending_cancels.discard(order.client_id)
        status = _STATUS[order.state]
        if intent is None or status is None:
            return []
        engine = self.engines[(intent.venue, intent.symbol)]
        _, intents = engine.on_update(order.client_id, status, 0)
        return self._convert(intent.venue, intent.symbol, intents)

    def on_fill(self, fill: Fill, intent: Intent | None) -> list[Intent]:
        if intent is None:
            return []
        market = self.markets[(intent.venue, intent.symbol)]
        ticks = Decimal(fill.price) / market.tick_size
        outcome, intents = self.engines[(intent.venue, intent.symbol)].on_fill(
            fill.trade_id,
            fill.client_id,
            fill.side,
            int(ticks),
            market.lots(fill.qty),
            fill.fee,
            fill.fee_asset,
            fill.ts_ns,
        )
        self.fill_outcomes[outcome] = self.fill_outcomes.get(outcome, 0) + 1
        out = self._convert(intent.venue, intent.symbol, intents)
        gone = self.gone.get(fill.client_id)
        if gone is not None:  # a replaced order's late fill: its replacement may go now
            self._release(gone)
        return out

    # ---- bots coming and going at run time (the control plane) --------------------------------------
    def remove_bot(self, venue: str, symbol: str, bot_id: int) -> bool:
        """Detach a bot; its orders, if any are still open, are no longer followed by it."""
        self.accounts.pop(bot_id, None)
        self.bots.pop(bot_id, None)
        engine = self.engines.get((venue, symbol))
        return engine is not None and engine.remove_bot(bot_id)
