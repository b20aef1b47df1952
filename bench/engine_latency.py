"""Frame arrival in Python -> order request handed to the executor, p50/p99, over real WebSockets.

Run: ``python -m bench.engine_latency [--seconds 10]``. The local simulator streams Binance diff depth;
the feed session hands frame batches to the Rust core; each top-of-book change goes to a strategy that
emits one order intent; the risk gate checks it; the router hands it to an executor that answers at
once. The clock starts at the frame's receive time (taken by the feed session) and stops when the
router has handed the request over. uvloop, as in production.

``--bots N`` replaces the stand-in strategy by N of the core's grid bots (virtual placement). The
executor here never fills, so each bot sends only its opening order, all N on the first in-sync top:
that measures a burst (the N-th order waits for the N-1 before it), not the steady state.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import aiohttp
import uvloop
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine import Market, OrderRouter
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.execution import Fill, TrackedOrder
from wisetrader.risk import AccountLimits, BotLimits, Instrument, Intent, RiskGate, RiskLimits
from wisetrader.venues import venue_protocol

from bench.order_path import NullExecutor


class BidFollower:
    """One intent per top-of-book change: a buy one tick under the bid (the heaviest case)."""

    def __init__(self) -> None:
        self.n = 0

    def on_top(self, venue: str, symbol: str, bid: int, ask: int, ts_ns: int) -> list[Intent]:
        self.n += 1
        return [Intent("acct", "bench", venue, symbol, "buy", 100, bid - 1, client_id=f"wtbench{self.n}")]

    def on_reject(self, intent: Intent) -> list[Intent]:
        return []

    def on_order(self, order: TrackedOrder, intent: Intent | None) -> list[Intent]:
        return []

    def on_fill(self, fill: Fill, intent: Intent | None) -> list[Intent]:
        return []


def grid_bots(n: int, markets: dict[tuple[str, str], Market]) -> BotStrategy:
    """``n`` virtual-placement grid bots (orders emitted when the book crosses a level), staggered."""
    strategy = BotStrategy("acct", markets)
    for i in range(n):
        lower, upper = Decimal(29950) + Decimal(i % 50) / 10, Decimal(30050) + Decimal(i % 50) / 10
        spec = {
            "kind": "grid",
            "venue": "binance-spot",
            "symbol": "BTCUSDT",
            "instrument": {
                "tick_size": "0.01",
                "lot_step": "0.00001",
                "min_qty": "0.00001",
                "min_notional": "5",
            },
            "fee_rate": "0",
            "start_price": "30000",
            "lower": str(lower),
            "upper": str(upper),
            "grids": 20,
            "spacing": "arithmetic",
            "investment": {"quote": "2000"},
            "placement": "virtual",
        }
        kind, instrument, bot_spec = core_args(parse_bot(spec))
        strategy.add_bot("binance", "BTCUSDT", i + 1, kind, instrument, bot_spec)
    return strategy


async def run(seconds: float, bots: int = 0, tick_interval_s: float = 0.01) -> Engine:
    big = Decimal(10**12)
    limits = RiskLimits(
        account=AccountLimits(
            rate_budget_fraction=Decimal(10**6),
            max_open_orders=10**9,
            max_notional=big,
            max_order_notional=big,
        ),
        bot=BotLimits(max_open_orders=10**9, max_notional=big, max_order_notional=big),
    )
    gate = RiskGate(limits)
    gate.add_instrument(Instrument("binance", "BTCUSDT", Decimal("0.01"), Decimal("0.00001")))
    gate.add_account("acct", "binance")
    market = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))
    router = OrderRouter(gate, {"acct": NullExecutor()}, {("binance", "BTCUSDT"): market})
    strategy: BidFollower | BotStrategy = BidFollower()
    if bots:
        strategy = grid_bots(bots, {("binance", "BTCUSDT"): market})
        strategy.router = router
    engine = Engine(router, strategy)
    # The simulator runs in its own process, so that only the engine's own work is on this loop.
    config = Path(tempfile.mkdtemp()) / "sim.yaml"
    config.write_text(
        f"market: {{tick_interval_s: {tick_interval_s}, volatility_ticks: {60.0 if bots else 3.0}}}\n"
    )
    sim = subprocess.Popen(
        [sys.executable, "-m", "wisetrader", "sim-exchange", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    rest = sim.stdout.readline().split()[3]
    ws = rest.replace("http://", "ws://")
    try:
        async with aiohttp.ClientSession() as http:
            await _measure(engine, ws, rest, http, seconds)
    finally:
        sim.terminate()
        sim.wait(10)
        config.unlink()
    await router.drain()
    return engine


async def _measure(engine: Engine, ws: str, rest: str, http: aiohttp.ClientSession, seconds: float) -> None:
    protocol = venue_protocol("binance", ws_base=ws, rest_base=rest)
    instrument = FeedInstrument("BTCUSDT", "0.01", "0.00001")
    feed = MarketFeed(protocol, [instrument], engine.changes_handler("binance"), http)
    task = asyncio.create_task(feed.run())
    await asyncio.sleep(seconds)
    feed.stop()
    await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--bots", type=int, default=0, help="N virtual grid bots of the core instead of a stand-in"
    )
    args = parser.parse_args()
    engine = uvloop.run(run(args.seconds, args.bots))
    lat = engine.latency
    print(
        f"frame -> executor hand-off: n={len(lat.samples)} p50={lat.percentile(0.5):.1f} us "
        f"p99={lat.percentile(0.99):.1f} us (risk rejections: {engine.rejected})"
    )


if __name__ == "__main__":
    main()
