"""``wisetrader run`` in paper mode, end to end over real sockets against the in-process simulator.

The feed is the simulator's WebSocket, orders go through the risk gate and router to the core's paper
matcher, events flow over the in-process bus into the embedded store (chDB), and the P&L computed from
the stored fills must match what the bots computed themselves in the core.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from wisetrader.analytics.report import build, load_fills
from wisetrader.engine import persistence
from wisetrader.engine.run import DEFAULT_BOTS, PaperFees, RunConfig, paper_account, run
from wisetrader.sim import SimConfig
from wisetrader.sim.config import MarketSpec

FEE = "0.0001"


async def test_paper_run_stores_fills_and_pnl_adds_up(chdb_dir: Path) -> None:
    # A lively market and DCA bots with tight take-profits, so that deals open and close within seconds.
    dca = dict(DEFAULT_BOTS[1], fee_rate=FEE, price_deviation_pct="0.05", take_profit_pct="0.03")
    grid = dict(DEFAULT_BOTS[0], fee_rate=FEE, lower="29000", upper="31000", grids=4)
    config = RunConfig(
        bots=[dca, dict(dca, take_profit_pct="0.02"), grid],
        paper=PaperFees(maker_fee=Decimal(FEE), taker_fee=Decimal(FEE)),
        sim=SimConfig(market=MarketSpec(volatility_ticks=400.0)),
        store=f"chdb://{chdb_dir}",
        database=f"run_paper_{time.time_ns()}",
        log_every_s=1.0,
    )
    result = await run(config, 10.0)
    store = result.store
    fills = load_fills(store)
    summary = result.summary
    # Every fill the bots applied is stored, once, on the paper account, with its fee in USDT.
    applied = sum(st["fills_applied"] for st in summary["bots"].values())
    assert applied >= 3 and fills.height == applied == summary["fills"]
    assert set(fills["account_id"].to_list()) == {paper_account("binance")}
    assert set(fills["fee_currency"].to_list()) == {"USDT"}
    assert store.count("fills", final=True) == applied
    assert summary["store"]["rows"] > applied  # order updates too
    # P&L adds up: realized P&L per bot from the stored fills (the report's ledger) equals the bots'
    # own realized P&L from the core, and fees likewise.
    report = build(fills, capital=10_000.0)
    by_bot = {row["bot_id"]: row for row in report.by_bot.iter_rows(named=True)}
    for bot, pnl in result.bot_pnl.items():
        state = summary["bots"][bot]
        if bot == "3":
            # The grid pairs each sell with the buy one level down; FIFO may pair differently, so only
            # its fills and fees are compared (its range is wide enough that no pair closed here).
            assert state["realized_pnl"] == "0" and by_bot[bot]["grid_profit"] == 0
        else:
            assert by_bot[bot]["grid_profit"] == pnl, bot
        assert by_bot[bot]["fees"] == Decimal(state["fees"]["USDT"]), bot
    assert any(pnl > 0 for pnl in result.bot_pnl.values())  # at least one deal closed with profit
    store.close()


async def test_paper_run_restarted_resumes_its_bots(chdb_dir: Path, tmp_path: Path) -> None:
    # The paper venue's book lives in the engine: a restart places every order its bots hold again.
    grid = dict(DEFAULT_BOTS[0], fee_rate=FEE, lower="29900", upper="30100", grids=4)

    def config() -> RunConfig:
        return RunConfig(
            bots=[grid],
            paper=PaperFees(maker_fee=Decimal(FEE), taker_fee=Decimal(FEE)),
            sim=SimConfig(market=MarketSpec(volatility_ticks=400.0)),
            store=f"chdb://{chdb_dir}",
            database=f"run_paper_restart_{time.time_ns()}",
            state_dir=tmp_path,
        )

    first = await run(config(), 4.0)
    first.store.close()
    assert first.summary["resumed"] is None and first.summary["state"]["writes"] >= 1
    before = first.summary["bots"]["1"]
    assert before["fills_applied"] >= 1  # the grid's opening buy at least
    saved = persistence.read(tmp_path / persistence.FILE_NAME)
    assert saved is not None
    held = set(json.loads(saved["engines"][0]["state"])["bots"]["1"]["desk"]["orders"])
    second = await run(config(), 4.0)
    second.store.close()
    resumed = second.summary["resumed"]
    # Exactly the orders the grid held at the stop, placed again on the paper book (no new opening buy).
    assert resumed is not None and held and set(resumed["resent"]) == held
    after = second.summary["bots"]["1"]
    assert after["fills_applied"] >= before["fills_applied"]  # the ledger went on, not from zero
    assert after["status"] == "running"
