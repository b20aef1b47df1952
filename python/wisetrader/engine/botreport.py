"""Each bot's state and P&L as bus events (``BotState``, ``PnlSnapshot``), from the core's bot summary.

A ``BotState`` goes out whenever what a user would call the bot's state changes (its run status, its
position, its count of working orders); a ``PnlSnapshot`` every ``pnl_every_s`` and soon after every fill
the core applied. Amounts come from the core's decimal strings and stay decimals: realized P&L is the
core's (net of quote fees), unrealized is the position marked at the book's mid, fees are converted to
the quote at the mid when charged in the base.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.publisher import VENUE_IDS, BusPublisher
from wisetrader.engine.router import Market
from wisetrader.events import BotState, PnlSnapshot

log = logging.getLogger(__name__)
RunState = Literal["created", "running", "paused", "stopped", "error"]


@dataclass
class Reported:
    """One bot the reporter follows: who owns it, and what was last published about it."""

    bot_id: int
    venue: str  # engine venue name (binance)
    symbol: str
    account_id: str
    user_id: str
    base: str
    quote: str
    invested: Decimal  # quote committed to the bot (equity = invested + realized + unrealized)
    state: RunState = "created"
    detail: str = ""
    last_state: tuple[Any, ...] | None = field(default=None, repr=False)
    last_fills: int = field(default=-1, repr=False)
    last_pnl_at: float = field(default=0.0, repr=False)


STORE_QUANTUM = Decimal("1e-18")  # the store keeps 18 decimals and refuses more rather than round


def money(value: Decimal) -> Decimal:
    """``value`` within the store's 18 decimals (a cost basis split by the core can carry more)."""
    exponent = value.as_tuple().exponent
    return value if isinstance(exponent, int) and exponent >= -18 else value.quantize(STORE_QUANTUM)


@dataclass(frozen=True, slots=True)
class Figures:
    position: Decimal
    avg_price: Decimal | None
    open_orders: int
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    fills: int
    mark: Decimal


def figures(summary: dict[str, Any], market: Market, mark: Decimal, base: str, quote: str) -> Figures:
    """The numbers of a ``BotEngine.state`` summary (grid or DCA), marked at ``mark``."""
    fees = Decimal(0)
    for asset, amount in summary.get("fees", {}).items():
        if asset == quote:
            fees += Decimal(amount)
        elif asset == base:
            fees += Decimal(amount) * mark
    # What the bot holds and what it cost (fees included), marked here rather than at the core's own
    # last mid, so that unrealized P&L and the published mark price agree.
    if summary["kind"] == "grid":
        position, cost = Decimal(summary["held_base"]), Decimal(summary["held_cost"])
    else:
        position, cost = Decimal(summary["position"]), Decimal(summary["cost"])
    avg = cost / position if position > 0 else None
    unrealized = position * mark - cost if position > 0 else Decimal(0)
    return Figures(
        position=money(position),
        # A division: the one figure rounded (to 1/10000 of a tick); every other one is exact.
        avg_price=None if avg is None else avg.quantize(market.tick_size * Decimal("0.0001")),
        open_orders=int(summary["open_orders"]),
        realized=money(Decimal(summary["realized_pnl"])),
        unrealized=money(unrealized),
        fees=money(fees),
        fills=int(summary["fills_applied"]),
        mark=mark,
    )


