"""``wisetrader report``: the summary as a table, and PNG charts (equity and drawdown, P&L by bot)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from wisetrader.analytics.ledger import Method, build_ledger
from wisetrader.analytics.metrics import Metrics, compute, equity_curve
from wisetrader.analytics.pnl import Marks, fees_by_currency, pnl_by
from wisetrader.store import Store

FILTERS = ("bot_id", "symbol", "account_id", "user_id", "venue")


@dataclass(frozen=True)
class Report:
    quote: str
    metrics: Metrics
    by_bot: pl.DataFrame
    by_symbol: pl.DataFrame
    fees: pl.DataFrame
    curve: pl.DataFrame
    fills: int


class ReportError(ValueError):
    pass


def build(
    fills: pl.DataFrame,
    *,
    capital: float,
    method: Method = "fifo",
    marks: Marks | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    where: dict[str, str] | None = None,
    quote: str | None = None,
) -> Report:
    """Analyse fills (a store's ``fills`` table as Polars).

    ``where`` keeps only fills matching every given column (bot_id, symbol, account_id, user_id, venue).
    A time range [start, end) keeps positions opened before it: P&L and trades count inside the range,
    and the ratios start from the equity at its start.
    """
    for column in where or {}:
        if column not in FILTERS:
            raise ReportError(f"cannot filter on {column!r}; choose from {FILTERS}")
    for column, value in (where or {}).items():
        fills = fills.filter(pl.col(column) == value)
    if end_ns is not None:
        fills = fills.filter(pl.col("ts") < datetime.fromtimestamp(end_ns / 1e9, UTC))
    quotes = sorted(set(fills["quote"].to_list()))
    if quote is None and len(quotes) > 1:
        raise ReportError(f"fills are in several quote currencies {quotes}; pick one with --quote")
    if quote is not None:
        fills = fills.filter(pl.col("quote") == quote)
    if fills.is_empty():
        raise ReportError("no fills match")
    quote = quote or quotes[0]
    ledger = build_ledger(fills, method)
    curve = equity_curve(ledger, capital, marks, end_ns)
    if start_ns is not None:
        start = datetime.fromtimestamp(start_ns / 1e9, UTC)
        before = curve.filter(pl.col("ts") < start)
        capital = float(before["equity"][-1]) if not before.is_empty() else capital
        head = pl.DataFrame({"ts": [start], "equity": [capital]}, schema=curve.schema)
        curve = pl.concat([head, curve.filter(pl.col("ts") >= start)])
        ledger = ledger.filter(pl.col("ts") >= start)
        if ledger.is_empty():
            raise ReportError("no fills in the time range")
    return Report(
        quote=quote,
        metrics=compute(ledger, capital, curve),
        by_bot=pnl_by(ledger, ["bot_id"], marks),
        by_symbol=pnl_by(ledger, ["venue", "symbol"], marks),
        fees=fees_by_currency(ledger, ["bot_id"]),
        curve=curve,
        fills=ledger.height,
    )


def load_fills(store: Store) -> pl.DataFrame:
    df = pl.from_arrow(store.fills())
    assert isinstance(df, pl.DataFrame)
    return df


def _num(value: float | None, digits: int = 2, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.{digits}f}%" if pct else f"{value:,.{digits}f}"


def _money(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:,.4f}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "n/a"


def summary_rows(report: Report) -> list[tuple[str, str]]:
    m, dd, q = report.metrics, report.metrics.max_drawdown, report.quote
    total = sum(report.by_bot["total"].to_list(), Decimal(0))
    grid = sum(report.by_bot["grid_profit"].to_list(), Decimal(0))
    floating = sum(report.by_bot["floating"].to_list(), Decimal(0))
    fees = sum((f for f in report.by_bot["fees"].to_list() if f is not None), Decimal(0))
    return [
        ("Fills / trades", f"{report.fills} / {m.trades}"),
        ("Starting capital", f"{_num(m.starting_capital)} {q}"),
        ("Final equity", f"{_num(m.final_equity)} {q}"),
        ("Grid profit (realized)", f"{_money(grid)} {q}"),
        ("Floating P&L (unrealized)", f"{_money(floating)} {q}"),
        ("Total P&L", f"{_money(total)} {q}"),
        ("Fees", f"{_money(fees)} {q}"),
        ("Total return", _num(m.total_return, pct=True)),
        ("CAGR", _num(m.cagr, pct=True)),
        ("Annualized return", _num(m.annualized_return, pct=True)),
        ("Sharpe (daily, √365)", _num(m.sharpe)),
        ("Sortino (daily, √365)", _num(m.sortino)),
        ("Calmar", _num(m.calmar)),
        ("Max drawdown", f"{_num(dd.absolute)} {q} ({_num(dd.relative, pct=True)})"),
        ("Drawdown start / end", f"{_when(dd.start)} / {_when(dd.end)}"),
        ("Win rate (W/D/L)", f"{_num(m.win_rate, pct=True)} ({m.wins}/{m.draws}/{m.losses})"),
        ("Profit factor", _num(m.profit_factor)),
        ("Expectancy (ratio)", f"{_num(m.expectancy, 4)} {q} ({_num(m.expectancy_ratio)})"),
        ("SQN", _num(m.sqn)),
    ]


def render(report: Report, console: Console) -> None:
    summary = Table(title=f"wisetrader report ({report.quote})", show_header=False)
    summary.add_column("metric", style="bold")
    summary.add_column("value", justify="right")
    for name, value in summary_rows(report):
        summary.add_row(name, value)
    console.print(summary)
    for title, frame, keys in (
        ("P&L by bot", report.by_bot, ["bot_id"]),
        ("P&L by symbol", report.by_symbol, ["venue", "symbol"]),
    ):
        table = Table(title=title)
        for column in [*keys, "fills", "trades", "grid profit", "floating", "total", "fees"]:
            table.add_column(column, justify="left" if column in keys else "right")
        for row in frame.iter_rows(named=True):
            table.add_row(
                *(str(row[k]) for k in keys),
                str(row["fills"]),
                str(row["trades"]),
                _money(row["grid_profit"]),
                _money(row["floating"]),
                _money(row["total"]),
                _money(row["fees"]),
            )
        console.print(table)


def write_charts(report: Report, folder: Path) -> list[Path]:
    """``equity.png`` (equity and drawdown) and ``pnl_by_bot.png`` in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    curve = report.curve.with_columns(pl.col("equity").cum_max().alias("peak"))
    ts = curve["ts"].to_list()
    equity = curve["equity"].to_list()
    drawdown = [(e / p - 1) * 100 for e, p in zip(equity, curve["peak"].to_list(), strict=True)]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, height_ratios=[3, 1])
    top.plot(ts, equity, color="tab:blue", linewidth=1.2)
    top.set_ylabel(f"equity ({report.quote})")
    top.set_title("Equity")
    top.grid(alpha=0.3)
    bottom.fill_between(ts, drawdown, 0, color="tab:red", alpha=0.4, step="post")
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    equity_png = folder / "equity.png"
    fig.savefig(equity_png, dpi=110)
    plt.close(fig)

    bots = [str(b) for b in report.by_bot["bot_id"].to_list()]
    series = {
        name: [float(v) for v in report.by_bot[col].to_list()]
        for name, col in (("grid profit", "grid_profit"), ("floating", "floating"), ("total", "total"))
    }
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(bots) + 3), 4.5))
    width = 0.27
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + (i - 1) * width for x in range(len(bots))], values, width, label=name)
    ax.set_xticks(range(len(bots)), bots)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(report.quote)
    ax.set_title("P&L by bot")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    bots_png = folder / "pnl_by_bot.png"
    fig.savefig(bots_png, dpi=110)
    plt.close(fig)
    return [equity_png, bots_png]


