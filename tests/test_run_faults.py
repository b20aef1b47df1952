"""Every fault the simulator injects, through the whole engine (``run()``), with its expected outcome.

Market-data faults run paper bots (the fault is on the feed; the core's paper matcher fills them);
order-entry faults run live bots on the simulator's Binance spot API through ccxt. Each case is a few
seconds of a real run over real sockets, and asserts on the run's summary (the feed's and executor's
counters), on the store, and on the simulator's own records (what the venue saw and holds).
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from wisetrader.analytics.report import build, load_fills
from wisetrader.engine.run import DEFAULT_BOTS, PaperFees, RunConfig, RunResult, run
from wisetrader.execution import ExecutorConfig
from wisetrader.sim import SimConfig, SimExchange
from wisetrader.sim.config import FaultSpec, LimitSpec, MarketSpec

ACCOUNT = "demo"  # the simulator's default account, which live bots trade on
RUN_S = 4.0
FEE = Decimal("0.0001")  # low fees (bots, paper matcher and simulator alike), so that narrow grids pay
ARMED_AFTER = 3  # 429/418 hit after this many orders were accepted: mid-session, with orders open


def _bots(mode: str) -> list[dict[str, Any]]:
    """A DCA bot with tight steps and a grid with narrow levels: both trade within a second or two."""
    common = {"fee_rate": str(FEE), "mode": mode}
    dca = dict(DEFAULT_BOTS[1], price_deviation_pct="0.05", take_profit_pct="0.03", **common)
    grid = dict(DEFAULT_BOTS[0], lower="29900", upper="30100", grids=8, **common)
    return [dca, grid]


async def _run(
    chdb_dir: Path,
    mode: str,
    faults: FaultSpec,
    limits: LimitSpec | None = None,
    duration: float = RUN_S,
    venue_fee: Decimal = FEE,
    samples: list[dict[str, Any]] | None = None,
) -> RunResult:
    config = RunConfig(
        bots=_bots(mode),
        paper=PaperFees(maker_fee=FEE, taker_fee=FEE),
        sim=SimConfig(
            market=MarketSpec(volatility_ticks=1500.0),  # a lively market: bots trade within seconds
            maker_fee=venue_fee,
            taker_fee=venue_fee,
            faults=faults,
            limits=limits or LimitSpec(),
        ),
        store=f"chdb://{chdb_dir}",
        database=f"run_faults_{time.time_ns()}",
        log_every_s=60.0,
    )
    return await run(config, duration, view=None if samples is None else samples.append)


def _sim(result: RunResult) -> SimExchange:
    assert result.sim is not None
    return result.sim


def _assert_no_order_lost_or_duplicated(result: RunResult, complete: bool = True) -> pl.DataFrame:
    """The venue's records and the store agree one to one (``complete=False``: the store may lack the
    fills the engine could not ask about, e.g. while banned); returns the stored fills."""
    sim = _sim(result)
    orders = [o for o in sim.exchange.orders.values() if o.account == ACCOUNT]  # all the bots'
    assert orders
    ids = Counter(o.client_id for o in orders)
    assert [cid for cid, n in ids.items() if n > 1] == []  # no client id placed twice
    fills = load_fills(result.store)
    trades = sim.exchange.accounts[ACCOUNT].trades
    # Every fill of ours on the venue is stored, exactly once, and nothing else is.
    assert set(fills["account_id"].to_list()) <= {ACCOUNT}
    stored, venue = Counter(fills["trade_id"].to_list()), Counter(str(t["id"]) for t in trades)
    assert max(stored.values(), default=1) == 1 and (stored == venue if complete else stored <= venue)
    assert result.store.count("fills") == fills.height  # not one duplicate event reached the store
    if complete:
        venue_qty = sum((Decimal(str(t["qty"])) for t in trades), Decimal(0))
        assert sum(fills["qty"].to_list(), Decimal(0)) == venue_qty
    # Every order the venue accepted became known to the engine beyond "in flight".
    known = result.store.query_arrow(
        "SELECT DISTINCT client_order_id FROM {db}.order_updates WHERE status != 'in_flight'"
    )
    assert set(ids) <= set(known.column(0).to_pylist())
    # What reconciliation found never reached the venue is indeed not there (and is all it reported).
    never = result.store.query_arrow(
        "SELECT DISTINCT client_order_id FROM {db}.order_updates WHERE reason = 'never reached the venue'"
    )
    never_ids = set(never.column(0).to_pylist())
    assert not never_ids & set(ids) and len(never_ids) == result.summary["executors"][ACCOUNT]["lost"]
    return fills


def _assert_pnl_adds_up(result: RunResult, fills: pl.DataFrame) -> None:
    """Realized P&L per bot from the core equals the P&L recomputed from the stored fills (a run with
    no venue fees: see the partial fills case).

    The core books a deal at average cost (rust_decimal, 28 significant digits); the ledger's
    ``average`` method does the same with 50 digits, rounding each fill's realized P&L to the store's 18
    decimals. So the two agree to within half of 1e-18 per fill.
    """
    summary = result.summary
    assert sum(st["fills_applied"] for st in summary["bots"].values()) == fills.height
    by_bot = {
        row["bot_id"]: row
        for row in build(fills, capital=10_000.0, method="average").by_bot.iter_rows(named=True)
    }
    dca = "1"
    assert summary["bots"][dca]["kind"] == "dca" and by_bot[dca]["trades"] > 0  # take profits filled
    tolerance = Decimal(by_bot[dca]["fills"]) * Decimal("1e-18")
    assert abs(by_bot[dca]["grid_profit"] - result.bot_pnl[dca]) <= tolerance
    for bot, state in summary["bots"].items():  # the grid pairs levels, not lots: its fills only
        assert by_bot[bot]["fills"] == state["fills_applied"], bot
        assert by_bot[bot]["fees"] == 0 and set(state["fees"].values()) <= {"0"}, bot  # no venue fees


def _assert_feed_healthy(result: RunResult) -> dict[str, Any]:
    summary = result.summary
    assert summary["crossed_tops"] == 0  # the core never published a crossed book (bots never see one)
    assert summary["orders"] > 0 and summary["fills"] > 0  # and they traded
    feed: dict[str, Any] = summary["feeds"]["binance"]
    assert feed["book"]["snapshots"] >= 1 and feed["snapshot_failures"] == 0
    return feed


# ---- market data faults (paper bots) -----------------------------------------------------------------


async def test_dropped_diff_frames_are_gaps_that_resync(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "paper", FaultSpec(drop_diff_prob=0.05))
    feed = _assert_feed_healthy(result)
    assert (
        feed["book"]["gaps"] > 0 and feed["resyncs"]["gap"] > 0 and set(feed["resyncs"]) == {"initial", "gap"}
    )
    assert feed["book"]["snapshots"] == 1 + feed["resyncs"]["gap"]  # each gap resynced from a snapshot
    result.store.close()


async def test_duplicated_diff_frames_are_skipped_without_a_resync(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "paper", FaultSpec(dup_diff_prob=0.2))
    feed = _assert_feed_healthy(result)
    # A repeated Binance diff is stale (its update ids were applied already): skipped, the chain holds.
    assert feed["book"]["skipped_stale"] > 1 and feed["book"]["gaps"] == 0
    assert feed["resyncs"] == {"initial": 1}
    result.store.close()


async def test_disconnects_reconnect_resync_and_bots_keep_trading(chdb_dir: Path) -> None:
    samples: list[dict[str, Any]] = []
    result = await _run(chdb_dir, "paper", FaultSpec(disconnect_after_frames=15), samples=samples)
    feed = _assert_feed_healthy(result)
    # Every cut is followed by a new connection (the last one may still be under way at the stop).
    closed, connects = feed["reconnects"]["closed"], feed["connects"]
    assert set(feed["reconnects"]) == {"closed"} and closed >= 2 and connects in (closed, closed + 1)
    # Each connection starts a new book from a new snapshot, and data flows again (the last connection
    # may have been cut by the stop before its snapshot came).
    assert set(feed["resyncs"]) == {"initial"} and feed["resyncs"]["initial"] >= connects - 1
    assert feed["book"]["snapshots"] >= connects - 1
    # The bots placed orders after the first reconnect.
    after = next(s for s in samples if s["feeds"]["binance"]["connects"] >= 2)
    assert result.summary["orders"] > after["orders"]
    result.store.close()


async def test_delayed_snapshot_buffers_then_syncs_and_nothing_trades_before(chdb_dir: Path) -> None:
    delay = 1.5
    started_ns = time.time_ns()
    result = await _run(chdb_dir, "paper", FaultSpec(snapshot_delay_s=delay))
    feed = _assert_feed_healthy(result)
    assert feed["book"]["buffered"] > 1 and feed["resyncs"] == {"initial": 1}
    # The snapshot was requested after the run started and answered ``delay`` later: no order before.
    first = result.store.query_arrow("SELECT toUnixTimestamp64Nano(min(ts)) FROM {db}.orders")
    assert first.column(0)[0].as_py() >= started_ns + int(delay * 1e9)
    result.store.close()


# ---- order entry faults (live bots on the simulator) ---------------------------------------------------


async def test_429_backs_off_without_a_ban_then_orders_go_on(chdb_dir: Path) -> None:
    result = await _run(
        chdb_dir,
        "live",
        FaultSpec(force_429=1, rest_faults_after_orders=ARMED_AFTER),
        LimitSpec(retry_after_s=1),
    )
    venue, executor = _sim(result).binance.stats, result.summary["executors"][ACCOUNT]
    assert venue.answered_429 >= 1 and executor["backoffs_429"] == venue.answered_429
    # The venue's view: during the back-off only what was already in flight, never enough for a ban.
    assert venue.in_backoff <= ExecutorConfig.max_in_flight - 1 < LimitSpec().requests_in_429_before_ban
    assert venue.answered_418 == 0 and executor["account_stops"] == 0
    assert venue.new_orders > ARMED_AFTER  # orders were placed after the 429
    _assert_no_order_lost_or_duplicated(result)
    result.store.close()


async def test_418_stops_the_account_and_the_run_goes_on(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "live", FaultSpec(force_418=1, rest_faults_after_orders=ARMED_AFTER))
    venue, executor = _sim(result).binance.stats, result.summary["executors"][ACCOUNT]
    # The run reports the stop, and what it did not send because of it.
    assert executor["account_stops"] >= 1 and executor["refused_stopped"] > 0
    # The venue's view: after the ban answer, only what was already in flight; no order after it.
    assert venue.in_ban <= ExecutorConfig.max_in_flight - 1
    assert venue.answered_418 == executor["account_stops"] == 1 + venue.in_ban
    assert venue.new_orders == ARMED_AFTER
    _assert_no_order_lost_or_duplicated(result, complete=False)  # fills since the ban are not known yet
    result.store.close()


async def test_5xx_after_accept_is_settled_never_resent(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "live", FaultSpec(fail_after_accept=3, fail_mode="5xx"))
    executor = result.summary["executors"][ACCOUNT]
    # The query by client id right after each lost answer finds the order: settled, not resent.
    assert executor["answers_lost"] == 3 and executor["in_flight_settled"] >= 3 and executor["lost"] == 0
    _assert_no_order_lost_or_duplicated(result)
    result.store.close()


async def test_5xx_then_an_outage_leaves_orders_in_flight_for_reconciliation(chdb_dir: Path) -> None:
    # After each lost answer the venue answers 503 to the next requests too (the query by client id, and
    # any order sent meanwhile, whose fate is then unknown as well): reconciliation settles them later.
    # An order refused by the outage before the matching engine never reached the venue: reconciliation
    # proves it (``lost``; its bot hears "rejected").
    faults = FaultSpec(fail_after_accept=2, fail_mode="5xx", outage_after_fail=3)
    result = await _run(chdb_dir, "live", faults)
    executor = result.summary["executors"][ACCOUNT]
    assert executor["answers_lost"] >= 2 and executor["reconcile_settled"] >= 1
    _assert_no_order_lost_or_duplicated(result)
    result.store.close()


async def test_timeout_after_accept_is_settled_by_reconciliation(chdb_dir: Path) -> None:
    # The answer hangs past the reconciliation interval (1 s): reconciliation settles the order first.
    faults = FaultSpec(fail_after_accept=2, fail_mode="timeout", timeout_s=2.5)
    result = await _run(chdb_dir, "live", faults)
    executor = result.summary["executors"][ACCOUNT]
    assert executor["answers_lost"] == 2 and executor["reconcile_settled"] >= 1 and executor["lost"] == 0
    _assert_no_order_lost_or_duplicated(result)
    result.store.close()


async def test_delayed_acks_open_orders_without_duplicates(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "live", FaultSpec(ack_delay_s=0.5))
    _assert_no_order_lost_or_duplicated(result)
    executor = result.summary["executors"][ACCOUNT]
    assert executor["answers_lost"] == 0 and executor["lost"] == 0
    result.store.close()


async def test_partial_fills_add_up_to_the_venue_and_the_pnl(chdb_dir: Path) -> None:
    # No venue fees here: the core nets a fee charged in the base asset out of the position, while the
    # ledger books it as a quote cost at the fill price, so with base fees the two differ by design.
    result = await _run(
        chdb_dir, "live", FaultSpec(partial_fill_lots=200), duration=6.0, venue_fee=Decimal(0)
    )
    fills = _assert_no_order_lost_or_duplicated(result)
    assert max(Counter(fills["client_order_id"].to_list()).values()) >= 2  # several fills for one order
    _assert_pnl_adds_up(result, fills)
    result.store.close()


async def test_live_run_without_faults_pnl_adds_up(chdb_dir: Path) -> None:
    result = await _run(chdb_dir, "live", FaultSpec(), duration=6.0, venue_fee=Decimal(0))
    fills = _assert_no_order_lost_or_duplicated(result)
    executor = result.summary["executors"][ACCOUNT]
    assert executor["answers_lost"] == 0 and executor["lost"] == 0 and result.summary["crossed_tops"] == 0
    _assert_pnl_adds_up(result, fills)
    result.store.close()
