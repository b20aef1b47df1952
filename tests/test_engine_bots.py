"""The core's grid bot trading live against the simulator through feed, risk gate and executor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import yaml
from simutil import Rest, quiet_config
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine import Market, OrderRouter
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.engine.run import DEFAULT_BOTS
from wisetrader.execution import ExecutorConfig, LiveExecutor
from wisetrader.risk import AccountLimits, BotLimits, Instrument, RiskGate, RiskLimits
from wisetrader.sim import SimExchange
from wisetrader.sim.config import MarketSpec, SimConfig
from wisetrader.venues import venue_protocol

EXAMPLE = Path(__file__).parent.parent / "examples" / "bots" / "grid-btcusdt.yaml"
BTC = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))


async def _until(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_grid_bot_places_resting_orders_and_every_fill_reaches_it() -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec.update(
        fee_rate="0", start_price="30000", lower="29980", upper="30020", grids=8, investment={"quote": "2000"}
    )
    kind, instrument, bot_spec = core_args(parse_bot(spec))
    config = SimConfig(
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        market=MarketSpec(tick_interval_s=0.02, volatility_ticks=60.0),
    )
    limits = RiskLimits(
        account=AccountLimits(max_notional=Decimal(10**6)), bot=BotLimits(max_notional=Decimal(10**6))
    )
    async with SimExchange(config) as sim, aiohttp.ClientSession() as http:
        gate = RiskGate(limits)
        gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
        gate.add_account("demo", "binance")
        executor = LiveExecutor(
            ExecutorConfig(
                venue="binance", account="demo", api_key="simkey", secret="simsecret", rest_base=sim.rest_url
            )
        )
        await executor.start()
        markets = {("binance", "BTCUSDT"): BTC}
        strategy = BotStrategy("demo", markets)
        strategy.add_bot("binance", "BTCUSDT", 1, kind, instrument, bot_spec)
        router = OrderRouter(gate, {"demo": executor}, markets)
        strategy.router = router
        engine = Engine(router, strategy)
        protocol = venue_protocol("binance", ws_base=sim.ws_url, rest_base=sim.rest_url)
        feed = MarketFeed(
            protocol, [FeedInstrument("BTCUSDT", "0.01", "0.00001")], engine.changes_handler("binance"), http
        )
        task = asyncio.create_task(feed.run())
        reconcile = asyncio.create_task(
            executor.reconcile_forever(["BTC/USDT"], 0.2)
        )  # maker fills via myTrades
        try:
            await _until(lambda: strategy.fill_outcomes.get("applied", 0) >= 2)
        finally:
            feed.stop()
            reconcile.cancel()
            await asyncio.wait_for(task, 5)
            await router.drain()
            await executor.close()
        placed = [o for o in sim.exchange.orders.values() if o.account == "demo"]
        assert placed and all(o.client_id.startswith("W1") for o in placed)  # the bot's deterministic ids
        assert len({o.client_id for o in placed}) == len(placed)  # none placed twice
        assert strategy.fill_outcomes.get("unknown", 0) == 0
        trades = sim.exchange.accounts["demo"].trades
        assert strategy.fill_outcomes["applied"] <= len(trades)


async def test_a_take_profit_replacement_waits_until_the_replaced_one_is_gone() -> None:
    """On a live venue the take profit being replaced can trade before its cancel lands: the
    replacement, sized without that trade, must not be sent; the bot re-sizes on the late fill."""
    spec = dict(DEFAULT_BOTS[1], fee_rate="0", max_safety_orders=1, max_active_safety_orders=1)
    kind, instrument, bot_spec = core_args(parse_bot(spec))
    config = quiet_config(maker_fee=Decimal(0), taker_fee=Decimal(0))
    async with SimExchange(config) as sim, aiohttp.ClientSession() as http:
        other = Rest(http, sim.rest_url, key="keyb", secret="secretb")
        # Exactly the deal's market buy (50 USDT), so that the counter orders below meet only the bot's.
        await other.order(side="SELL", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.00166")
        gate = RiskGate(RiskLimits())
        gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
        gate.add_account("a", "binance")
        executor = LiveExecutor(
            ExecutorConfig(
                venue="binance", account="a", api_key="keya", secret="secreta", rest_base=sim.rest_url
            )
        )
        await executor.start()
        markets = {("binance", "BTCUSDT"): BTC}
        strategy = BotStrategy("a", markets)
        strategy.add_bot("binance", "BTCUSDT", 1, kind, instrument, bot_spec)
        router = OrderRouter(gate, {"a": executor}, markets)
        strategy.router = router
        engine = Engine(router, strategy)
        try:
            bid, ask = 2_999_999, 3_000_000
            gate.on_book("binance", "BTCUSDT", bid, ask)
            engine._submit(strategy.on_top("binance", "BTCUSDT", bid, ask, 1))  # the deal's market buy
            await router.drain()
            tp1, so = (
                next(o for o in sim.exchange.orders.values() if o.client_id.startswith(f"W1{leg}"))
                for leg in ("T", "D")
            )
            # Both trade on the venue before the engine hears of either (maker fills come by reconciliation).
            for order in (so, tp1):
                side = "SELL" if order.book_order.side.value == "BUY" else "BUY"
                qty = f"{order.book_order.qty * BTC.step_size}"
                await other.order(side=side, type="LIMIT", timeInForce="IOC", price=order.price, quantity=qty)
            await executor.reconcile(["BTC/USDT"])
            await router.drain()
        finally:
            await executor.close()
        mine = [o for o in sim.exchange.orders.values() if o.account == "a"]
        take_profits = [o for o in mine if o.client_id.startswith("W1T")]
        # One replacement reached the venue, sized for what is left (the safety order), never a second
        # one for the whole position; and nothing was sold twice.
        assert [o.status for o in take_profits] == ["FILLED", "NEW"], take_profits
        assert take_profits[1].book_order.qty == so.book_order.qty
        assert strategy.waiting == {} and strategy.gone == {}