class BotReporter:
    """Publishes through ``publisher``'s queue; ``tops`` is fed by the engine's top-of-book listeners."""

    def __init__(
        self,
        strategy: BotStrategy,
        markets: dict[tuple[str, str], Market],
        publisher: BusPublisher,
        pnl_every_s: float = 2.0,
    ) -> None:
        self.strategy = strategy
        self.markets = markets
        self.publisher = publisher
        self.pnl_every_s = pnl_every_s
        self.bots: dict[int, Reported] = {}
        self.tops: dict[tuple[str, str], tuple[int, int]] = {}
        self.errors = 0

    def on_top(self, venue: str, symbol: str, bid: int, ask: int, _ts: int) -> None:
        self.tops[(venue, symbol)] = (bid, ask)

    def track(self, bot: Reported) -> None:
        self.bots[bot.bot_id] = bot

    def forget(self, bot_id: int) -> None:
        self.bots.pop(bot_id, None)

    def set_state(self, bot_id: int, state: RunState, detail: str = "") -> None:
        """The run state the engine applied (or an error); published at once."""
        bot = self.bots.get(bot_id)
        if bot is not None:
            bot.state, bot.detail = state, detail
            self.report(bot_id)

    def _mark(self, bot: Reported) -> Decimal | None:
        top = self.tops.get((bot.venue, bot.symbol))
        if top is None:
            return None
        market = self.markets[(bot.venue, bot.symbol)]
        return Decimal(top[0] + top[1]) / 2 * market.tick_size

    def report(self, bot_id: int, force_pnl: bool = False) -> None:
        """Publish what changed about one bot: its state, and its P&L when due."""
        bot = self.bots[bot_id]
        engine = self.strategy.engines.get((bot.venue, bot.symbol))
        market = self.markets.get((bot.venue, bot.symbol))
        raw = None
        if engine is not None and bot.state != "error":
            with contextlib.suppress(ValueError):  # not (or no longer) in the core
                raw = engine.state(bot_id)
        now_ns = time.time_ns()
        ids = {
            "venue": VENUE_IDS.get(bot.venue, bot.venue),
            "symbol": bot.symbol,
            "bot_id": str(bot.bot_id),
            "account_id": bot.account_id,
            "user_id": bot.user_id,
        }
        if raw is None or market is None:
            key: tuple[Any, ...] = (bot.state, bot.detail)
            if key != bot.last_state:
                bot.last_state = key
                self.publisher.queue.put_nowait(
                    BotState(
                        ts_ns=now_ns,
                        **ids,
                        state=bot.state,
                        position_qty=Decimal(0),
                        avg_price=None,
                        open_orders=0,
                        detail=bot.detail,
                    )
                )
            return
        summary = json.loads(raw)
        # A bot the core stopped by itself (stop loss, take profit at the end) is stopped, whatever was asked.
        state: RunState = "stopped" if summary["status"] in ("stopped", "finished") else bot.state
        detail = bot.detail or (summary.get("stop_reason") or "")
        mid = self._mark(bot)
        fig = figures(summary, market, mid if mid is not None else Decimal(0), bot.base, bot.quote)
        key = (state, detail, fig.position, fig.open_orders)
        if key != bot.last_state:
            bot.last_state = key
            self.publisher.queue.put_nowait(
                BotState(
                    ts_ns=now_ns,
                    **ids,
                    state=state,
                    position_qty=fig.position,
                    avg_price=fig.avg_price,
                    open_orders=fig.open_orders,
                    detail=detail,
                )
            )
        due = time.monotonic() - bot.last_pnl_at >= self.pnl_every_s
        if mid is not None and (force_pnl or due or fig.fills != bot.last_fills):
            bot.last_fills, bot.last_pnl_at = fig.fills, time.monotonic()
            self.publisher.queue.put_nowait(
                PnlSnapshot(
                    ts_ns=now_ns,
                    **ids,
                    quote=bot.quote,
                    mark_price=fig.mark,
                    position_qty=fig.position,
                    realized=fig.realized,
                    unrealized=fig.unrealized,
                    fees=fig.fees,
                    equity=bot.invested + fig.realized + fig.unrealized,
                )
            )

    def report_all(self) -> None:
        for bot_id in list(self.bots):
            try:
                self.report(bot_id)
            except (ValueError, KeyError, ArithmeticError):  # one odd summary must not stop the others
                self.errors += 1
                log.exception("bot %d: cannot report its state", bot_id)

    async def run(self, every_s: float = 0.25) -> None:
        """Check every bot a few times a second (cheap: one JSON summary per bot)."""
        while True:
            self.report_all()
            await asyncio.sleep(every_s)


async def cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
