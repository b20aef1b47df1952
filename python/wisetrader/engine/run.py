"""``wisetrader run``: the engine wired from a run config (``engine/config.py``).

One process: a feed per venue that has bots (the in-process simulator, the real venue, its testnet, or
given URLs: the same protocol code, only base URLs differ) into the Rust core's books; the core's bots;
the risk gate with global, per-account and per-bot limits; paper bots on the core's paper matcher
against their venue's live book, live bots on their account's ``LiveExecutor`` (ccxt); order updates and
fills back into the bots and onto the in-process bus, which a store writer drains into the embedded
store. A live terminal view (or periodic log lines, or ``on_event`` callbacks for the service) shows
progress; at stop, resting orders are cancelled or kept as configured, and the P&L report is built from
the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from ccxt.base import errors as ccxt_errors
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from wisetrader.analytics.report import build, load_fills, render
from wisetrader.bus import InProcessBus
from wisetrader.engine import persistence, recovery
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.config import (
    DEFAULT_BOTS,
    PAPER_ACCOUNT,
    ConfigError,
    PaperFees,
    RunConfig,
    RunPlan,
    load_config,
    paper_account,
    resolve,
)
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.engine.publisher import BusPublisher
from wisetrader.engine.router import Market, OrderRouter
from wisetrader.events import Family
from wisetrader.execution import AccountStopped, ExecutorConfig, LiveExecutor
from wisetrader.execution.live import RateLimited
from wisetrader.execution.paper import PaperExecutor
from wisetrader.feeds import FeedHealth
from wisetrader.risk import Instrument, RiskGate
from wisetrader.settings import get_settings
from wisetrader.sim import SimExchange
from wisetrader.store import Store
from wisetrader.store.writer import StoreWriter, WriterStats
from wisetrader.venues import venue_protocol

__all__ = [
    "DEFAULT_BOTS",
    "PAPER_ACCOUNT",
    "ConfigError",
    "PaperFees",
    "RunConfig",
    "RunResult",
    "StartError",
    "paper_account",
    "run",
]

# ``on_event(name, fields)``: started, feed_health (on connect/disconnect), summary (every log_every_s).
EventSink = Callable[[str, dict[str, Any]], None]


@dataclass
class RunResult:
    """What a run leaves: the summary, and the store holding its events (still open; caller closes)."""

    summary: dict[str, Any]
    store: Store
    bot_pnl: dict[str, Decimal]  # each bot's realized P&L as the core computed it
    capital: Decimal = Decimal(0)  # what the report's returns are computed on
    sim: SimExchange | None = None  # the in-process simulator, stopped: its records stay readable


def _gate(plan: RunPlan) -> RiskGate:
    gate = RiskGate(plan.limits)
    for (venue, symbol), market in plan.markets.items():
        gate.add_instrument(
            Instrument(
                venue,
                symbol,
                market.tick_size,
                market.step_size,
                min_notional=plan.min_notional[(venue, symbol)],
            )
        )
    for venue in plan.venues:
        gate.add_account(paper_account(venue), venue)
    for account in plan.accounts.values():
        gate.add_account(account.name, account.venue)
    return gate


def _live_executors(plan: RunPlan, urls: dict[str, tuple[str | None, str | None]]) -> dict[str, LiveExecutor]:
    out = {}
    for account in plan.accounts.values():
        venue = plan.venues[account.venue]
        creds = account.credentials
        out[account.name] = LiveExecutor(
            ExecutorConfig(
                venue=account.venue,
                account=account.name,
                api_key=creds.api_key.get_secret_value(),
                secret=creds.secret.get_secret_value(),
                passphrase=creds.passphrase.get_secret_value(),
                testnet=venue.network == "testnet",
                rest_base=urls[account.venue][0],
            )
        )
    return out


async def _stop_orders(
    engine: Engine, executors: dict[str, PaperExecutor | LiveExecutor], policy: str, timeout_s: float
) -> dict[str, Any]:
    """No new orders from here on; then cancel every resting order (``cancel``) or leave them (``keep``)."""
    engine.halted = True
    router = engine.router
    router.gate.kill()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(router.drain(), timeout_s)
    open_orders = [o for e in executors.values() for o in e.orders.values() if not o.state.terminal]
    if policy == "cancel" and open_orders:
        cancels = [executors[o.account].cancel(o.client_id) for o in open_orders]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*cancels, return_exceptions=True), timeout_s)
    left = [o.client_id for o in open_orders if not o.state.terminal]
    return {"orders": policy, "open_at_stop": len(open_orders), "left_open": len(left)}


async def _last_fills(live: dict[str, LiveExecutor], traded: dict[str, list[str]], timeout_s: float) -> None:
    """One last reconciliation per account: the fills since the previous one reach the bots and the store
    (an account the venue has stopped, or one that does not answer in time, is left as it is)."""
    for name, executor in live.items():
        with contextlib.suppress(ccxt_errors.BaseError, AccountStopped, RateLimited, TimeoutError):
            await asyncio.wait_for(executor.reconcile(traded[name]), timeout_s)


def default_state_dir(config_path: Path | None) -> Path:
    """``<data_dir>/state/<config file name>`` (``default`` without one): each config resumes its own bots."""
    return get_settings().data_dir / "state" / (config_path.stem if config_path else "default")


def state_path(config: RunConfig) -> Path | None:
    """The state file of this run's bots; None (not persisted) for ``persist: false``, or when no
    ``state_dir`` is set: ``wisetrader run`` and the service set it (:func:`default_state_dir`), a
    program calling :func:`run` chooses."""
    if not config.persist or config.state_dir is None:
        return None
    return config.state_dir / persistence.FILE_NAME


async def _wait_for_books(gate: RiskGate, keys: set[tuple[str, str]], timeout_s: float) -> None:
    """Until every market in ``keys`` has a book (a restart's re-sends go through the risk gate)."""
    deadline = time.monotonic() + timeout_s
    while any(not gate.instruments[k].bid for k in keys) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def run(
    config: RunConfig,
    duration_s: float | None,
    stop: asyncio.Event | None = None,
    view: Callable[[dict[str, Any]], None] | None = None,
    *,
    secrets_file: Path | None = None,
    on_event: EventSink | None = None,
) -> RunResult:
    """Run until ``duration_s`` has passed or ``stop`` is set; ``view`` gets a snapshot a few times a
    second. The config is checked in full first (:class:`ConfigError`; nothing is started then).
    Returns the summary and the store (every event flushed into it)."""
    plan = resolve(config, secrets_file if secrets_file is not None else get_settings().secrets_file)
    backbone = await _Backbone.start(config)
    try:
        return await _run(plan, backbone, duration_s, stop or asyncio.Event(), view, on_event)
    except StartError:
        await backbone.flush()
        await backbone.bus.close()
        backbone.store.close()
        raise


class StartError(RuntimeError):
    """The run could not start (a venue unreachable, keys refused); everything started is stopped."""


@dataclass
class _Backbone:
    """The run's store, and the in-process bus a store writer drains into it."""

    store: Store
    bus: InProcessBus
    writer: StoreWriter
    writer_stop: asyncio.Event
    writer_task: asyncio.Task[WriterStats]

    @classmethod
    async def start(cls, config: RunConfig) -> _Backbone:
        store = Store(config.store or get_settings().resolved_store_dsn(), config.database or _run_database())
        await asyncio.to_thread(store.migrate)
        bus = InProcessBus()
        await bus.start()
        writer = StoreWriter(
            await bus.consumer("run-store-writer", [Family.ORDERS, Family.FILLS, Family.BOTS]),
            store,
            batch_ms=200,
        )
        stop = asyncio.Event()
        return cls(store, bus, writer, stop, asyncio.create_task(writer.run(stop)))

    async def flush(self) -> None:
        """Stop the writer once it has stored everything published so far."""
        self.writer_stop.set()
        await self.writer_task


async def _run(
    plan: RunPlan,
    backbone: _Backbone,
    duration_s: float | None,
    stop: asyncio.Event,
    view: Callable[[dict[str, Any]], None] | None,
    on_event: EventSink | None,
) -> RunResult:
    store, bus, writer = backbone.store, backbone.bus, backbone.writer
    config, markets = plan.config, plan.markets
    needs_sim = any(v.network == "sim" for v in plan.venues.values())
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(SimExchange(config.sim)) if needs_sim else None
        http = await stack.enter_async_context(aiohttp.ClientSession())
        sim_urls = (sim.rest_url, sim.ws_url) if sim is not None else (None, None)
        urls = {name: v.endpoints(*sim_urls) for name, v in plan.venues.items()}
        gate = _gate(plan)
        publisher = BusPublisher(bus, markets)
        strategy = BotStrategy(PAPER_ACCOUNT, markets)  # every bot below names its own account
        paper_markets: dict[str, dict[str, tuple[Market, str]]] = {v: {} for v in plan.venues}
        for bot in plan.bots:
            strategy.add_bot(
                bot.venue, bot.symbol, int(bot.id), bot.kind, bot.instrument_json, bot.spec_json, bot.account
            )
            if bot.mode == "paper":
                market = markets[(bot.venue, bot.symbol)]
                paper_markets[bot.venue][market.unified] = (market, bot.instrument_json)
        state_file = state_path(config)
        saved = None if state_file is None else recovery.load(state_file, strategy)  # bots resume
        paper = {
            v: PaperExecutor(paper_account(v), ms, config.paper.core_json())
            for v, ms in paper_markets.items()
        }
        live = _live_executors(plan, urls)
        for name, executor in live.items():
            stack.push_async_callback(executor.close)
            try:
                await executor.start()
            except Exception as e:  # the venue is unreachable or refuses us: say which account and why
                label = plan.venues[executor.config.venue].label
                raise StartError(f"account {name} on {label}: {type(e).__name__}: {str(e)[:300]}") from None
        publisher.start()
        executors: dict[str, PaperExecutor | LiveExecutor] = {e.account: e for e in paper.values()}
        executors.update(live)
        router = OrderRouter(gate, executors, markets, publisher)
        strategy.router = router
        engine = Engine(router, strategy)
        engine.top_listeners.append(
            lambda venue, symbol, bid, ask, ts: paper[venue].on_top(
                markets[(venue, symbol)].unified, bid, ask, ts
            )
        )
        persister = None if state_file is None else recovery.attach(engine, strategy, state_file)
        engine.hold_triggers = saved is not None  # no trigger before the venues and the bots agree
        tasks: list[asyncio.Task[None]] = []
        traded: dict[str, list[str]] = {}  # each live account's symbols (ccxt's names)
        health: dict[str, bool] = {}

        def feed_health(h: FeedHealth) -> None:
            publisher.feed_health(h)
            if on_event is not None and health.get(h.name) != h.connected:
                fields = {"venue": h.venue, "feed": h.name, "connected": h.connected, "error": h.last_error}
                on_event("feed_health", fields)
            health[h.name] = h.connected

        feeds: dict[str, MarketFeed] = {}
        for name in plan.venues:
            rest, ws = urls[name]
            protocol = venue_protocol(
                name, "testnet" if plan.venues[name].network == "testnet" else "mainnet", ws, rest
            )
            instruments = [
                FeedInstrument(m.symbol, str(m.tick_size), str(m.step_size))
                for (v, _), m in sorted(markets.items())
                if v == name
            ]
            feeds[name] = MarketFeed(
                protocol,
                instruments,
                engine.changes_handler(name),
                http,
                on_health=feed_health,
                on_book_state=functools.partial(publisher.book_state, name),
            )
        feed_tasks = [asyncio.create_task(feed.run()) for feed in feeds.values()]

        def bot_states() -> dict[str, dict[str, Any]]:
            return {
                b.id: json.loads(strategy.engines[(b.venue, b.symbol)].state(int(b.id))) for b in plan.bots
            }

        def snapshot(elapsed: float) -> dict[str, Any]:
            books = {}
            for venue, symbol in sorted(markets):
                md = feeds[venue].md
                bid, ask = md.best_bid(symbol), md.best_ask(symbol)
                books[_book_name(plan, venue, symbol)] = (
                    None if bid is None else bid[0],
                    None if ask is None else ask[0],
                )
            orders = [o for e in executors.values() for o in e.orders.values()]
            return {
                "elapsed_s": elapsed,
                "books": books,
                "bots": bot_states(),
                "open_orders": [o for o in orders if not o.state.terminal],
                "orders": len(orders),
                "fills": sum(len(o.fills) for o in orders),
                "risk_rejections": sum(gate.rejections.values()),
                "feeds": {name: feed.stats() for name, feed in feeds.items()},
                "events": publisher.published,
                "stored_rows": writer.stats.rows,
            }

        if on_event is not None:
            on_event(
                "started",
                {
                    "venues": {v.label: v.network for v in plan.venues.values()},
                    "accounts": sorted(plan.accounts),
                    "bots": {
                        b.id: f"{b.kind} {b.mode} {b.venue}:{b.symbol} on {b.account}" for b in plan.bots
                    },
                },
            )
        resumed = None
        if saved is not None:
            await _wait_for_books(gate, {(b.venue, b.symbol) for b in plan.bots}, 30.0)
            resumed = (await recovery.resume(router, strategy, saved)).as_dict()
            engine.hold_triggers = False
            if on_event is not None:
                on_event("resumed", resumed)
            else:
                print(f"resumed from {state_file}: {json.dumps(resumed)}", flush=True)
        for name, executor in live.items():
            unified = traded[name] = sorted(
                {markets[(b.venue, b.symbol)].unified for b in plan.bots if b.account == name}
            )
            # Every second on the simulator (free); on a real venue each round costs request weight.
            sim_venue = plan.venues[executor.config.venue].network == "sim"
            interval = 1.0 if sim_venue else get_settings().reconcile_interval_s
            expected = router.intents.__contains__  # ours and unknown to every bot: an orphan
            tasks.append(asyncio.create_task(executor.reconcile_forever(unified, interval, expected)))

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
                    if on_event is not None:
                        on_event("summary", _summary_fields(snapshot(elapsed)))
                    else:
                        print(log_line(snapshot(elapsed)), flush=True)
        finally:
            for feed in feeds.values():
                feed.stop()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.gather(*feed_tasks, return_exceptions=True), 5)
            shutdown = await _stop_orders(
                engine, executors, config.shutdown.orders, config.shutdown.timeout_s
            )
            if sim is not None:
                sim.running = False  # the simulated market stops with the run
            await _last_fills(live, traded, config.shutdown.timeout_s)
            if persister is not None:
                await persister.close()
            await publisher.close()
            await backbone.flush()
        states = bot_states()
        orders = [o for e in executors.values() for o in e.orders.values()]
        summary = {
            "bots": states,
            "orders": len(orders),
            "fills": sum(len(o.fills) for o in orders),
            "risk_rejections": {r.value: n for r, n in gate.rejections.items()},
            "events_published": publisher.published,
            "shutdown": shutdown,
            "feeds": {name: feed.stats() for name, feed in feeds.items()},
            "crossed_tops": engine.crossed_tops,
            "executors": {name: executor.stats.as_dict() for name, executor in live.items()},
            "state": None
            if persister is None
            else {"file": str(state_file), "writes": persister.writes, "errors": persister.errors},
            "resumed": resumed,
            "store": {"dsn": store.dsn, "database": store.database, **writer.stats.as_dict()},
            "latency_us": {"p50": engine.latency.percentile(0.5), "p99": engine.latency.percentile(0.99)}
            if engine.latency.samples
            else None,
        }
    await bus.close()
    pnl = {i: Decimal(st["realized_pnl"]) for i, st in states.items()}
    return RunResult(summary, store, pnl, plan.capital, sim)


