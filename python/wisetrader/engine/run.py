"""``wisetrader run``: the engine on embedded defaults (in-process simulator, bus, store, example bots).

Market data always comes from the simulator's WebSocket feed into the Rust core. Bots in ``paper`` mode
(the default) send their orders to the core's paper matcher against that live book; bots in ``live``
mode send them to the simulator's REST API through ccxt. Both go through the same risk gate and router,
and their order updates and fills flow back into the bots and onto the in-process bus, which a store
writer drains into the embedded store. A live terminal view (or, without a terminal, periodic log
lines) shows progress; at exit the P&L report is built from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import aiohttp
import yaml
from ccxt.base import errors as ccxt_errors
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from wisetrader.analytics.report import build, load_fills, render
from wisetrader.bots.model import BotFileError, core_args, parse_bot
from wisetrader.bus import InProcessBus
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.engine.publisher import BusPublisher
from wisetrader.engine.router import Market, OrderRouter
from wisetrader.events import Family
from wisetrader.execution import AccountStopped, ExecutorConfig, LiveExecutor
from wisetrader.execution.live import RateLimited
from wisetrader.execution.paper import PaperExecutor
from wisetrader.risk import BotLimits, Instrument, RiskGate, RiskLimits
from wisetrader.settings import get_settings
from wisetrader.sim import SimConfig, SimExchange
from wisetrader.sim.config import MarketSpec
from wisetrader.store import Store
from wisetrader.store.writer import StoreWriter
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


Mode = Literal["paper", "live"]
PAPER_ACCOUNT = "paper"


class PaperFees(BaseModel):
    """The paper matcher's fees (``_core.PaperVenue``), charged in the quote asset."""

    model_config = ConfigDict(extra="forbid")

    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    fill_model: Literal["strict", "touch"] = "strict"

    def core_json(self) -> str:
        return json.dumps(
            {
                "maker_fee": str(self.maker_fee),
                "taker_fee": str(self.taker_fee),
                "fill_model": self.fill_model,
                "fee_in": "quote",
            }
        )


class RunConfig(BaseModel):
    """``wisetrader run --config FILE``: bots (inline specs as in bot files, plus an optional
    ``mode: paper|live``), the default mode, paper fees, risk limits, simulator, store."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = "paper"
    paper: PaperFees = Field(default_factory=PaperFees)
    bots: list[dict[str, Any]] = Field(default_factory=lambda: list(DEFAULT_BOTS))
    risk: RiskLimits = Field(
        default_factory=lambda: RiskLimits(
            bot=BotLimits(max_order_notional=Decimal(2500), max_notional=Decimal(5000))
        )
    )
    # A livelier market than the simulator's default, so that the example bots trade within a minute.
    sim: SimConfig = Field(default_factory=lambda: SimConfig(market=MarketSpec(volatility_ticks=200.0)))
    log_every_s: float = 2.0
    # Where fills and orders are stored: a DSN (empty: the settings' store) and a database (empty: one
    # per run, ``run_<UTC time>``, so the report at exit covers this run only).
    store: str = ""
    database: str = ""

    def bot_mode(self, spec: dict[str, Any]) -> Mode:
        mode = spec.get("mode", self.mode)
        if mode not in ("paper", "live"):
            raise BotFileError(f"mode must be paper or live, got {mode!r}")
        return mode  # type: ignore[no-any-return]

    def bot_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The bot-file spec (without the run-only ``mode`` key)."""
        return {k: v for k, v in spec.items() if k != "mode"}

    @classmethod
    def from_yaml(cls, path: Path) -> RunConfig:
        return cls.model_validate(yaml.safe_load(path.read_text()) or {})


@dataclass
class RunResult:
    """What a run leaves: the summary, and the store holding its events (still open; caller closes)."""

    summary: dict[str, Any]
    store: Store
    bot_pnl: dict[str, Decimal]  # each bot's realized P&L as the core computed it
    sim: SimExchange  # the embedded simulator, stopped; its records (orders, trades, requests) stay readable


