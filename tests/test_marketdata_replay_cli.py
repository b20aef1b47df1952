"""``wisetrader replay`` end to end: the README command, every --out format, gzip input, bad lines."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import polars as pl
import pytest
from marketdata_support import RECORDINGS
from wisetrader.marketdata.recording import Recording
from wisetrader.marketdata.replay import TOP_COLUMNS, replay

NKN = RECORDINGS / "binance-spot" / "NKNUSDT.rec"
ROOT = Path(__file__).parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wisetrader", "replay", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_readme_command_prints_the_synced_book_and_counters() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "wisetrader replay tests/data/recordings/binance-spot/NKNUSDT.rec --venue binance-spot" in readme
    res = cli("tests/data/recordings/binance-spot/NKNUSDT.rec", "--venue", "binance-spot")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "NKNUSDT  synced" in out
    assert "frames read" in out and "227" in out
    assert "gaps detected" in out and "frames/s" in out
    best = replay(NKN, "binance-spot").market.best_bid("NKNUSDT")
    assert best is not None and best[0] in out


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_out_writes_one_row_per_top_change_with_exact_decimals(suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"tops{suffix}"
    res = cli(str(NKN), "--venue", "binance-spot", "--symbol", "NKNUSDT", "--out", str(out))
    assert res.returncode == 0, res.stderr
    if suffix == ".jsonl":
        df = pl.DataFrame([orjson.loads(x) for x in out.read_bytes().splitlines()])
    elif suffix == ".csv":
        df = pl.read_csv(out, infer_schema=False).with_columns(pl.col("recv_ns", "update_id").cast(pl.Int64))
    else:
        df = pl.read_parquet(out)
    assert tuple(df.columns) == TOP_COLUMNS
    expected = replay(NKN, "binance-spot", "NKNUSDT")
    rows = [tuple(r) for r in df.iter_rows()]
    assert len(rows) == expected.counters["tops"] > 0
    # Exact strings at the instrument's scale, as in the final book.
    final_bid = expected.market.best_bid("NKNUSDT")
    assert final_bid is not None and rows[-1][3:5] == final_bid
    assert all(isinstance(v, str) and "e" not in v for r in rows for v in r[3:])


def test_bad_out_extension_is_refused(tmp_path: Path) -> None:
    res = cli(str(NKN), "--venue", "binance-spot", "--out", str(tmp_path / "x.txt"))
    assert res.returncode != 0 and ".jsonl" in res.stderr


def test_gzip_recording_and_bad_lines(tmp_path: Path) -> None:
    gz = tmp_path / "nkn.rec.gz"
    gz.write_bytes(gzip.compress(NKN.read_bytes() + b"not a recording line\n\n"))
    plain = replay(NKN, "binance-spot")
    zipped = replay(gz, "binance-spot")
    assert zipped.bad_lines == 1
    assert zipped.counters == plain.counters
    assert zipped.market.book("NKNUSDT") == plain.market.book("NKNUSDT")
    rec = Recording(gz)
    assert len(list(rec.frames())) == 227 and rec.bytes_read == gz.stat().st_size


def test_explicit_coarser_grid_counts_off_grid_errors() -> None:
    res = replay(NKN, "binance-spot", tick_size="0.01")
    assert res.counters["error.decimal_off_grid"] > 0
    assert res.market.state("NKNUSDT")[0] != "synced"


def test_batch_size_does_not_change_the_result(tmp_path: Path) -> None:
    path = RECORDINGS / "binance-usdm" / "SUSHIUSDT.rec"
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    a = replay(path, "binance-usdm", out=one, batch_size=1)
    b = replay(path, "binance-usdm", out=many, batch_size=4096)
    assert a.counters == b.counters
    assert one.read_bytes() == many.read_bytes() and a.rows_written > 0


def test_replay_of_a_constructed_bybit_recording_infers_grids(tmp_path: Path) -> None:
    from marketdata_support import bybit_book, bybit_trade

    frames = [
        bybit_book("ETHUSDC", "snapshot", 10, [["3000.05", "1.5"], ["2999.90", "2"]], [["3000.10", "0.25"]]),
        bybit_book("ETHUSDC", "delta", 11, [["3000.05", "0"]], [["3000.07", "0.125"]]),
        bybit_trade("ETHUSDC", "t-1", "Sell", "3000.05", "0.5"),
    ]
    rec = tmp_path / "bybit.rec"
    rec.write_bytes(b"".join(b"%d %s\n" % (i, f) for i, f in enumerate(frames)))
    res = replay(rec, "bybit-linear")
    (spec,) = res.instruments
    assert (spec.symbol, spec.tick_size, spec.lot_step, spec.source) == (
        "ETHUSDC",
        "0.01",
        "0.001",
        "inferred",
    )
    assert res.market.state("ETHUSDC") == ("synced", None)
    assert res.market.best_bid("ETHUSDC") == ("2999.90", "2.000")
    assert res.market.best_ask("ETHUSDC") == ("3000.07", "0.125")
    assert res.counters["trades"] == 1 and res.counters["errors"] == 0