def _book_name(plan: RunPlan, venue: str, symbol: str) -> str:
    """``BTCUSDT`` on a one-venue run (as before), ``bybit:BTCUSDT`` when several venues run."""
    return symbol if len(plan.venues) == 1 else f"{plan.venues[venue].label}:{symbol}"


def _summary_fields(snap: dict[str, Any]) -> dict[str, Any]:
    """The periodic summary as JSON-ready fields (the service's log line)."""
    return {
        "elapsed_s": round(snap["elapsed_s"], 1),
        "books": {s: [None if x is None else str(x) for x in bt] for s, bt in snap["books"].items()},
        "open_orders": len(snap["open_orders"]),
        "orders": snap["orders"],
        "fills": snap["fills"],
        "realized_pnl": {i: st["realized_pnl"] for i, st in snap["bots"].items()},
        "risk_rejections": snap["risk_rejections"],
        "events": snap["events"],
        "stored_rows": snap["stored_rows"],
    }


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


def print_report(store: Store, console: Console, capital: Decimal) -> None:
    """The P&L report of ``wisetrader report``, from the run's store; returns are on ``capital``."""
    fills = load_fills(store)
    if fills.is_empty():
        console.print("no fills: nothing to report")
        return
    render(build(fills, capital=float(capital)), console)  # the report's ratios are floats: display only
    console.print(
        f"(stored in {store.dsn}, database {store.database}, capital {capital}: `wisetrader report "
        f"--database {store.database} --capital {capital}` shows it again)"
    )


