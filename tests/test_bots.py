"""Bot file, plan preview and the Rust bot engine through its Python bindings."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from bots_support import check_dca, check_grid
from wisetrader import _core
from wisetrader.bots import BotFileError, load_bot_file
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.bots.plan import plan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bots"
DCA = EXAMPLES / "dca-btcusdt.yaml"
GRID = EXAMPLES / "grid-btcusdt.yaml"


def cents(s: str) -> Decimal:
    return Decimal(s).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wisetrader", *args], capture_output=True, text=True, check=False
    )


def test_dca_plan_reproduces_the_reference_ladder_to_the_cent() -> None:
    p = plan(load_bot_file(DCA))
    assert p["valid"], p["errors"]
    # (price, cum quote, avg entry, TP total) per safety order, from the reference table.
    table = [
        ("99.00", "30", "99.33", "100.82"),
        ("97.50", "70", "98.28", "99.75"),
        ("95.25", "150", "96.64", "98.09"),
        ("91.87", "310", "94.12", "95.53"),  # 91.875 rounded down to the tick for a buy
        ("86.81", "630", "90.26", "91.61"),
    ]
    orders = p["orders"]
    assert len(orders) == 6 and orders[0]["number"] == 0
    for row, o in zip(table, orders[1:], strict=True):
        assert [cents(o["price"]), cents(o["cum_quote"]), cents(o["avg_entry"]), cents(o["take_profit"])] == [
            cents(x) for x in row
        ]
        assert all(isinstance(o[k], str) for k in ("price", "quote", "qty", "cum_quote", "avg_entry"))
    assert cents(p["max_funds"]) == Decimal("630.00")
    assert Decimal(p["max_deviation_pct"]) == Decimal("13.1875")


def test_grid_plan_reproduces_the_reference_profit_and_minimum() -> None:
    p = plan(load_bot_file(GRID))
    assert p["valid"], p["errors"]
    assert p["levels"][0] == "90.00" and p["levels"][-1] == "110.00" and len(p["levels"]) == 11
    net = p["net_profit_per_grid_pct"]
    assert (cents(net["min"]), cents(net["max"])) == (Decimal("1.65"), Decimal("2.02"))
    # ≈ 53.9: 0.05556 x 970 plus one 0.1 % fee.
    assert cents(p["min_investment"]) == Decimal("53.95")
    assert Decimal(p["min_investment"]).quantize(Decimal("0.1")) == Decimal("53.9")
    geo = load_bot_file(GRID).model_copy(update={"spacing": "geometric"})
    g = plan(geo)
    assert (
        cents(g["net_profit_per_grid_pct"]["min"])
        == cents(g["net_profit_per_grid_pct"]["max"])
        == Decimal("1.82")
    )


def test_plan_json_is_one_object_with_the_documented_keys() -> None:
    r = cli("plan", str(DCA), "--json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    assert {"orders", "max_funds", "max_deviation_pct", "errors", "warnings"} <= p.keys()
    assert {"price", "quote", "qty", "cum_quote", "avg_entry", "take_profit"} <= p["orders"][0].keys()
    r = cli("plan", str(GRID), "--json")
    g = json.loads(r.stdout)
    assert {"levels", "qty_per_level", "net_profit_per_grid_pct", "min_investment"} <= g.keys()
    assert g["qty_per_level"] == "1.02989"


def test_plan_table_and_errors(tmp_path: Path) -> None:
    r = cli("plan", str(GRID))
    assert r.returncode == 0 and "minimum investment" in r.stdout
    bad = tmp_path / "small.yaml"
    bad.write_text(GRID.read_text().replace('investment: {quote: "1000"}', 'investment: {quote: "40"}'))
    r = cli("plan", str(bad), "--json")
    assert r.returncode == 1
    errors = json.loads(r.stdout)["errors"]
    assert errors[0]["field"] == "investment.quote"
    assert "40" in errors[0]["message"] and "53.95" in errors[0]["message"]
    fee_negative = tmp_path / "fees.yaml"
    fee_negative.write_text(GRID.read_text().replace("grids: 10", "grids: 200").replace('"0.001"', '"0.01"'))
    r = cli("plan", str(fee_negative))
    assert r.returncode == 1 and "net of fees" in r.stdout


def test_unknown_keys_and_bad_values_are_refused_by_name(tmp_path: Path) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text(DCA.read_text() + "take_proft_pct: '2'\n")
    with pytest.raises(BotFileError, match=r"take_proft_pct: unknown key"):
        load_bot_file(f)
    r = cli("plan", str(f))
    assert r.returncode == 2 and "take_proft_pct" in r.stderr
    with pytest.raises(BotFileError, match=r"instrument.tick_size"):
        parse_bot({"kind": "grid", "instrument": {"tick_size": "abc"}})
    with pytest.raises(BotFileError, match="kind"):
        parse_bot({"kind": "martingale"})
    # Plain YAML numbers are read through their decimal text.
    bot = parse_bot({**_dca_dict(), "fee_rate": 0.001})
    assert str(bot.fee_rate) == "0.001"


def _dca_dict() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(DCA.read_text())
    return data


def _engine() -> tuple[_core.BotEngine, str, str]:
    kind, instrument, spec = core_args(load_bot_file(DCA))
    e = _core.BotEngine(instrument)
    e.add_bot(7, kind, spec)
    return e, instrument, spec


def test_engine_partial_fill_resizes_take_profit_and_ignores_duplicates() -> None:
    e, _, _ = _engine()
    first = e.on_top(9999, 10000, 1)
    assert [(i["action"], i["order_type"], i["qty_lots"], i["reason"]) for i in first] == [
        ("place", "market", 10000, "deal_start")
    ]
    bo = first[0]["client_id"]
    assert bo.isalnum() and len(bo) <= 32
    outcome, intents = e.on_fill("t1", bo, "buy", 10000, 10000, "0.01", "USDT", 2)
    assert outcome == "applied"
    tp = next(i for i in intents if i["reason"] == "take_profit")
    so1 = next(i for i in intents if i["reason"] == "safety_order" and i["price_ticks"] == 9900)
    # Entry 10.01 quote (fee included) for 0.1: avg 100.10, TP = 100.10 x 1.015 = 101.6015 -> 101.61.
    assert (tp["side"], tp["price_ticks"], tp["qty_lots"]) == ("sell", 10161, 10000)
    outcome, intents = e.on_fill("t2", so1["client_id"], "buy", 9900, 10000, "0", "USDT", 3)
    assert [(i["action"], i["replaces"], i["qty_lots"]) for i in intents] == [
        ("replace", tp["client_id"], 20000)
    ]
    state = e.export_state()
    assert e.on_fill("t2", so1["client_id"], "buy", 9900, 10000, "0", "USDT", 3) == ("duplicate", [])
    assert e.on_fill("t3", "W99D1C0", "buy", 9900, 1, "0", "USDT", 3)[0] == "unknown"
    s = json.loads(e.state(7))
    assert Decimal(s["position"]) == Decimal("0.2") and s["duplicate_fills"] == 1
    assert s["fees"] == {"USDT": "0.01"}
    # Restart from the exported state: the same inputs give the same intents.
    restored = _core.BotEngine.import_state(state)
    for eng in (e, restored):
        eng_out = eng.on_update(so1["client_id"], "cancelled", 4)
        assert eng_out[0] is True
    a = e.on_top(9000, 9001, 5)
    b = restored.on_top(9000, 9001, 5)
    assert a == b
    with pytest.raises(ValueError, match="status must be"):
        e.on_update(bo, "exploded", 1)


def test_invalid_bot_is_refused_with_every_problem() -> None:
    kind, instrument, spec = core_args(load_bot_file(DCA))
    e = _core.BotEngine(instrument)
    bad = json.loads(spec) | {"safety_order": {"quote": "1"}, "step_scale": "50"}
    with pytest.raises(ValueError) as err:
        e.add_bot(1, kind, json.dumps(bad))
    assert "step_scale" in str(err.value)
    with pytest.raises(ValueError, match="unknown field"):
        e.add_bot(1, kind, json.dumps(json.loads(spec) | {"bogus": 1}))


def test_paper_session_runs_a_grid_and_a_dca_bot_consistently() -> None:
    bot = load_bot_file(GRID)
    kind, instrument, spec = core_args(bot)
    s = _core.PaperSession(instrument, json.dumps({"fill_model": "strict"}))
    s.add_bot(1, kind, spec)
    d_kind, _, d_spec = core_args(load_bot_file(DCA))
    s.add_bot(2, d_kind, json.dumps(json.loads(d_spec) | {"cooldown_seconds": 1}))
    fills: list[_core._Fill] = []
    path = [10000] + [p for _ in range(3) for p in [*range(11200, 8800, -70), *range(8800, 11200, 70)]]
    for k, p in enumerate(path):
        _, f = s.on_top(p, p + 1, k * 1_000_000_000)
        fills.extend(f)
    tick, lot = Decimal("0.01"), Decimal("0.00001")
    grid_fills = [f for f in fills if f["client_id"].startswith("W1")]
    dca_fills = [f for f in fills if f["client_id"].startswith("W2")]
    state = json.loads(s.state(1))
    assert check_grid(grid_fills, state, bot.investment.quote, tick, lot) > 10
    assert Decimal(state["grid_profit"]) > 0
    dca_state = json.loads(s.state(2))
    assert dca_state["deals_closed"] >= 2
    check_dca(dca_fills, dca_state, tick, lot)


@pytest.mark.parametrize("paper_class", [_core.PaperSession, _core.PaperVenue])
def test_paper_config_is_checked_the_same_way_by_both_paper_bindings(paper_class: Any) -> None:
    _, instrument, _ = core_args(load_bot_file(GRID))
    assert paper_class(instrument) is not None  # defaults when absent
    with pytest.raises(ValueError, match="paper config"):
        paper_class(instrument, json.dumps({"fill_model": "sideways"}))