async def run(
    config: RunConfig,
    duration_s: float | None,
    stop: asyncio.Event | None = None,
    view: Callable[[dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run until ``duration_s`` has passed or ``stop`` is set; ``view`` gets a snapshot a few times a
    second. Returns the summary and the store (every event flushed into it)."""
    stop = stop or asyncio.Event()
    sim_config = config.sim
    account = sim_config.accounts[0]
    markets = {
        ("binance", s.symbol): Market("binance", s.symbol, f"{s.base}/{s.quote}", s.tick_size, s.step_size)
        for s in sim_config.symbols
    }
    store = Store(config.store or get_settings().resolved_store_dsn(), config.database or _run_database())
    await asyncio.to_thread(store.migrate)
    bus = InProcessBus()
    await bus.start()
    writer = StoreWriter(
        await bus.consumer("run-store-writer", [Family.ORDERS, Family.FILLS, Family.BOTS]),
        store,
        batch_ms=200,
    )
    writer_stop = asyncio.Event()
    writer_task = asyncio.create_task(writer.run(writer_stop))
    async with SimExchange(sim_config) as sim, aiohttp.ClientSession() as http:
        gate = RiskGate(config.risk)
        for s in sim_config.symbols:
            gate.add_instrument(
                Instrument("binance", s.symbol, s.tick_size, s.step_size, min_notional=s.min_notional)
            )
        gate.add_account(account.name, "binance")
        gate.add_account(PAPER_ACCOUNT, "binance")
        live = LiveExecutor(
            ExecutorConfig(
                venue="binance",
                account=account.name,
                api_key=account.api_key,
                secret=account.secret,
                rest_base=sim.rest_url,
            )
        )
        await live.start()
        publisher = BusPublisher(bus, markets)
        publisher.start()
        strategy = BotStrategy(account.name, markets)
        symbols: set[str] = set()
        paper_markets: dict[str, tuple[Market, str]] = {}
        for i, spec in enumerate(config.bots, start=1):
            bot = parse_bot(config.bot_spec(spec), source=f"bots[{i - 1}]")
            kind, instrument, bot_spec = core_args(bot)
            # Fees (paper and bot accounting) are named in the symbol's real assets, as the store needs.
            sym = next(s for s in sim_config.symbols if s.symbol == bot.symbol)
            instrument = json.dumps(
                {**json.loads(instrument), "base_asset": sym.base, "quote_asset": sym.quote}
            )
            paper = config.bot_mode(spec) == "paper"
            strategy.add_bot(
                "binance", bot.symbol, i, kind, instrument, bot_spec, PAPER_ACCOUNT if paper else None
            )
            symbols.add(bot.symbol)
            if paper:
                market = markets[("binance", bot.symbol)]
                paper_markets[market.unified] = (market, instrument)
        paper_exec = PaperExecutor(PAPER_ACCOUNT, paper_markets, config.paper.core_json())
        router = OrderRouter(gate, {account.name: live, PAPER_ACCOUNT: paper_exec}, markets, publisher)
        strategy.router = router
        engine = Engine(router, strategy)
        engine.top_listeners.append(
            lambda venue, symbol, bid, ask, ts: paper_exec.on_top(
                markets[(venue, symbol)].unified, bid, ask, ts
            )
        )
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
            asyncio.create_task(live.reconcile_forever(unified, 1.0)),
        ]
        executors: list[PaperExecutor | LiveExecutor] = [paper_exec, live]

        def bot_states() -> dict[str, dict[str, Any]]:
            return {
                str(i): json.loads(strategy.engines[("binance", spec["symbol"])].state(i))
                for i, spec in enumerate(config.bots, start=1)
            }

        def snapshot(elapsed: float) -> dict[str, Any]:
            books = {}
            for s in sorted(symbols):
                bid, ask = feed.md.best_bid(s), feed.md.best_ask(s)
                books[s] = (None if bid is None else bid[0], None if ask is None else ask[0])
            orders = [o for e in executors for o in e.orders.values()]
            return {
                "elapsed_s": elapsed,
                "books": books,
                "bots": bot_states(),
                "open_orders": [o for o in orders if not o.state.terminal],
                "orders": len(orders),
                "fills": sum(len(o.fills) for o in orders),
                "risk_rejections": sum(gate.rejections.values()),
                "feed": feed.stats(),
                "events": publisher.published,
                "stored_rows": writer.stats.rows,
            }

        started = time.monotonic()
        last_log = -config.log_every_s
        try:
            while not stop.is_set() and (duration_s is None or time.monotonic() - started < duration_s):
                left = (duration_s or 1e9) - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(VIEW_EVERY_S, max(0.01, left)))
                elapsed = time.monotonic() - started
                if view is not None:
                    view(snapshot(elapsed))
                elif elapsed - last_log >= config.log_every_s:
                    last_log = elapsed
                    print(log_line(snapshot(elapsed)), flush=True)
        finally:
            feed.stop()
            for task in tasks[1:]:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(tasks[0], 5)
            await router.drain()
            # The market stops with the run; a last reconciliation brings in the fills since the previous.
            sim.running = False
            with contextlib.suppress(ccxt_errors.BaseError, AccountStopped, RateLimited, TimeoutError):
                await asyncio.wait_for(live.reconcile(unified), 10)
            await router.drain()  # what the bots sent in answer to those fills
            await publisher.close()
            await live.close()
            writer_stop.set()
            await writer_task
        states = bot_states()
        orders = [o for e in executors for o in e.orders.values()]
        summary = {
            "bots": states,
            "orders": len(orders),
            "fills": sum(len(o.fills) for o in orders),
            "risk_rejections": {r.value: n for r, n in gate.rejections.items()},
            "events_published": publisher.published,
            "feed": feed.stats(),
            "crossed_tops": engine.crossed_tops,
            "executor": live.stats.as_dict(),
            "store": {"dsn": store.dsn, "database": store.database, **writer.stats.as_dict()},
            "latency_us": {"p50": engine.latency.percentile(0.5), "p99": engine.latency.percentile(0.99)}
            if engine.latency.samples
            else None,
        }
    await bus.close()
    return RunResult(summary, store, {i: Decimal(st["realized_pnl"]) for i, st in states.items()}, sim)


VIEW_EVERY_S = 0.25  # the live view's refresh (4 per second); log lines come every ``log_every_s``


def _run_database() -> str:
    return "run_" + datetime.now(UTC).strftime("%Y%m%d_%H%M%S")


def log_line(snap: dict[str, Any]) -> str:
    books = " ".join(f"{s}={bid}/{ask}" for s, (bid, ask) in snap["books"].items())
    pnl = " ".join(f"bot{i}={st['realized_pnl']}" for i, st in snap["bots"].items())
    return (
        f"[{snap['elapsed_s']:6.1f}s] {books} open_orders={len(snap['open_orders'])} orders={snap['orders']} "
        f"fills={snap['fills']} realized_pnl: {pnl} risk_rejections={snap['risk_rejections']} "
        f"events={snap['events']} stored_rows={snap['stored_rows']}"
    )


def live_view(snap: dict[str, Any]) -> Group:
    """The terminal view: books, bots (status, P&L), open orders."""
    books = Table(title="books", expand=True)
    for column in ("symbol", "bid", "ask"):
        books.add_column(column)
    for symbol, (bid, ask) in snap["books"].items():
        books.add_row(symbol, str(bid), str(ask))
    bots = Table(title="bots", expand=True)
    for column in ("bot", "kind", "status", "open orders", "realized P&L", "fees"):
        bots.add_column(column)
    for i, st in snap["bots"].items():
        fees = " ".join(f"{v} {k}" for k, v in st.get("fees", {}).items())
        bots.add_row(i, st["kind"], st["status"], str(st["open_orders"]), st["realized_pnl"], fees)
    orders = Table(title=f"open orders ({len(snap['open_orders'])})", expand=True)
    for column in ("client id", "bot", "symbol", "side", "price", "qty", "filled", "state"):
        orders.add_column(column)
    for o in snap["open_orders"][:20]:
        orders.add_row(o.client_id, o.bot_id, o.symbol, o.side, str(o.price), o.qty, o.filled, o.state.value)
    footer = (
        f"{snap['elapsed_s']:.1f}s  orders={snap['orders']} fills={snap['fills']} "
        f"risk rejections={snap['risk_rejections']} events={snap['events']} stored rows={snap['stored_rows']}"
    )
    return Group(books, bots, orders, footer)


def print_report(store: Store, console: Console) -> None:
    """The P&L report of ``wisetrader report``, from the run's store."""
    fills = load_fills(store)
    if fills.is_empty():
        console.print("no fills: nothing to report")
        return
    render(build(fills, capital=10_000.0), console)
    console.print(
        f"(stored in {store.dsn}, database {store.database}: `wisetrader report --database "
        f"{store.database}` shows it again)"
    )


def run_command(config_path: Path | None, duration: float | None) -> None:
    try:
        config = RunConfig.from_yaml(config_path) if config_path else RunConfig()
        for i, spec in enumerate(config.bots):
            config.bot_mode(spec)
            parse_bot(config.bot_spec(spec), source=f"bots[{i}]")
    except (ValidationError, BotFileError, yaml.YAMLError, OSError) as e:
        print(f"wisetrader run: invalid configuration: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    console = Console()
    stop = asyncio.Event()

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        # Ctrl-C stops the run gracefully (orders drained, store flushed), then the report is printed.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        if not console.is_terminal:
            return await run(config, duration, stop)
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            return await run(config, duration, stop, lambda snap: live.update(live_view(snap)))

    result = asyncio.run(main())
    try:
        console.print_json(json.dumps(result.summary, default=str))
        print_report(result.store, console)
    finally:
        result.store.close()
