"""A real recording replayed through a grid and a DCA bot in paper mode: the book comes from the
market-data core, the bots and the paper matcher from the bot core, and the fills must add up."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from bots_support import check_dca, check_grid
from wisetrader._core import PaperSession
from wisetrader.bots.paper import PaperBook
from wisetrader.marketdata import MarketData

RECORDING = Path(__file__).resolve().parent / "data" / "recordings" / "binance-usdm" / "SUSHIUSDT.rec"
TICK, LOT = Decimal("0.001"), Decimal("1")
INSTRUMENT = {
    "tick_size": str(TICK),
    "lot_step": str(LOT),
    "min_qty": "1",
    "min_notional": "5",
    "base_asset": "SUSHI",
    "quote_asset": "USDT",
}
FEE = "0.00005"
# The recording trades between 7.607 and 7.619: a grid with a level at every tick around it
# (a 0.013 % gap, above two fees of 0.005 %).
GRID = {
    "lower": "7.600",
    "upper": "7.624",
    "grids": 24,
    "investment": {"quote": "2000"},
    "fee_rate": FEE,
}
DCA = {
    "base_order": {"quote": "50"},
    "safety_order": {"quote": "50"},
    "price_deviation_pct": "0.03",
    "max_safety_orders": 4,
    "take_profit_pct": "0.05",
    "fee_rate": FEE,
}


def test_recording_replay_through_grid_and_dca_in_paper_mode() -> None:
    md = MarketData("binance-usdm")
    md.add_instrument("SUSHIUSDT", str(TICK), str(LOT))
    s = PaperSession(json.dumps(INSTRUMENT), json.dumps({"maker_fee": FEE, "taker_fee": FEE}))
    s.add_bot(1, "grid", json.dumps(GRID))
    s.add_bot(2, "dca", json.dumps(DCA))
    book = PaperBook(md, "SUSHIUSDT", s)
    book.replay(RECORDING)
    fills = book.fills
    assert book.tops > 100
    grid_fills = [f for f in fills if f["client_id"].startswith("W1")]
    dca_fills = [f for f in fills if f["client_id"].startswith("W2")]
    grid = json.loads(s.state(1))
    assert grid["status"] == "running" and grid["fills_applied"] == len(grid_fills)
    # At least one full round trip: a buy at a level, then its sell one level up.
    assert check_grid(grid_fills, grid, Decimal("2000"), TICK, LOT) >= 1
    assert Decimal(grid["grid_profit"]) > 0
    dca = json.loads(s.state(2))
    check_dca(dca_fills, dca, TICK, LOT)
    assert dca["deals_closed"] >= 1 and Decimal(dca["realized_pnl"]) > 0
