"""The engine stopped dead with orders in flight, then rebuilt from its state file (in one process).

Against the simulator on real sockets, every order acknowledged late (``ack_delay_s``) so that a stop
always lands with requests on the wire. The first engine is abandoned without any cleanup (its tasks
cancelled, no final write: what SIGKILL leaves), a second one is built from the state file; the
simulator's own records then show every client id placed once, every fill the simulator made for our
orders applied by a bot exactly once, and new orders placed after the restart.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from restart_support import applied_fill_ids, saved_bots
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine import Market, OrderRouter, persistence, recovery
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.execution import ExecutorConfig, LiveExecutor
from wisetrader.risk import AccountLimits, BotLimits, Instrument, RiskGate, RiskLimits
from wisetrader.sim import SimExchange
from wisetrader.sim.config import FaultSpec, MarketSpec, SimConfig
from wisetrader.venues import venue_protocol

EXAMPLE = Path(__file__).parent.parent / "examples" / "bots" / "grid-btcusdt.yaml"
BTC = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))
MARKETS = {("binance", "BTCUSDT"): BTC}
ACCOUNT = "demo"


def _grid(lower: str, upper: str, grids: int) -> tuple[str, str, str]:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec.update(
        fee_rate="0", start_price="30000", lower=lower, upper=upper, grids=grids, investment={"quote": "2000"}
    )
    return core_args(parse_bot(spec))


BOTS = {1: _grid("29960", "30040", 8), 2: _grid("29900", "30100", 10)}


async def _until(cond: Callable[[], bool], timeout: float = 60.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@dataclass
class Running:
    engine: Engine
    strategy: BotStrategy
    router: OrderRouter
    executor: LiveExecutor
    feed: MarketFeed
    persister: persistence.StatePersister
    tasks: list[asyncio.Task[None]]
    report: recovery.RecoveryReport | None


async def _start(sim: SimExchange, http: aiohttp.ClientSession, state: Path) -> Running:
    """The engine as ``wisetrader run`` wires it: fresh bots, or the bots of the state file."""
    gate = RiskGate(
        RiskLimits(
            account=AccountLimits(max_notional=Decimal(10**6)),
            bot=BotLimits(max_notional=Decimal(10**6), max_order_notional=Decimal(10**5)),
        )
    )
    gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
    gate.add_account(ACCOUNT, "binance")
    executor = LiveExecutor(
        ExecutorConfig(
            venue="binance", account=ACCOUNT, api_key="simkey", secret="simsecret", rest_base=sim.rest_url
        )
    )
    await executor.start()
    strategy = BotStrategy(ACCOUNT, MARKETS)
    for bot_id, (kind, instrument, spec) in BOTS.items():
        strategy.add_bot("binance", "BTCUSDT", bot_id, kind, instrument, spec)
    saved = recovery.load(state, strategy)
    router = OrderRouter(gate, {ACCOUNT: executor}, MARKETS)
    strategy.router = router
    engine = Engine(router, strategy)
    persister = recovery.attach(engine, strategy, state, interval_s=0.05)
    engine.hold_triggers = True  # until the venue and the bots agree
    protocol = venue_protocol("binance", ws_base=sim.ws_url, rest_base=sim.rest_url)
    feed = MarketFeed(
        protocol, [FeedInstrument("BTCUSDT", "0.01", "0.00001")], engine.changes_handler("binance"), http
    )
    tasks = [asyncio.create_task(feed.run())]
    await _until(lambda: feed.md.best_bid("BTCUSDT") is not None)
    report = None if saved is None else await recovery.resume(router, strategy, saved)
    engine.hold_triggers = False
    tasks.append(
        asyncio.create_task(executor.reconcile_forever(["BTC/USDT"], 0.1, router.intents.__contains__))
    )
    return Running(engine, strategy, router, executor, feed, persister, tasks, report)


async def _abandon(run: Running) -> None:
    """What SIGKILL leaves: every task dropped where it was, nothing flushed, nothing cancelled."""
    pending = [*run.tasks, *run.router.tasks]  # placements and cancels alike
    assert run.persister._task is not None
    pending.append(run.persister._task)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await run.executor.close()  # the sockets only (the kernel closes them for a killed process)


async def _stop(run: Running) -> None:
    run.feed.stop()
    for task in run.tasks[1:]:
        task.cancel()
    await asyncio.wait_for(asyncio.gather(*run.tasks, return_exceptions=True), 10)
    await run.router.drain()
    await run.persister.close()
    await run.executor.close()


def _ours(sim: SimExchange) -> list[Any]:
    return [o for o in sim.exchange.orders.values() if o.account == ACCOUNT]


@pytest.mark.parametrize("phase", ["placing", "trading"])
async def test_engine_stopped_dead_with_orders_in_flight_resumes_without_duplicates(
    tmp_path: Path, phase: str
) -> None:
    config = SimConfig(
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        market=MarketSpec(tick_interval_s=0.02, volatility_ticks=150.0),
        faults=FaultSpec(ack_delay_s=0.3),
    )
    state = tmp_path / "state" / persistence.FILE_NAME
    async with SimExchange(config) as sim, aiohttp.ClientSession() as http:
        first = await _start(sim, http, state)
        assert first.report is None  # no state file: fresh bots
        if phase == "placing":
            # Killed while the opening orders are still on the wire.
            await _until(lambda: len(_ours(sim)) >= 3 and bool(first.router.tasks))
        else:
            # Killed after fills, with a placement (a bot's answer to a fill) on the wire.
            await _until(
                lambda: first.strategy.fill_outcomes.get("applied", 0) >= 6 and bool(first.router.tasks)
            )
        await _abandon(first)
        placed_before = {o.client_id for o in _ours(sim)}
        assert state.exists()

        second = await _start(sim, http, state)
        report = second.report
        assert report is not None
        assert report.adopted or report.settled  # the bots' open orders were found on the venue
        assert not report.unresolved
        await _until(lambda: len({o.client_id for o in _ours(sim)} - placed_before) >= 3)
        await _until(lambda: second.strategy.fill_outcomes.get("applied", 0) >= 3)
        sim.running = False  # freeze the market: the last fills are the last ones
        await asyncio.sleep(0.5)
        await second.executor.reconcile(["BTC/USDT"], second.router.intents.__contains__)
        await _stop(second)

        orders = _ours(sim)
        ids = Counter(o.client_id for o in orders)
        assert ids and max(ids.values()) == 1, [c for c, n in ids.items() if n > 1]  # none placed twice
        trades = {str(t["id"]) for t in sim.exchange.accounts[ACCOUNT].trades}
        saved = persistence.read(state)
        assert saved is not None
        seen: list[str] = []
        for bot in saved_bots(saved):
            applied = applied_fill_ids(bot)
            assert bot["desk"]["ledger"]["fills_applied"] == len(applied)  # none applied twice
            assert bot["desk"]["ledger"]["unknown_fills"] == 0
            seen.extend(applied)
        assert len(seen) == len(set(seen))
        assert set(seen) == trades  # every fill the venue made for us, in a bot, exactly once
        # Every order a bot believes open is open on the venue (nothing lost, nothing left behind).
        open_on_venue = {o.client_id for o in sim.exchange.open_orders(sim.exchange.accounts[ACCOUNT], None)}
        believed = {i.client_id for i in second.strategy.open_orders()}
        assert believed == open_on_venue


async def test_a_damaged_or_foreign_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / persistence.FILE_NAME
    strategy = BotStrategy(ACCOUNT, MARKETS)
    kind, instrument, spec = BOTS[1]
    strategy.add_bot("binance", "BTCUSDT", 1, kind, instrument, spec)
    persistence.write_atomic(
        state, persistence.encode(persistence.snapshot(strategy.bots, strategy.engines, [], set()))
    )
    assert recovery.load(state, strategy) == []
    data = state.read_bytes()

    state.write_bytes(data[: len(data) // 2])  # a torn write (what the atomic rename prevents)
    with pytest.raises(persistence.StateFileError, match="truncated"):
        recovery.load(state, strategy)
    assert b'"kind":"grid"' in data
    state.write_bytes(data.replace(b'"kind":"grid"', b'"kind":"gird"', 1))  # one flipped field
    with pytest.raises(persistence.StateFileError, match="checksum mismatch"):
        recovery.load(state, strategy)
    head, _, body = data.partition(b"\n")
    state.write_bytes(json.dumps({**json.loads(head), "version": 99}).encode() + b"\n" + body)
    with pytest.raises(persistence.StateFileError, match="version 99"):
        recovery.load(state, strategy)
    for other_file in (b"", b"bots: []\n"):
        state.write_bytes(other_file)
        with pytest.raises(persistence.StateFileError, match="not a wisetrader-engine-state file"):
            recovery.load(state, strategy)

    state.write_bytes(data)
    other = BotStrategy(ACCOUNT, MARKETS)
    other.add_bot("binance", "BTCUSDT", 1, *BOTS[2])  # same id, another grid
    other.add_bot("binance", "BTCUSDT", 2, *BOTS[2])
    with pytest.raises(persistence.StateFileError, match=r"bot 1 changed \(spec_json\); bot 2 is new"):
        recovery.load(state, other)


async def test_writes_are_coalesced_and_an_order_request_waits_for_its_own(tmp_path: Path) -> None:
    path = tmp_path / "state" / persistence.FILE_NAME
    taken = [0]

    def snapshot() -> dict[str, Any]:
        taken[0] += 1
        return {"snapshot": taken[0]}

    persister = persistence.StatePersister(path, snapshot, interval_s=0.5)
    persister.start()
    for _ in range(100):  # a burst of order updates and fills
        persister.mark()
    await asyncio.sleep(0.05)
    assert persister.writes == 0  # held back to coalesce
    await persister.durable()  # an order request: its snapshot is written at once
    assert persister.writes == 1 and persistence.read(path) == {"snapshot": 1}
    persister.mark()
    await _until(lambda: persister.writes == 2)  # within the interval, without asking
    assert persistence.read(path) == {"snapshot": 2}

    # A disk that refuses: counted, retried, and no request waiting on it is let through meanwhile.
    path.parent.rename(tmp_path / "moved")
    path.parent.write_text("a file where the directory was")
    waiting = asyncio.create_task(persister.durable())
    await _until(lambda: persister.errors >= 1)
    assert not waiting.done()
    path.parent.unlink()
    await asyncio.wait_for(waiting, 10)
    assert persistence.read(path) is not None
    await persister.close()
    assert persistence.read(path) == {"snapshot": taken[0]}  # the final write at a clean stop


async def test_a_venue_that_will_not_reconcile_stops_the_start(tmp_path: Path) -> None:
    strategy = BotStrategy(ACCOUNT, MARKETS)
    strategy.add_bot("binance", "BTCUSDT", 1, *BOTS[1])
    strategy.engines[("binance", "BTCUSDT")].on_top(2999900, 3000100, 1)  # orders the bot believes open
    executor = LiveExecutor(ExecutorConfig(venue="binance", account=ACCOUNT, rest_base="http://127.0.0.1:9"))
    executor.ex = executor.build_client()
    executor.stopped_until = time.monotonic() + 600  # banned by the venue (HTTP 418)
    gate = RiskGate(RiskLimits())
    gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
    gate.add_account(ACCOUNT, "binance")
    router = OrderRouter(gate, {ACCOUNT: executor}, MARKETS)
    strategy.router = router
    try:
        with pytest.raises(recovery.ResumeError, match="account demo: the venue did not answer"):
            await recovery.resume(router, strategy)
    finally:
        await executor.close()
    assert not router.tasks and not executor.orders  # nothing was sent
    assert len(gate.open) == len(list(strategy.open_orders()))  # each counted once despite the retries
