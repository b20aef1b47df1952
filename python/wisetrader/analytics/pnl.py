"""P&L per bot / symbol / account / user: grid profit (realized), floating (unrealized) and total.

- **Grid profit** = Σ realized P&L of the group's fills (net of fees; see the ledger definitions).
- **Floating P&L** = unrealized P&L of the group's open positions at the marks (default: each symbol's
  last fill price).
- **Total** = grid profit + floating = Σ cash flow + position * mark.
- **Fees** are reported in quote (``fees``), and per charged currency by :func:`fees_by_currency`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

import polars as pl

from wisetrader.analytics.ledger import MONEY, POSITION_KEY, Q18

GROUPS = ("bot_id", "symbol", "account_id", "user_id", "venue")
Marks = dict[tuple[str, str], Decimal]


def last_prices(ledger: pl.DataFrame) -> Marks:
    """Each (venue, symbol)'s last fill price: the default mark."""
    last = ledger.sort("ts").group_by(["venue", "symbol"]).agg(pl.col("price").last())
    return {(v, s): p for v, s, p in last.iter_rows()}


def unrealized(ledger: pl.DataFrame, marks: Marks | None = None) -> pl.DataFrame:
    """One row per open position key with its unrealized P&L at the mark (exact decimals)."""
    marks = {**last_prices(ledger), **(marks or {})}
    last = (
        ledger.sort("ts")
        .group_by(POSITION_KEY)
        .agg(
            pl.col("position").last(),
            pl.col("open_cost").last(),
            pl.col("open_fees").last(),
            pl.col("quote").last(),
        )
    )
    values = []
    with localcontext() as ctx:
        ctx.prec = 50
        for row in last.iter_rows(named=True):
            mark = marks[(row["venue"], row["symbol"])]
            values.append((row["position"] * mark - row["open_cost"] - row["open_fees"]).quantize(Q18))
    return last.with_columns(pl.Series("unrealized", values, dtype=MONEY))


def pnl_by(ledger: pl.DataFrame, by: Sequence[str] = ("bot_id",), marks: Marks | None = None) -> pl.DataFrame:
    """Grid profit, floating and total P&L, fees, volume and fill count per group (and quote currency)."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}; choose from {GROUPS}")
    keys = [*by, "quote"]
    floating = unrealized(ledger, marks).group_by(keys).agg(pl.col("unrealized").sum().alias("floating"))
    traded = ledger.group_by(keys).agg(
        pl.len().alias("fills"),
        (pl.col("price").cast(pl.Float64) * pl.col("qty").cast(pl.Float64)).sum().alias("volume"),
        pl.col("fee_in_quote").sum().alias("fees"),
        pl.col("fee_in_quote").is_null().sum().alias("fees_unconverted"),
        pl.col("realized").sum().alias("grid_profit"),
        (pl.col("closed_qty") > 0).sum().alias("trades"),
    )
    out = traded.join(floating, on=keys, how="left", nulls_equal=True)
    out = out.with_columns(pl.col("floating").fill_null(Decimal(0)).cast(MONEY))
    return out.with_columns((pl.col("grid_profit") + pl.col("floating")).alias("total")).sort(
        keys, nulls_last=True
    )


def fees_by_currency(ledger: pl.DataFrame, by: Sequence[str] = ("bot_id",)) -> pl.DataFrame:
    """Fees as charged (own currency) and in quote, per group and fee currency."""
    return (
        ledger.group_by([*by, "fee_currency"])
        .agg(pl.col("fee").sum(), pl.col("fee_in_quote").sum().alias("fee_in_quote"), pl.len().alias("fills"))
        .sort([*by, "fee_currency"], nulls_last=True)
    )
