"""Equity curve, daily returns and the performance ratios, with their definitions.

Where freqtrade defines a metric (``freqtrade/data/metrics.py``, balance-based versions), we follow it:
daily figures are end-of-day (UTC) equity, returns are day-over-day percentage changes, annualisation
uses √365 (crypto trades every day), there is no risk-free rate. Undefined ratios (no variance, no
losing trade, too few points) are ``None`` rather than freqtrade's -100 sentinel.

- **Equity** at time t = starting capital + Σ cash flow of fills up to t + Σ over symbols of the net
  position * the symbol's last fill price at t (the final point is marked at the given marks, if any).
  Equal to capital + realized + unrealized (see :mod:`wisetrader.analytics.ledger`). Statistics use floats.
- **Daily returns** r_d = E_d / E_{d-1} - 1 over every UTC day from the first fill to the last point,
  E_d the last equity of day d (carried forward over days without fills), E_{-1} = starting capital.
- **Sharpe** = mean(r) / std(r) * √365, sample std (n - 1).
- **Sortino** = mean(r) / std(r of losing days) * √365 (freqtrade: the downside std is that of the
  negative returns only; sample std).
- **Max drawdown**: over the equity curve, absolute = max(peak - equity), relative = max((peak - equity) /
  peak); *start* is the time of the peak and *end* the time of the trough of the largest absolute one.
- **CAGR** = (E_end / E_start)^(365 / days) - 1, days = span of the curve in days (0 if E_end ≤ 0).
- **Annualized return** = mean(r) * 365 (arithmetic).
- **Calmar** = CAGR / relative max drawdown.
- **Trades** are the fills that close quantity; a trade's profit is that fill's net realized P&L.
- **Win rate** = wins / trades (zero-profit trades are draws: counted as trades, neither win nor loss).
- **Profit factor** = Σ winning profits / |Σ losing profits|.
- **Expectancy** = win rate * average win - loss rate * |average loss| (quote); **expectancy ratio** =
  (1 + average win / |average loss|) * win rate - 1.
- **SQN** = √n * mean(p) / std(p), p = trade profit / starting capital (sample std).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

import polars as pl

NS_PER_DAY = 86_400 * 10**9
ANNUAL = 365


@dataclass(frozen=True)
class Drawdown:
    absolute: float
    relative: float
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Metrics:
    starting_capital: float
    final_equity: float
    total_return: float
    days: float
    cagr: float | None
    annualized_return: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: Drawdown
    trades: int
    wins: int
    losses: int
    draws: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: float | None
    expectancy_ratio: float | None
    sqn: float | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _f(value: object) -> pl.Expr:
    return pl.col(str(value)).cast(pl.Float64)


def equity_curve(
    ledger: pl.DataFrame,
    capital: float,
    marks: dict[tuple[str, str], Decimal] | None = None,
    as_of_ns: int | None = None,
) -> pl.DataFrame:
    """Columns ``ts`` (UTC datetime, ns) and ``equity`` (float): one point per fill, plus a start point at
    the first fill time (the capital) and, with ``marks``, a final point marked at them."""
    if ledger.is_empty():
        return pl.DataFrame(
            {"ts": [], "equity": []}, schema={"ts": pl.Datetime("ns", "UTC"), "equity": pl.Float64}
        )
    symbol = ["venue", "symbol"]
    signed = pl.when(pl.col("side") == "buy").then(_f("qty")).otherwise(-_f("qty"))
    df = ledger.select(
        "ts", *symbol, _f("price").alias("price"), signed.alias("dq"), _f("cash_flow").alias("cf")
    )
    df = df.with_columns(
        (pl.col("cf").cum_sum().over(symbol) + pl.col("dq").cum_sum().over(symbol) * pl.col("price")).alias(
            "value"
        )
    )
    df = df.with_columns(
        (pl.col("value") - pl.col("value").shift(1, fill_value=0.0).over(symbol)).alias("delta")
    )
    curve = df.select("ts", (pl.lit(capital) + pl.col("delta").cum_sum()).alias("equity"))
    start = pl.DataFrame({"ts": [df["ts"][0]], "equity": [capital]}, schema=curve.schema)
    parts = [start, curve]
    if marks:
        last = df.group_by(symbol).agg(pl.col("dq").sum().alias("pos"), pl.col("price").last().alias("px"))
        adjust = sum(
            pos * (float(marks[(v, s)]) - px) for v, s, pos, px in last.iter_rows() if (v, s) in marks
        )
        end_ts = df["ts"][-1] if as_of_ns is None else datetime.fromtimestamp(as_of_ns / 1e9, UTC)
        parts.append(
            pl.DataFrame(
                {"ts": [end_ts], "equity": [float(curve["equity"][-1]) + adjust]}, schema=curve.schema
            )
        )
    return pl.concat(parts)


def daily_equity(curve: pl.DataFrame) -> pl.DataFrame:
    """End-of-day equity for every UTC day in the curve (carried forward over quiet days)."""
    days = curve.sort("ts").group_by_dynamic("ts", every="1d").agg(pl.col("equity").last())
    return days.upsample("ts", every="1d").with_columns(pl.col("equity").forward_fill())


def daily_returns(curve: pl.DataFrame, capital: float) -> pl.Series:
    equity = daily_equity(curve)["equity"]
    previous = equity.shift(1, fill_value=capital)
    return (equity / previous - 1).alias("return")


def max_drawdown(curve: pl.DataFrame) -> Drawdown:
    if curve.is_empty():
        return Drawdown(0.0, 0.0, None, None)
    df = curve.with_columns(pl.col("equity").cum_max().alias("peak"))
    df = df.with_columns(
        (pl.col("peak") - pl.col("equity")).alias("dd"), (1 - pl.col("equity") / pl.col("peak")).alias("rel")
    )
    worst = int(df["dd"].arg_max() or 0)
    absolute = float(cast(float, df["dd"][worst]))
    if absolute <= 0:
        return Drawdown(0.0, 0.0, None, None)
    peak_value = df["peak"][worst]
    start = df.head(worst + 1).filter(pl.col("equity") == peak_value)["ts"][-1]
    return Drawdown(absolute, float(cast(float, df["rel"].max())), start, df["ts"][worst])


def _mean(values: pl.Series) -> float:
    """Mean of a float series, 0 when empty."""
    return float(cast(float, values.mean())) if values.len() else 0.0


def _ratio(numerator: float, denominator: float | None) -> float | None:
    if denominator is None or denominator == 0 or math.isnan(denominator):
        return None
    return numerator / denominator


def _std(values: pl.Series) -> float | None:
    if values.len() < 2:
        return None
    std = values.std(ddof=1)
    return float(cast(float, std)) if std is not None else None


def compute(ledger: pl.DataFrame, capital: float, curve: pl.DataFrame | None = None) -> Metrics:
    """Every metric for a ledger (already restricted to the bots/symbols/time wanted)."""
    curve = equity_curve(ledger, capital) if curve is None else curve
    final = float(curve["equity"][-1]) if not curve.is_empty() else capital
    span = cast(timedelta, curve["ts"][-1] - curve["ts"][0]) if curve.height > 1 else timedelta(0)
    days = span.total_seconds() / 86_400
    returns = daily_returns(curve, capital) if not curve.is_empty() else pl.Series("return", [], pl.Float64)
    mean_r = _mean(returns)
    drawdown = max_drawdown(curve)

    cagr: float | None = None
    if days > 0:
        try:
            cagr = (final / capital) ** (ANNUAL / days) - 1 if final > 0 else 0.0
        except OverflowError:  # a gain over a few seconds, annualised: not a number worth showing
            cagr = None
    sharpe = _ratio(mean_r, _std(returns))
    sortino = _ratio(mean_r, _std(returns.filter(returns < 0)))
    calmar = _ratio(cagr, drawdown.relative) if cagr is not None else None

    profits = ledger.filter(pl.col("closed_qty") > 0)["realized"].cast(pl.Float64)
    wins, losses = profits.filter(profits > 0), profits.filter(profits < 0)
    n = profits.len()
    win_rate = wins.len() / n if n else None
    avg_win = _mean(wins)
    avg_loss = abs(_mean(losses))
    loss_rate = losses.len() / n if n else 0.0
    expectancy = (win_rate * avg_win - loss_rate * avg_loss) if win_rate is not None else None
    expectancy_ratio = (
        (1 + avg_win / avg_loss) * win_rate - 1 if win_rate is not None and avg_loss > 0 else None
    )
    gross_loss = abs(float(cast(float, losses.sum())))
    sqn_std = _std(profits / capital)
    sqn = _ratio(math.sqrt(n) * _mean(profits / capital), sqn_std) if n else None
    return Metrics(
        starting_capital=capital,
        final_equity=final,
        total_return=final / capital - 1,
        days=days,
        cagr=cagr,
        annualized_return=mean_r * ANNUAL if returns.len() else None,
        sharpe=None if sharpe is None else sharpe * math.sqrt(ANNUAL),
        sortino=None if sortino is None else sortino * math.sqrt(ANNUAL),
        calmar=calmar,
        max_drawdown=drawdown,
        trades=n,
        wins=wins.len(),
        losses=losses.len(),
        draws=n - wins.len() - losses.len(),
        win_rate=win_rate,
        profit_factor=float(cast(float, wins.sum())) / gross_loss if gross_loss > 0 else None,
        expectancy=expectancy,
        expectancy_ratio=expectancy_ratio,
        sqn=sqn,
    )
