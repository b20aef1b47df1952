"""The engine loop over real sockets: simulator, feed, Rust core, strategy, risk, executor, and back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import aiohttp
from simutil import busy_config
from wisetrader.engine import Market, OrderRouter
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.execution import ExecutorConfig, Fill, LiveExecutor, OrderState, TrackedOrder, client_order_id
from wisetrader.risk import Instrument, Intent, RiskGate
from wisetrader.sim import SimExchange
from wisetrader.venues import venue_protocol

BTC = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))


async def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


class OneShotBuyer:
    """Buys once at the ask (crossing) on the first in-sync top, then once more after that fill."""

    def __init__(self) -> None:
        self.orders: list[tuple[str, OrderState]] = []
        self.fills: list[Fill] = []
        self.sent = 0

    def _buy(self, venue: str, symbol: str, price: int) -> list[Intent]:
        self.sent += 1
        cid = client_order_id("oneshot", "b", self.sent, 0)
        return [Intent("demo", "oneshot", venue, symbol, "buy", 100, price, client_id=cid)]

    def on_top(self, venue: str, symbol: str, bid: int, ask: int, ts_ns: int) -> list[Intent]:
        self.ask = ask
        return self._buy(venue, symbol, ask) if self.sent == 0 else []

    def on_reject(self, intent: Intent) -> list[Intent]:
        return []

    def on_order(self, order: TrackedOrder, intent: Intent | None) -> list[Intent]:
        self.orders.append((order.client_id, order.state))
        return []

    def on_fill(self, fill: Fill, intent: Intent | None) -> list[Intent]:
        self.fills.append(fill)
        return self._buy("binance", "BTCUSDT", self.ask) if self.sent == 1 else []


async def test_frames_drive_a_strategy_whose_orders_fill_on_the_simulator() -> None:
    async with SimExchange(busy_config()) as sim, aiohttp.ClientSession() as http:
        gate = RiskGate()
        gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
        gate.add_account("demo", "binance")
        config = ExecutorConfig(
            venue="binance", account="demo", api_key="simkey", secret="simsecret", rest_base=sim.rest_url
        )
        executor = LiveExecutor(config)
        await executor.start()
        router = OrderRouter(gate, {"demo": executor}, {("binance", "BTCUSDT"): BTC})
        strategy = OneShotBuyer()
        engine = Engine(router, strategy)
        protocol = venue_protocol("binance", ws_base=sim.ws_url, rest_base=sim.rest_url)
        feed = MarketFeed(
            protocol, [FeedInstrument("BTCUSDT", "0.01", "0.00001")], engine.changes_handler("binance"), http
        )
        task = asyncio.create_task(feed.run())
        try:
            await _until(lambda: len(strategy.fills) >= 2)
            await router.drain()
        finally:
            feed.stop()
            await asyncio.wait_for(task, 5)
            await executor.close()
        assert strategy.sent == 2 and len(engine.latency.samples) == 1  # one frame-driven, one fill-driven
        assert {state for _, state in strategy.orders} >= {OrderState.FILLED}
        placed = [o for o in sim.exchange.orders.values() if o.account == "demo"]
        assert len(placed) == 2 and {o.client_id for o in placed} == {
            client_order_id("oneshot", "b", n, 0) for n in (1, 2)
        }
        assert gate.accounts["demo"].exposure.position["BTCUSDT"] == 200
        assert gate.accounts["demo"].exposure.open_orders == 0