def check_config(config_path: Path | None, secrets_file: Path | None) -> RunConfig:
    """The config, checked in full (exit 2 with every problem when it is invalid)."""
    try:
        config = load_config(config_path) if config_path else RunConfig()
        resolve(config, secrets_file if secrets_file is not None else get_settings().secrets_file)
    except ConfigError as e:
        where = f" {config_path}" if config_path else ""
        print(f"wisetrader run: invalid configuration{where}:", file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    return config


def run_command(
    config_path: Path | None,
    duration: float | None,
    secrets_file: Path | None = None,
    state_dir: Path | None = None,
) -> None:
    config = check_config(config_path, secrets_file)
    config.state_dir = state_dir or config.state_dir or default_state_dir(config_path)
    console = Console()
    stop = asyncio.Event()

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        # Ctrl-C stops the run gracefully (orders cancelled or kept, store flushed), then the report.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        if not console.is_terminal:
            return await run(config, duration, stop, secrets_file=secrets_file)
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            return await run(
                config, duration, stop, lambda snap: live.update(live_view(snap)), secrets_file=secrets_file
            )

    try:
        result = asyncio.run(main())
    except (persistence.StateFileError, recovery.ResumeError) as e:
        print(f"wisetrader run: cannot resume: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except StartError as e:
        print(f"wisetrader run: cannot start: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        console.print_json(json.dumps(result.summary, default=str))
        print_report(result.store, console, result.capital)
    finally:
        result.store.close()
