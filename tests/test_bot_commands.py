"""User commands (pause, resume, stop, close) and open orders of the core's bots through the bindings."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from wisetrader import _core
from wisetrader.bots import load_bot_file
from wisetrader.bots.model import core_args

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bots"
DCA = EXAMPLES / "dca-btcusdt.yaml"
GRID = EXAMPLES / "grid-btcusdt.yaml"


def _grid_engine() -> _core.BotEngine:
    kind, instrument, spec = core_args(load_bot_file(GRID))
    e = _core.BotEngine(instrument)
    # Base already held covers the sells above the price: everything rests at once.
    e.add_bot(1, kind, json.dumps(json.loads(spec) | {"investment": {"quote": "500", "base": "6"}}))
    return e


def _confirm_cancels(e: _core.BotEngine, intents: list[_core._Intent]) -> list[_core._Intent]:
    out: list[_core._Intent] = []
    for it in intents:
        if it["action"] == "cancel":
            known, more = e.on_update(it["client_id"], "cancelled", 0)
            assert known
            out.extend(more)
    return out


def _resting(e: _core.BotEngine, bot_id: int) -> set[tuple[str, int, int]]:
    return {
        (o["side"], o["price_ticks"], o["qty_lots"] - o["filled_lots"])
        for o in e.open_orders(bot_id)
        if o["order_type"] == "limit" and not o["cancelling"]
    }


def test_pause_resume_stop_on_a_grid() -> None:
    e = _grid_engine()
    placed = e.on_top(9999, 10000, 1)
    assert len(placed) == 10
    before = _resting(e, 1)
    assert len(before) == 10
    orders = e.open_orders(1)
    assert {o["reason"] for o in orders} == {"grid_level_buy", "grid_level_sell"}
    assert {o["client_id"] for o in orders} == {i["client_id"] for i in placed}

    cancels = e.command(1, "pause", 2)
    assert {(c["action"], c["reason"]) for c in cancels} == {("cancel", "manual_cancel")}
    assert {c["client_id"] for c in cancels} == {i["client_id"] for i in placed}
    assert all(o["cancelling"] for o in e.open_orders(1))
    assert json.loads(e.state(1))["status"] == "paused"
    assert _confirm_cancels(e, cancels) == []
    assert e.open_orders(1) == []
    assert e.on_top(9500, 9501, 3) == [] and e.on_top(10500, 10501, 4) == []

    resumed = e.command(1, "resume", 5)
    assert {(i["side"], i["price_ticks"], i["qty_lots"]) for i in resumed} == before
    assert not {i["client_id"] for i in resumed} & {i["client_id"] for i in placed}, "fresh ids"
    assert json.loads(e.state(1))["status"] == "running"

    stopped = e.command(1, "stop", 6)
    assert len(stopped) == 10 and all(i["action"] == "cancel" for i in stopped)
    assert json.loads(e.state(1))["status"] == "stopped"
    for command in ("pause", "resume", "stop"):
        with pytest.raises(ValueError, match="bot 1 is stopped; only close is accepted"):
            e.command(1, command, 7)
    # Stopped survives a restart.
    assert json.loads(_core.BotEngine.import_state(e.export_state()).state(1))["status"] == "stopped"


def test_unknown_bot_or_command_is_a_clear_value_error() -> None:
    e = _grid_engine()
    with pytest.raises(ValueError, match="no bot 9 on this symbol"):
        e.command(9, "pause", 0)
    with pytest.raises(ValueError, match="no bot -1 on this symbol"):
        e.command(-1, "pause", 0)
    with pytest.raises(ValueError, match='unknown command "halt": expected pause, resume, stop or close'):
        e.command(1, "halt", 0)
    with pytest.raises(ValueError, match="no bot 9"):
        e.open_orders(9)


def test_close_flattens_a_dca_deal_and_a_retry_re_sends_the_same_exit() -> None:
    kind, instrument, spec = core_args(load_bot_file(DCA))
    e = _core.BotEngine(instrument)
    e.add_bot(7, kind, spec)
    (bo,) = e.on_top(9999, 10000, 1)
    _, resting = e.on_fill("t1", bo["client_id"], "buy", 10000, bo["qty_lots"], "0", "USDT", 2)
    assert {i["reason"] for i in resting} == {"take_profit", "safety_order"}
    e.on_top(9899, 9900, 3)  # the current price for the close
    cancels = e.command(7, "close", 4)
    assert {(c["action"], c["reason"]) for c in cancels} == {("cancel", "manual_close")}
    assert json.loads(e.state(7))["status"] == "closing"
    # The exit goes out once nothing of the bot rests on the venue any more.
    (exit_,) = _confirm_cancels(e, cancels)
    assert (exit_["side"], exit_["order_type"], exit_["qty_lots"], exit_["reason"]) == (
        "sell",
        "market",
        bo["qty_lots"],
        "manual_close",
    )
    assert [o["client_id"] for o in e.open_orders(7)] == [exit_["client_id"]]
    restarted = _core.BotEngine.import_state(e.export_state())
    assert restarted.command(7, "close", 5) == [exit_]
    outcome, after = restarted.on_fill(
        "t2", exit_["client_id"], "sell", 9899, exit_["qty_lots"], "0", "USDT", 6
    )
    assert (outcome, after) == ("applied", [])
    state = json.loads(restarted.state(7))
    assert state["status"] == "stopped" and Decimal(state["position"]) == 0
    assert Decimal(state["realized_pnl"]) == Decimal("-0.101")  # 0.1 bought at 100.00, sold at 98.99
    assert restarted.open_orders(7) == []
    assert restarted.on_top(9999, 10000, 7) == []


def test_paper_session_commands_execute_on_the_paper_venue() -> None:
    kind, instrument, spec = core_args(load_bot_file(GRID))
    s = _core.PaperSession(instrument)
    s.add_bot(1, kind, spec)
    s.on_top(10000, 10001, 1)
    s.on_top(9750, 9751, 2)  # the buy at 98 fills
    held = Decimal(json.loads(s.state(1))["base_balance"])
    assert held > 0
    intents, fills = s.command(1, "close", 3)
    assert [i["order_type"] for i in intents if i["action"] == "place"] == ["market"]
    assert len(fills) == 1 and fills[0]["side"] == "sell"
    state = json.loads(s.state(1))
    assert state["status"] == "stopped" and Decimal(state["base_balance"]) == 0
    assert s.open_orders(1) == []


def test_open_orders_are_what_the_bot_believes_rests() -> None:
    kind, instrument, spec = core_args(load_bot_file(DCA))
    e = _core.BotEngine(instrument)
    e.add_bot(7, kind, spec)
    (bo,) = e.on_top(9999, 10000, 1)
    assert e.open_orders(7) == [
        {
            "client_id": bo["client_id"],
            "side": "buy",
            "order_type": "market",
            "price_ticks": 0,
            "qty_lots": bo["qty_lots"],
            "filled_lots": 0,
            "reason": "deal_start",
            "cancelling": False,
        }
    ]
    _, placed = e.on_fill("t1", bo["client_id"], "buy", 10000, bo["qty_lots"], "0", "USDT", 2)
    so1 = next(i for i in placed if i["reason"] == "safety_order" and i["price_ticks"] == 9900)
    # Half of SO 1 fills: it is still believed resting, with its filled part; the take profit it
    # replaces is being cancelled.
    _, replaced = e.on_fill("t2", so1["client_id"], "buy", 9900, 10000, "0", "USDT", 3)
    orders = {o["client_id"]: o for o in e.open_orders(7)}
    assert set(orders) == {i["client_id"] for i in placed + replaced}
    assert orders[so1["client_id"]]["filled_lots"] == 10000
    assert orders[so1["client_id"]]["qty_lots"] == so1["qty_lots"]
    (tp,) = replaced
    assert orders[tp["replaces"]]["cancelling"] and not orders[tp["client_id"]]["cancelling"]
    assert orders[tp["client_id"]]["reason"] == "take_profit_resize"
    # Done orders are forgotten.
    e.on_update(tp["replaces"], "cancelled", 4)
    assert tp["replaces"] not in {o["client_id"] for o in e.open_orders(7)}
