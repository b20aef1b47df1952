"""The streaming engine run by the control plane: ``controlled_engine(...)`` starts it; the API's bots run
in it.

Market data comes from the in-process exchange simulator's WebSocket feed (every symbol it lists) into
the Rust core. Paper bots trade against the core's paper matcher on that live book; live bots of a
``simulator`` account trade on the simulator's REST API through ccxt with the account's own keys. Every
order passes the one risk gate; orders, fills, bot state and P&L go onto the bus. Which bots run, and the
gate's states, limits and switches, follow the control-plane database (``engine.control``).

Entry points: ``wisetrader api`` on embedded defaults (``api.embedded``: API, engine, bus and store in one
process and event loop), and ``python -m wisetrader.engine.controlled`` (the engine alone, on the
settings' bus, e.g. Kafka, beside a separate API process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wisetrader.bus import Bus
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.engine.botreport import BotReporter, cancel
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.control import ControlError, ControlFollower, Keys
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.engine.publisher import BusPublisher
from wisetrader.engine.router import Executor, Market, OrderRouter
from wisetrader.execution import ExecutorConfig, LiveExecutor
from wisetrader.execution.paper import PaperExecutor
from wisetrader.risk import BotLimits, Instrument, RiskGate, RiskLimits
from wisetrader.sim import SimConfig, SimExchange
from wisetrader.sim.config import MarketSpec
from wisetrader.venues import venue_protocol

VENUE = "binance"  # the protocol the simulator speaks


class ControlledConfig(BaseModel):
    """The engine's own settings (which bots run is the control plane's business)."""

    model_config = ConfigDict(extra="forbid")

    sim: SimConfig = Field(default_factory=lambda: SimConfig(market=MarketSpec(volatility_ticks=200.0)))
    paper_maker_fee: Decimal = Decimal("0.001")
    paper_taker_fee: Decimal = Decimal("0.001")
    risk: RiskLimits = Field(
        default_factory=lambda: RiskLimits(
            bot=BotLimits(max_order_notional=Decimal(2500), max_notional=Decimal(5000))
        )
    )
    sync_every_s: float = Field(default=2.0, gt=0, description="re-read the control plane this often")
    pnl_every_s: float = Field(default=2.0, gt=0, description="P&L snapshot of every bot this often")

    def paper_json(self) -> str:
        return json.dumps(
            {
                "maker_fee": str(self.paper_maker_fee),
                "taker_fee": str(self.paper_taker_fee),
                "fill_model": "strict",
                "fee_in": "quote",
            }
        )


@dataclass
class ControlledEngine:
    """The running parts (``engine.control.Host``), for the follower, the API and tests to look at."""

    strategy: BotStrategy
    engine: Engine
    gate: RiskGate
    router: OrderRouter
    reporter: BotReporter
    publisher: BusPublisher
    paper: PaperExecutor
    feed: MarketFeed
    markets: dict[tuple[str, str], Market]
    assets: dict[tuple[str, str], tuple[str, str]]
    executors: dict[str, Executor]
    rest_url: str
    follower: ControlFollower | None = None
    live: dict[str, LiveExecutor] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def bind_account(self, account_id: int, venue: str, mode: str, keys: Callable[[], Keys]) -> str:
        if mode == "paper":
            name = f"{account_id}/paper"
            if name not in self.executors:
                self.executors[name] = self.paper
                self.gate.add_account(name, VENUE)
            return name
        if venue != "simulator":
            raise ControlError(f"live trading on {venue} needs an engine on {venue}'s market data")
        name = str(account_id)
        if name not in self.live:
            k = keys()
            live = LiveExecutor(
                ExecutorConfig(
                    venue=VENUE, account=name, api_key=k.api_key, secret=k.secret, rest_base=self.rest_url
                )
            )
            await live.start()
            live.on_update, live.on_fill = self.router.order_update, self.router.fill
            self.live[name] = live
            self.executors[name] = live
            self.gate.add_account(name, VENUE)
            unified = [m.unified for m in self.markets.values()]
            self._tasks.append(asyncio.create_task(live.reconcile_forever(unified, 1.0)))
        return name


@asynccontextmanager
async def controlled_engine(
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    keyring: KeyRing,
    config: ControlledConfig | None = None,
) -> AsyncIterator[ControlledEngine]:
    """Start the simulator, the feed, the engine and the control-plane follower; stop them on exit."""
    config = config or ControlledConfig()
    symbols = config.sim.symbols
    markets = {
        (VENUE, s.symbol): Market(VENUE, s.symbol, f"{s.base}/{s.quote}", s.tick_size, s.step_size)
        for s in symbols
    }
    assets = {(VENUE, s.symbol): (s.base, s.quote) for s in symbols}
    async with SimExchange(config.sim) as sim, aiohttp.ClientSession() as http:
        gate = RiskGate(config.risk)
        for s in symbols:
            gate.add_instrument(
                Instrument(VENUE, s.symbol, s.tick_size, s.step_size, min_notional=s.min_notional)
            )
        publisher = BusPublisher(bus, markets)
        publisher.start()
        strategy = BotStrategy("", markets)
        paper_markets = {
            markets[(VENUE, s.symbol)].unified: (
                markets[(VENUE, s.symbol)],
                json.dumps(
                    {
                        "tick_size": str(s.tick_size),
                        "lot_step": str(s.step_size),
                        "min_qty": str(s.min_qty),
                        "min_notional": str(s.min_notional),
                        "base_asset": s.base,
                        "quote_asset": s.quote,
                    }
                ),
            )
            for s in symbols
        }
        paper = PaperExecutor("paper", paper_markets, config.paper_json())
        executors: dict[str, Executor] = {}
        router = OrderRouter(gate, executors, markets, publisher)
        paper.on_update, paper.on_fill = router.order_update, router.fill
        strategy.router = router
        engine = Engine(router, strategy)
        reporter = BotReporter(strategy, markets, publisher, config.pnl_every_s)
        engine.top_listeners.append(
            lambda venue, symbol, bid, ask, ts: paper.on_top(markets[(venue, symbol)].unified, bid, ask, ts)
        )
        engine.top_listeners.append(reporter.on_top)
        feed = MarketFeed(
            venue_protocol(VENUE, ws_base=sim.ws_url, rest_base=sim.rest_url),
            [FeedInstrument(s.symbol, str(s.tick_size), str(s.step_size)) for s in symbols],
            engine.changes_handler(VENUE),
            http,
            on_health=publisher.feed_health,
            on_book_state=lambda symbol, state, reason: publisher.book_state(VENUE, symbol, state, reason),
        )
        host = ControlledEngine(
            strategy, engine, gate, router, reporter, publisher, paper, feed, markets, assets, executors,
            sim.rest_url,
        )  # fmt: skip
        host._tasks += [asyncio.create_task(feed.run()), asyncio.create_task(reporter.run())]
        follower = host.follower = ControlFollower(host, sessions, keyring, bus, config.sync_every_s)
        try:
            await follower.start()
            yield host
        finally:
            await follower.close()
            feed.stop()
            for task in host._tasks:
                await cancel(task)
            await router.drain()
            reporter.report_all()
            await publisher.close()
            for live in host.live.values():
                await live.close()


async def follow_control_plane() -> None:
    """The engine alone, following the control plane named by the settings (``WISETRADER_API__*``: its
    database and master keys) on the settings' bus, until SIGTERM or SIGINT."""
    from wisetrader.api.app import load_keyring
    from wisetrader.bus import from_settings
    from wisetrader.controlplane.db import default_url, make_engine, migrate, sessionmaker
    from wisetrader.settings import get_settings

    root = get_settings()
    db = make_engine(root.api.database_url or default_url(root.data_dir))
    await migrate(db)
    bus = from_settings(root)
    await bus.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with controlled_engine(bus, sessionmaker(db), load_keyring(root.api, root.data_dir)):
            await stop.wait()
    finally:
        await bus.close()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(follow_control_plane())
