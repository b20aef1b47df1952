"""``wisetrader run``: the engine on embedded defaults (in-process simulator, bus, example bots).

Bots trade live against the local simulator through the same feed, risk gate and executor code a real
venue would get; only the base URLs differ. Progress is logged periodically; at exit a summary per bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wisetrader.bots.model import BotFileError, core_args, parse_bot
from wisetrader.bus import InProcessBus
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.engine.publisher import BusPublisher
from wisetrader.engine.router import Market, OrderRouter
from wisetrader.execution import ExecutorConfig, LiveExecutor
from wisetrader.risk import BotLimits, Instrument, RiskGate, RiskLimits
from wisetrader.sim import SimConfig, SimExchange
from wisetrader.sim.config import MarketSpec
from wisetrader.venues import venue_protocol

_INSTRUMENT = {"tick_size": "0.01", "lot_step": "0.00001", "min_qty": "0.00001", "min_notional": "5"}
DEFAULT_BOTS: list[dict[str, Any]] = [
    {
        "kind": "grid",
        "venue": "binance-spot",
        "symbol": "BTCUSDT",
        "instrument": _INSTRUMENT,
        "fee_rate": "0.001",
        "start_price": "30000",
        "lower": "29800",
        "upper": "30200",
        "grids": 4,
        "spacing": "arithmetic",
        "investment": {"quote": "2000"},
    },
    {
        "kind": "dca",
        "venue": "binance-spot",
        "symbol": "BTCUSDT",
        "instrument": _INSTRUMENT,
        "fee_rate": "0.001",
        "side": "long",
        "base_order": {"quote": "50"},
        "safety_order": {"quote": "50"},
        "price_deviation_pct": "0.5",
        "step_scale": "1",
        "volume_scale": "1",
        "max_safety_orders": 3,
        "max_active_safety_orders": 3,
        "take_profit_pct": "0.5",
        "take_profit_type": "total",
        "budget": "300",
    },
]


class RunConfig(BaseModel):
    """``wisetrader run --config FILE``: bots (inline specs as in bot files), risk limits, simulator."""

    model_config = ConfigDict(extra="forbid")

    bots: list[dict[str, Any]] = Field(default_factory=lambda: list(DEFAULT_BOTS))
    risk: RiskLimits = Field(
        default_factory=lambda: RiskLimits(
            bot=BotLimits(max_order_notional=Decimal(2500), max_notional=Decimal(5000))
        )
    )
    # A livelier market than the simulator's default, so that the example bots trade within a minute.
    sim: SimConfig = Field(default_factory=lambda: SimConfig(market=MarketSpec(volatility_ticks=200.0)))
    log_every_s: float = 2.0

    @classmethod
    def from_yaml(cls, path: Path) -> RunConfig:
        return cls.model_validate(yaml.safe_load(path.read_text()) or {})


async def run(
    config: RunConfig, duration_s: float | None, stop: asyncio.Event | None = None
) -> dict[str, Any]:
    """Run until ``duration_s`` has passed or ``stop`` is set; return the summary."""
    stop = stop or asyncio.Event()
    sim_config = config.sim
    account = sim_config.accounts[0]
    markets = {
        ("binance", s.symbol): Market("binance", s.symbol, f"{s.base}/{s.quote}", s.tick_size, s.step_size)
        for s in sim_config.symbols
    }
    bus = InProcessBus()
    await bus.start()
    async with SimExchange(sim_config) as sim, aiohttp.ClientSession() as http:
        gate = RiskGate(config.risk)
        for s in sim_config.symbols:
            gate.add_instrument(
                Instrument("binance", s.symbol, s.tick_size, s.step_size, min_notional=s.min_notional)
            )
        gate.add_account(account.name, "binance")
        executor = LiveExecutor(
            ExecutorConfig(
                venue="binance",
                account=account.name,
                api_key=account.api_key,
                secret=account.secret,
                rest_base=sim.rest_url,
            )
        )
        await executor.start()
        publisher = BusPublisher(bus, markets)
        publisher.start()
        strategy = BotStrategy(account.name, markets)
        symbols = set()
        for i, spec in enumerate(config.bots, start=1):
            bot = parse_bot(spec, source=f"bots[{i - 1}]")
            kind, instrument, bot_spec = core_args(bot)
            strategy.add_bot("binance", bot.symbol, i, kind, instrument, bot_spec)
            symbols.add(bot.symbol)
        router = OrderRouter(gate, {account.name: executor}, markets, publisher)
        strategy.router = router
        engine = Engine(router, strategy)
        protocol = venue_protocol("binance", ws_base=sim.ws_url, rest_base=sim.rest_url)
        instruments = [
            FeedInstrument(s.symbol, str(s.tick_size), str(s.step_size))
            for s in sim_config.symbols
            if s.symbol in symbols
        ]
        feed = MarketFeed(
            protocol, instruments, engine.changes_handler("binance"), http, on_health=publisher.feed_health
        )
        unified = [markets[("binance", s.symbol)].unified for s in instruments]
        tasks = [
            asyncio.create_task(feed.run()),
            asyncio.create_task(executor.reconcile_forever(unified, 1.0)),
        ]
        started = time.monotonic()
        try:
            while not stop.is_set() and (duration_s is None or time.monotonic() - started < duration_s):
                left = (duration_s or 1e9) - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(config.log_every_s, max(0.01, left)))
                best = {s: feed.md.best_bid(s) for s in symbols}
                print(
                    f"[{time.monotonic() - started:6.1f}s] bid={best} orders={len(executor.orders)} "
                    f"fills={sum(len(o.fills) for o in executor.orders.values())} "
                    f"risk_rejections={sum(gate.rejections.values())} events={publisher.published}",
                    flush=True,
                )
        finally:
            feed.stop()
            for task in tasks[1:]:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(tasks[0], 5)
            await router.drain()
            await publisher.close()
            await executor.close()
        summary = {
            "bots": {
                str(i): json.loads(strategy.engines[("binance", spec["symbol"])].state(i))
                for i, spec in enumerate(config.bots, start=1)
            },
            "orders": len(executor.orders),
            "fills": sum(len(o.fills) for o in executor.orders.values()),
            "risk_rejections": {r.value: n for r, n in gate.rejections.items()},
            "events_published": publisher.published,
            "latency_us": {"p50": engine.latency.percentile(0.5), "p99": engine.latency.percentile(0.99)}
            if engine.latency.samples
            else None,
        }
    await bus.close()
    return summary


def run_command(config_path: Path | None, duration: float | None) -> None:
    try:
        config = RunConfig.from_yaml(config_path) if config_path else RunConfig()
        for i, spec in enumerate(config.bots):
            parse_bot(spec, source=f"bots[{i}]")
    except (ValidationError, BotFileError, yaml.YAMLError, OSError) as e:
        print(f"wisetrader run: invalid configuration: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    with contextlib.suppress(KeyboardInterrupt):
        summary = asyncio.run(run(config, duration))
        print(json.dumps(summary, indent=2, default=str))
