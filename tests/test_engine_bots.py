"""The core's grid bot trading live against the simulator through feed, risk gate and executor."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import yaml
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine import Market, OrderRouter
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
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


@dataclass
class _Live:
    sim: SimExchange
    strategy: BotStrategy
    router: OrderRouter


@asynccontextmanager
async def _live_grid(volatility_ticks: float, **overrides: object) -> AsyncIterator[_Live]:
    """Grid bot 1 (the example file with ``overrides``) trading on the simulator through feed, gate and
    executor, with maker fills found by reconciliation."""
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec.update(overrides)
    kind, instrument, bot_spec = core_args(parse_bot(spec))
    config = SimConfig(
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        market=MarketSpec(tick_interval_s=0.02, volatility_ticks=volatility_ticks),
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
            yield _Live(sim, strategy, router)
        finally:
            feed.stop()
            reconcile.cancel()
            await asyncio.wait_for(task, 5)
            await router.drain()
            await executor.close()


async def test_grid_bot_places_resting_orders_and_every_fill_reaches_it() -> None:
    async with _live_grid(
        60.0,
        fee_rate="0",
        start_price="30000",
        lower="29980",
        upper="30020",
        grids=8,
        investment={"quote": "2000"},
    ) as live:
        sim, strategy = live.sim, live.strategy
        await _until(lambda: strategy.fill_outcomes.get("applied", 0) >= 2)
    placed = [o for o in sim.exchange.orders.values() if o.account == "demo"]
    assert placed and all(o.client_id.startswith("W1") for o in placed)  # the bot's deterministic ids
    assert len({o.client_id for o in placed}) == len(placed)  # none placed twice
    assert strategy.fill_outcomes.get("unknown", 0) == 0
    trades = sim.exchange.accounts["demo"].trades
    assert strategy.fill_outcomes["applied"] <= len(trades)


async def test_pause_resume_and_close_a_grid_bot_on_the_simulator() -> None:
    # A calm market inside a wide grid: nothing fills but the opening market buy.
    async with _live_grid(
        1.0,
        fee_rate="0",
        start_price="30000",
        lower="29000",
        upper="31000",
        grids=8,
        investment={"quote": "1000"},
    ) as live:
        sim, strategy = live.sim, live.strategy
        core = strategy.engines[("binance", "BTCUSDT")]
        account = sim.exchange.accounts["demo"]
        start_btc = account.free["BTC"] + account.locked.get("BTC", Decimal(0))

        def on_sim() -> set[str]:
            return {
                o.client_id
                for o in sim.exchange.open_orders(account, "BTCUSDT")
                if o.client_id.startswith("W1")
            }

        def believed() -> set[str]:
            return {
                o["client_id"]
                for o in core.open_orders(1)
                if o["order_type"] == "limit" and not o["cancelling"]
            }

        def status() -> str:
            return str(json.loads(core.state(1))["status"])

        await _until(lambda: status() == "running" and len(on_sim()) == 8 and on_sim() == believed())
        assert account.free["BTC"] + account.locked.get("BTC", Decimal(0)) > start_btc  # the opening buy
        before = {(o["side"], o["price_ticks"], o["qty_lots"]) for o in core.open_orders(1)}
        first_ids = on_sim()

        assert strategy.command("binance", "BTCUSDT", 1, "pause", time.time_ns()) == []  # cancels only
        await _until(lambda: not on_sim() and core.open_orders(1) == [])
        assert status() == "paused"

        resumed = strategy.command("binance", "BTCUSDT", 1, "resume", time.time_ns())
        assert {(i.side, i.price, i.qty) for i in resumed} == before
        assert all(live.router.submit(i).accepted for i in resumed)
        await _until(lambda: len(on_sim()) == 8 and on_sim() == believed())
        assert not on_sim() & first_ids  # placed again under fresh ids
        assert status() == "running"

        assert strategy.command("binance", "BTCUSDT", 1, "close", time.time_ns()) == []  # cancels first
        await _until(lambda: status() == "stopped")
        assert not on_sim()
        # Flat on the venue: the close sold back exactly what the grid had bought.
        await _until(lambda: account.free["BTC"] + account.locked.get("BTC", Decimal(0)) == start_btc)
        state = json.loads(core.state(1))
        assert Decimal(state["base_balance"]) == 0
        with pytest.raises(ValueError, match="only close is accepted"):
            strategy.command("binance", "BTCUSDT", 1, "resume", time.time_ns())