def parse_marks(values: Sequence[str]) -> Marks:
    """``venue:symbol=price`` items."""
    marks: Marks = {}
    for item in values:
        key, sep, price = item.partition("=")
        venue, colon, symbol = key.partition(":")
        if not sep or not colon:
            raise ReportError(f"a mark is venue:symbol=price, got {item!r}")
        try:
            marks[(venue, symbol)] = Decimal(price)
        except ArithmeticError:
            raise ReportError(f"bad mark price in {item!r}") from None
    return marks


def parse_time(value: str | None) -> int | None:
    """An ISO date or datetime (UTC unless it says otherwise) as ns."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"not an ISO date/time: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000


def run_cli(
    *,
    store: str,
    database: str,
    capital: float,
    method: str,
    start: str | None,
    end: str | None,
    quote: str | None,
    where: dict[str, str | None],
    marks: Sequence[str],
    out: str,
) -> None:
    """The ``wisetrader report`` command: clear errors (exit 2), never a traceback for bad input."""
    import typer

    from wisetrader.settings import get_settings

    console = Console()
    settings = get_settings()
    try:
        methods: dict[str, Method] = {"fifo": "fifo", "average": "average"}
        if method not in methods:
            raise ReportError(f"--method must be fifo or average, got {method!r}")
        the_store = Store(store or settings.resolved_store_dsn(), database or settings.store_database)
        the_store.migrate()
        result = build(
            load_fills(the_store),
            capital=capital,
            method=methods[method],
            marks=parse_marks(marks),
            start_ns=parse_time(start),
            end_ns=parse_time(end),
            quote=quote,
            where={k: v for k, v in where.items() if v is not None},
        )
    except (ReportError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    render(result, console)
    for path in write_charts(result, Path(out)):
        console.print(f"wrote {path}")
