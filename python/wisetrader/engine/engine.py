"""The engine loop: market feeds -> Rust core -> strategy (the bots) -> risk gate -> executors -> bus.

A strategy turns top-of-book changes into order intents and hears back about orders and fills; the
bots of the core plug in here. Everything in one event loop; the only awaits are I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from wisetrader._core import Changes
from wisetrader.engine.marketfeed import MarketFeed
from wisetrader.engine.router import OrderRouter
from wisetrader.execution import Fill, TrackedOrder
from wisetrader.risk import Decision, Intent


class Strategy(Protocol):
    def on_top(self, venue: str, symbol: str, bid: int, ask: int, ts_ns: int) -> list[Intent]: ...
    def on_reject(self, intent: Intent) -> list[Intent]:
        """The risk gate refused ``intent``: it never reached a venue."""
        ...

    def on_order(self, order: TrackedOrder, intent: Intent | None) -> list[Intent]: ...
    def on_fill(self, fill: Fill, intent: Intent | None) -> list[Intent]: ...


class LatencyLog:
    """Frame receive time to executor hand-off, in ns, for every intent that was handed over."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.samples: list[int] = []
        self.limit = limit

    def add(self, ns: int) -> None:
        if len(self.samples) < self.limit:
            self.samples.append(ns)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1000 if ordered else float("nan")


class Engine:
    """Wires one router and one strategy to any number of market feeds."""

    def __init__(self, router: OrderRouter, strategy: Strategy) -> None:
        self.router = router
        self.strategy = strategy
        self.latency = LatencyLog()
        self.rejected = 0
        self.crossed_tops = 0  # tops with bid >= ask: a broken book, kept from the strategy
        # Set at shutdown: the strategy still hears of order updates and fills, but sends nothing more.
        self.halted = False
        # Told of every top-of-book change before the strategy (paper venues match against it).
        self.top_listeners: list[Callable[[str, str, int, int, int], None]] = []
        # While set, books and listeners are kept current but the strategy is not asked (a restart
        # reconciles with the venues first).
        self.hold_triggers = False
        self.on_change: Callable[[], None] | None = None  # after every order update and fill (persistence)
        listener = router.listener
        self._downstream = listener
        router.listener = self
        if hasattr(strategy, "send"):  # a strategy that sends intents on its own sends them through here
            strategy.send = self._submit

    def changes_handler(self, venue: str) -> Callable[[Changes], None]:
        """The ``on_changes`` callback of a :class:`MarketFeed` for ``venue``."""

        def on_changes(changes: Changes) -> None:
            gate = self.router.gate
            for recv_ns, symbol, _uid, bid, _bq, ask, _aq in changes.tops:
                if bid is None or ask is None:
                    continue
                if bid >= ask:
                    self.crossed_tops += 1
                    continue
                gate.on_book(venue, symbol, bid, ask)
                for listener in self.top_listeners:
                    listener(venue, symbol, bid, ask, recv_ns)
                if self.hold_triggers:
                    continue
                intents = self.strategy.on_top(venue, symbol, bid, ask, recv_ns)
                if intents:
                    self._submit(intents, recv_ns)
            for _, symbol, state, _reason in changes.states:
                if state != "synced":
                    gate.on_book(venue, symbol, 0, 0)  # no trading on a book out of sync

        return on_changes

    def submit(self, intents: Sequence[Intent]) -> None:
        """Submit intents that no frame caused (a command from the control plane, say)."""
        self._submit(intents)

    def _submit(self, intents: Sequence[Intent], recv_ns: int | None = None) -> None:
        """Submit; for intents caused by a frame, log the frame-to-executor latency."""
        if self.halted:
            return
        for intent in intents:
            if self.router.submit(intent).accepted:
                if recv_ns is not None:
                    self.latency.add(time.time_ns() - recv_ns)
            else:
                self.rejected += 1
                # The strategy must not wait for an order that was never sent (its next step may be
                # another intent; the core's bots do not re-send a refused one in a loop).
                self._submit(self.strategy.on_reject(intent))

    # ---- RouterListener: pass on downstream, and let the strategy react --------------------------
    def decision(self, intent: Intent, decision: Decision) -> None:
        if self._downstream is not None:
            self._downstream.decision(intent, decision)

    def order_update(self, order: TrackedOrder, intent: Intent | None) -> None:
        if self._downstream is not None:
            self._downstream.order_update(order, intent)
        self._submit(self.strategy.on_order(order, intent))
        if self.on_change is not None:
            self.on_change()

    def fill(self, fill: Fill, intent: Intent | None) -> None:
        if self._downstream is not None:
            self._downstream.fill(fill, intent)
        self._submit(self.strategy.on_fill(fill, intent))
        if self.on_change is not None:
            self.on_change()


def feeds_for(engine: Engine, feeds: Sequence[MarketFeed]) -> None:
    """Point each feed's changes at the engine."""
    for feed in feeds:
        feed.on_changes = engine.changes_handler(feed.protocol.name)
