"""Analytics on a hand-computed sequence and on generated ones."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wisetrader.analytics import (
    build_ledger,
    compute,
    daily_returns,
    equity_curve,
    fees_by_currency,
    max_drawdown,
    pnl_by,
    unrealized,
)
from wisetrader.events import Fill
from wisetrader.store import Store, to_arrow

from .support import make_fill

D = Decimal
DAY = 86_400 * 10**9
T0 = int(datetime(2024, 1, 1, 10, tzinfo=UTC).timestamp()) * 10**9
HOUR = 3_600 * 10**9


def fill(
    i: int,
    t: int,
    side: str,
    qty: str,
    price: str,
    fee: str,
    fee_currency: str = "USDT",
    bot: str = "b1",
    **kw: object,
) -> Fill:
    return make_fill(
        i,
        ts_ns=t,
        side=side,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency=fee_currency,
        bot_id=bot,
        **kw,
    )


# The worked example. Capital 1000 USDT, one symbol, marks at 100 at the end.
#   f1 d1 10:00 buy 1 @100 fee 0.1        f2 d1 12:00 buy 1 @90 fee 0.09
#   f3 d2 10:00 sell 1 @110 fee 0.11      f4 d3 10:00 sell 1 @80 fee 0.08
#   f5 d4 10:00 buy 2 @85 fee 0.002 BTC (=0.17 USDT, bot b2)   f6 d5 10:00 sell 1 @95 fee 0.095 (bot b2)
EXAMPLE = [
    fill(1, T0, "buy", "1", "100", "0.1"),
    fill(2, T0 + 2 * HOUR, "buy", "1", "90", "0.09"),
    fill(3, T0 + DAY, "sell", "1", "110", "0.11"),
    fill(4, T0 + 2 * DAY, "sell", "1", "80", "0.08"),
    fill(5, T0 + 3 * DAY, "buy", "2", "85", "0.002", "BTC", bot="b2"),
    fill(6, T0 + 4 * DAY, "sell", "1", "95", "0.095", bot="b2"),
]
MARKS = {("binance-spot", "BTCUSDT"): D("100")}
AS_OF = T0 + 4 * DAY + 2 * HOUR


@pytest.fixture
def example(store: Store) -> pl.DataFrame:
    """The example goes through the real store and comes back as Arrow."""
    store.insert_events(EXAMPLE)
    return build_ledger(store.fills())


def test_fifo_realized_unrealized_and_fees(example: pl.DataFrame) -> None:
    # f3 closes f1: 110-100 - 0.1 (entry fee) - 0.11 = 9.79; f4 closes f2: 80-90 - 0.09 - 0.08 = -10.17;
    # f6 closes half of f5: 95-85 - 0.085 - 0.095 = 9.82. The open half: 100-85-0.085 = 14.915 at 100.
    assert example["fee_in_quote"].to_list() == [
        D("0.1"),
        D("0.09"),
        D("0.11"),
        D("0.08"),
        D("0.17"),
        D("0.095"),
    ]
    assert example["realized"].to_list() == [D(0), D(0), D("9.79"), D("-10.17"), D(0), D("9.82")]
    assert example["position"].to_list() == [D(1), D(2), D(1), D(0), D(2), D(1)]
    assert unrealized(example, MARKS)["unrealized"].sum() == D("14.915")
    # Cash: -100.1 -90.09 +109.89 +79.92 -170.17 +94.905 = -75.645; +1 BTC at 100 = 24.355 = 9.44 + 14.915.
    assert example["cash_flow"].sum() == D("-75.645")


def test_average_cost_differs_per_trade_not_in_total(store: Store) -> None:
    store.insert_events(EXAMPLE)
    ledger = build_ledger(store.fills(), method="average")
    # f1+f2 average 95: f3 110-95 - 0.095 - 0.11 = 14.795; f4 80-95 - 0.095 - 0.08 = -15.175.
    assert ledger["realized"].to_list() == [D(0), D(0), D("14.795"), D("-15.175"), D(0), D("9.82")]
    assert ledger["realized"].sum() == D("9.44")


def test_grid_profit_floating_total_by_bot_and_fees_by_currency(example: pl.DataFrame) -> None:
    by_bot = pnl_by(example, ["bot_id"], MARKS)
    rows = {r["bot_id"]: r for r in by_bot.iter_rows(named=True)}
    assert (
        rows["b1"]["grid_profit"] == D("-0.38")
        and rows["b1"]["floating"] == 0
        and rows["b1"]["total"] == D("-0.38")
    )
    assert rows["b2"]["grid_profit"] == D("9.82") and rows["b2"]["floating"] == D("14.915")
    assert rows["b2"]["total"] == D("24.735")
    assert rows["b1"]["fees"] == D("0.38") and rows["b2"]["fees"] == D("0.265")
    assert (
        rows["b1"]["fills"] == 4 and rows["b1"]["trades"] == 2 and rows["b1"]["volume"] == pytest.approx(380)
    )
    by_symbol = pnl_by(example, ["symbol"], MARKS)
    assert by_symbol["total"].to_list() == [D("24.355")]
    fees = fees_by_currency(example, ["bot_id"]).rows()
    assert fees == [
        ("b1", "USDT", D("0.38"), D("0.38"), 4),
        ("b2", "BTC", D("0.002"), D("0.17"), 1),
        ("b2", "USDT", D("0.095"), D("0.095"), 1),
    ]


def test_equity_drawdown_and_ratios_match_the_hand_computation(example: pl.DataFrame) -> None:
    curve = equity_curve(example, 1000.0, MARKS, AS_OF)
    # start, then after each fill at its price, then the mark point.
    expected = [1000, 999.9, 989.81, 1029.70, 999.62, 999.45, 1019.355, 1024.355]
    assert curve["equity"].to_list() == pytest.approx(expected)

    dd = max_drawdown(curve)  # peak 1029.70 after f3, trough 999.45 after f5
    assert dd.absolute == pytest.approx(30.25)
    assert dd.relative == pytest.approx(30.25 / 1029.70)
    assert dd.start == datetime.fromtimestamp((T0 + DAY) / 1e9, UTC)
    assert dd.end == datetime.fromtimestamp((T0 + 3 * DAY) / 1e9, UTC)

    eod = [989.81, 1029.70, 999.62, 999.45, 1024.355]
    r = [eod[0] / 1000 - 1] + [b / a - 1 for a, b in itertools.pairwise(eod)]
    assert daily_returns(curve, 1000.0).to_list() == pytest.approx(r)

    m = compute(example, 1000.0, curve)
    days = (AS_OF - T0) / DAY
    assert m.final_equity == pytest.approx(1024.355) and m.total_return == pytest.approx(0.024355)
    assert m.days == pytest.approx(days)
    assert m.sharpe == pytest.approx(statistics.mean(r) / statistics.stdev(r) * math.sqrt(365))
    losing = [x for x in r if x < 0]
    assert m.sortino == pytest.approx(statistics.mean(r) / statistics.stdev(losing) * math.sqrt(365))
    cagr = 1.024355 ** (365 / days) - 1
    assert m.cagr == pytest.approx(cagr)
    assert m.calmar == pytest.approx(cagr / (30.25 / 1029.70))
    assert m.annualized_return == pytest.approx(statistics.mean(r) * 365)

    profits = [9.79, -10.17, 9.82]
    assert (m.trades, m.wins, m.losses, m.draws) == (3, 2, 1, 0)
    assert m.win_rate == pytest.approx(2 / 3)
    assert m.profit_factor == pytest.approx((9.79 + 9.82) / 10.17)
    assert m.expectancy == pytest.approx(2 / 3 * 9.805 - 1 / 3 * 10.17)
    assert m.expectancy_ratio == pytest.approx((1 + 9.805 / 10.17) * 2 / 3 - 1)
    p = [x / 1000 for x in profits]
    assert m.sqn == pytest.approx(math.sqrt(3) * statistics.mean(p) / statistics.stdev(p))


def test_fees_in_a_third_currency_use_the_producers_rate_or_stay_unconverted() -> None:
    bnb = fill(1, T0, "buy", "1", "100", "0.001", "BNB", fee_quote=D("0.3"))
    unknown = fill(2, T0 + 1, "sell", "1", "101", "5", "XYZ")
    ledger = build_ledger(to_arrow(Fill, [bnb, unknown]))
    assert ledger["fee_in_quote"].to_list() == [D("0.3"), None]
    # 101 - 100 - 0.3 (entry fee); the XYZ fee is not in P&L, and is reported as unconverted.
    assert ledger["realized"].to_list() == [D(0), D("0.7")]
    row = pnl_by(ledger, ["bot_id"]).row(0, named=True)
    assert row["fees_unconverted"] == 1 and row["fees"] == D("0.3")
    assert fees_by_currency(ledger, []).filter(pl.col("fee_currency") == "XYZ")["fee"].to_list() == [D(5)]


def test_short_positions_and_flips() -> None:
    fills = [
        fill(1, T0, "sell", "2", "100", "0"),  # open short 2 @100
        fill(
            2, T0 + 1, "buy", "3", "90", "0.3"
        ),  # close 2 (+20, fee share 0.2) and open long 1 @90 (fee 0.1)
        fill(3, T0 + 2, "sell", "1", "95", "0"),  # close long: +5 - 0.1
    ]
    ledger = build_ledger(to_arrow(Fill, fills))
    assert ledger["realized"].to_list() == [D(0), D("19.8"), D("4.9")]
    assert ledger["position"].to_list() == [D(-2), D(1), D(0)]
    assert ledger["closed_qty"].to_list() == [D(0), D(2), D(1)]


def test_empty_ledger_has_empty_curve_and_no_ratios() -> None:
    ledger = build_ledger(to_arrow(Fill, [fill(1, T0, "buy", "1", "100", "0")]))
    m = compute(ledger, 1000.0)
    assert m.trades == 0 and m.win_rate is None and m.sharpe is None and m.sqn is None
    assert m.max_drawdown.absolute == 0


def test_a_gain_over_seconds_has_no_cagr_instead_of_overflowing() -> None:
    # 10 % in two seconds, annualized, is beyond a float: reported as no CAGR, the rest still computed.
    second = 10**9
    fills = [fill(1, T0, "buy", "1", "100", "0"), fill(2, T0 + 2 * second, "sell", "1", "200", "0")]
    m = compute(build_ledger(to_arrow(Fill, fills)), 1000.0)
    assert m.cagr is None and m.calmar is None
    assert m.total_return == pytest.approx(0.1) and m.trades == 1


prices = st.integers(min_value=100, max_value=100_000).map(lambda c: D(c) / 100)
quantities = st.integers(min_value=1, max_value=5_000).map(lambda m: D(m) / 1000)
fill_specs = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        quantities,
        prices,
        st.integers(0, 50),
        st.sampled_from(["USDT", "BTC"]),
        st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        st.sampled_from(["b1", "b2"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(specs=fill_specs, mark_eth=prices, mark_btc=prices, method=st.sampled_from(["fifo", "average"]))
def test_realized_plus_unrealized_equals_cash_plus_inventory_change(
    specs: list[tuple[str, D, D, int, str, str, str]], mark_eth: D, mark_btc: D, method: str
) -> None:
    fills = []
    for i, (side, qty, price, fee_bp, fee_ccy, symbol, bot) in enumerate(specs):
        fee = qty * price * fee_bp / 10_000 if fee_ccy == "USDT" else qty * fee_bp / 10_000
        fills.append(fill(i, T0 + i, side, str(qty), str(price), str(fee), fee_ccy, bot=bot, symbol=symbol))
    ledger = build_ledger(to_arrow(Fill, fills), method=method)  # type: ignore[arg-type]
    marks = {("binance-spot", "BTCUSDT"): mark_btc, ("binance-spot", "ETHUSDT"): mark_eth}

    # Independent of the analytics: cash and inventory straight from the fills.
    cash = D(0)
    inventory: dict[str, D] = {"BTCUSDT": D(0), "ETHUSDT": D(0)}
    for f in fills:
        signed = f.qty if f.side == "buy" else -f.qty
        fee_quote = f.fee if f.fee_currency == "USDT" else f.fee * f.price
        cash += -signed * f.price - fee_quote
        inventory[f.symbol] += signed
    inventory_value = inventory["BTCUSDT"] * mark_btc + inventory["ETHUSDT"] * mark_eth

    realized = ledger["realized"].sum()
    floating = unrealized(ledger, marks)["unrealized"].sum()
    assert abs(realized + floating - (cash + inventory_value)) < D("1e-9")
    totals = pnl_by(ledger, ["bot_id", "symbol"], marks)
    assert abs(totals["total"].sum() - (cash + inventory_value)) < D("1e-9")
    last_positions = ledger.group_by(["symbol", "bot_id"]).agg(pl.col("position").last())
    for symbol, held in inventory.items():
        assert last_positions.filter(pl.col("symbol") == symbol)["position"].sum() == held
