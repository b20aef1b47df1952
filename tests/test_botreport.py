"""A bot's figures for ``BotState``/``PnlSnapshot``, from a real core bot's summary."""

from __future__ import annotations

import json
from decimal import Decimal

from wisetrader._core import BotEngine
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine.botreport import figures, money
from wisetrader.engine.router import Market

BTC = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))
GRID = {
    "kind": "grid", "venue": "binance-spot", "symbol": "BTCUSDT", "fee_rate": "0.001",
    "instrument": {"tick_size": "0.01", "lot_step": "0.00001", "min_notional": "5",
                   "base_asset": "BTC", "quote_asset": "USDT"},
    "start_price": "30000", "lower": "29000", "upper": "31000", "grids": 10, "investment": {"quote": "2000"},
}  # fmt: skip


def test_a_grid_after_its_initial_buy_is_marked_at_the_mid() -> None:
    kind, instrument, spec = core_args(parse_bot(GRID))
    engine = BotEngine(instrument)
    engine.add_bot(7, kind, spec)
    intents = engine.on_top(3_000_000, 3_000_002, 1)
    buy = next(i for i in intents if i["order_type"] == "market")
    engine.on_update(buy["client_id"], "accepted", 2)
    engine.on_fill("f1", buy["client_id"], "buy", 3_000_002, buy["qty_lots"], "0.1", "USDT", 3)
    fig = figures(json.loads(engine.state(7)), BTC, Decimal("30100"), "BTC", "USDT")
    qty = Decimal(buy["qty_lots"]) * BTC.step_size
    assert fig.position == qty and fig.fills == 1 and fig.fees == Decimal("0.1")
    # Held at the mark minus what it cost (the fill and its quote fee): exact decimals, no float.
    assert fig.unrealized == qty * Decimal("30100") - (qty * Decimal("30000.02") + Decimal("0.1"))
    assert fig.avg_price == (Decimal("30000.02") + Decimal("0.1") / qty).quantize(Decimal("0.000001"))
    assert fig.open_orders == json.loads(engine.state(7))["open_orders"] > 0


def test_money_keeps_what_the_store_can_hold() -> None:
    assert money(Decimal("1.25")) == Decimal("1.25")
    third = money(Decimal(1) / 3)
    assert third.as_tuple().exponent == -18 and abs(third - Decimal(1) / 3) < Decimal("1e-18")
