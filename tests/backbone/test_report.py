"""`wisetrader report`: filters and time ranges, the table, the charts, clear errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from wisetrader.analytics import report
from wisetrader.analytics.sample import sample_fills
from wisetrader.events import Fill
from wisetrader.store import to_arrow

REPO = Path(__file__).parents[2]


def _fills(days: int = 10) -> pl.DataFrame:
    frame = pl.from_arrow(to_arrow(Fill, sample_fills(days=days)))
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_filters_and_time_range() -> None:
    fills = _fills()
    whole = report.build(fills, capital=1000.0)
    eth = report.build(fills, capital=1000.0, where={"bot_id": "grid-eth"})
    assert eth.by_bot["bot_id"].to_list() == ["grid-eth"]
    assert eth.fills == fills.filter(pl.col("bot_id") == "grid-eth").height
    assert (
        whole.by_bot.filter(pl.col("bot_id") == "grid-eth")["total"].to_list()
        == eth.by_bot["total"].to_list()
    )

    start = datetime(2024, 1, 5, tzinfo=UTC)
    ranged = report.build(fills, capital=1000.0, start_ns=int(start.timestamp()) * 10**9)
    assert ranged.fills == fills.filter(pl.col("ts") >= start).height
    before = whole.curve.filter(pl.col("ts") < start)["equity"][-1]
    assert ranged.metrics.starting_capital == pytest.approx(before)  # ratios start from the equity then
    assert ranged.metrics.final_equity == pytest.approx(whole.metrics.final_equity)
    assert ranged.curve["ts"][0] == start

    with pytest.raises(report.ReportError, match="no fills"):
        report.build(fills, capital=1000.0, where={"bot_id": "nobody"})
    with pytest.raises(report.ReportError, match="cannot filter"):
        report.build(fills, capital=1000.0, where={"side": "buy"})
    with pytest.raises(report.ReportError, match="quote"):
        report.build(pl.concat([fills, fills.with_columns(pl.lit("EUR").alias("quote"))]), capital=1000.0)


def test_marks_and_times_parse_or_fail_clearly() -> None:
    assert report.parse_marks(["okx:BTC-USDT=65000.5"]) == {("okx", "BTC-USDT"): report.Decimal("65000.5")}
    assert report.parse_time("2024-01-02") == int(datetime(2024, 1, 2, tzinfo=UTC).timestamp()) * 10**9
    for bad in (["BTCUSDT=1"], ["okx:BTC=abc"]):
        with pytest.raises(report.ReportError):
            report.parse_marks(bad)
    with pytest.raises(report.ReportError):
        report.parse_time("yesterday")


def test_cli_prints_the_table_and_writes_png_charts(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)

    assert run([sys.executable, "-m", "wisetrader.analytics.sample", dsn, "--days", "10"]).returncode == 0
    out = tmp_path / "charts"
    cli = [
        sys.executable,
        "-m",
        "wisetrader",
        "report",
        "--store",
        dsn,
        "--capital",
        "1000",
        "--out",
        str(out),
    ]
    done = run([*cli, "--mark", "binance-spot:BTCUSDT=40000"])
    assert done.returncode == 0, done.stderr
    expected = report.build(
        _fills(), capital=1000.0, marks={("binance-spot", "BTCUSDT"): report.Decimal(40000)}
    )
    total = sum(expected.by_bot["total"].to_list(), report.Decimal(0))
    assert f"{total:,.4f} USDT" in done.stdout
    assert "grid-btc" in done.stdout and "Sharpe" in done.stdout and "Max drawdown" in done.stdout
    for name in ("equity.png", "pnl_by_bot.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    bad = run([*cli, "--method", "lifo"])
    assert bad.returncode == 2 and "fifo or average" in bad.stdout and "Traceback" not in bad.stderr
