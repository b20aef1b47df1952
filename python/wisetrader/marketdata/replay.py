"""``wisetrader replay``: run a recording through the market-data core.

Frames go to ``MarketData.feed_batch`` in batches (one crossing per batch, GIL released); every
top-of-book change can be written to ``.jsonl``, ``.csv`` or ``.parquet`` with exact decimal strings.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
import typer

from wisetrader._core import MarketData
from wisetrader.marketdata.instruments import InstrumentSpec, resolve_instruments
from wisetrader.marketdata.recording import Recording
from wisetrader.marketdata.venues import Venue

TOP_COLUMNS = ("recv_ns", "symbol", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty")
TopRow = tuple[int, str, int, str | None, str | None, str | None, str | None]
OUT_FORMATS = (".jsonl", ".csv", ".parquet")
# Show a progress bar from this file size on.
PROGRESS_MIN_BYTES = 5_000_000


@dataclass
class ReplayResult:
    market: MarketData
    instruments: list[InstrumentSpec]
    counters: dict[str, int]
    seconds: float
    bad_lines: int
    rows_written: int = 0
    requests: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.counters["frames"] / self.seconds if self.seconds > 0 else 0.0


class TopWriter:
    """Writes top-of-book rows to one file, format by extension."""

    def __init__(self, path: Path) -> None:
        if path.suffix not in OUT_FORMATS:
            raise ValueError(f"--out must end with one of {', '.join(OUT_FORMATS)}: {path}")
        self.path = path
        self.rows = 0
        self._parquet: list[TopRow] = []
        self._file: IO[Any] | None = None
        self._csv: Any = None
        if path.suffix == ".jsonl":
            self._file = path.open("wb")
        elif path.suffix == ".csv":
            self._file = path.open("w", newline="")
            self._csv = csv.writer(self._file)
            self._csv.writerow(TOP_COLUMNS)

    def write(self, rows: list[TopRow]) -> None:
        self.rows += len(rows)
        if self.path.suffix == ".jsonl" and self._file is not None:
            self._file.write(
                b"".join(orjson.dumps(dict(zip(TOP_COLUMNS, r, strict=True))) + b"\n" for r in rows)
            )
        elif self._csv is not None:
            self._csv.writerows(rows)
        else:
            self._parquet.extend(rows)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self.path.suffix == ".parquet":
            import polars as pl

            schema = {
                "recv_ns": pl.Int64,
                "symbol": pl.String,
                "update_id": pl.Int64,
                **{c: pl.String for c in TOP_COLUMNS[3:]},
            }
            pl.DataFrame(self._parquet, schema=schema, orient="row").write_parquet(self.path)


@contextmanager
def _progress(path: Path, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        TextColumn("[bold]replay"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("replay", total=path.stat().st_size)
        yield lambda done: bar.update(task, completed=done)


def replay(
    path: Path,
    venue: str,
    symbol: str | None = None,
    out: Path | None = None,
    tick_size: str | None = None,
    lot_step: str | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> ReplayResult:
    """Replay ``path`` through a fresh ``MarketData`` for ``venue``."""
    from wisetrader.settings import get_settings

    settings = get_settings()
    batch_size = batch_size or settings.replay_batch_size
    specs = resolve_instruments(path, venue, symbol, tick_size, lot_step)
    market = MarketData(venue, buffer_limit=settings.marketdata_buffer_limit)
    for spec in specs:
        market.add_instrument(spec.symbol, spec.tick_size, spec.lot_step)
    if symbol:
        market.set_snapshot_symbol(symbol)
    writer = TopWriter(out) if out else None
    rec = Recording(path)
    requests: list[tuple[int, str, str, str]] = []
    start = time.perf_counter()
    try:
        with _progress(path, progress and path.stat().st_size >= PROGRESS_MIN_BYTES) as tick:
            for frames, times in rec.batches(batch_size):
                changes = market.feed_batch(frames, times)
                requests.extend(changes.requests)
                if writer is not None:
                    writer.write(changes.top_rows())
                if tick is not None:
                    tick(rec.bytes_read)
    finally:
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - start
    return ReplayResult(
        market=market,
        instruments=specs,
        counters=dict(market.counters()),
        seconds=seconds,
        bad_lines=rec.bad_lines,
        rows_written=writer.rows if writer else 0,
        requests=requests,
    )


def print_summary(result: ReplayResult, show_book: bool, depth: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    c = result.counters
    if show_book:
        for spec in result.instruments:
            state, reason = result.market.state(spec.symbol)
            bids, asks = result.market.top(spec.symbol, depth)
            why = f" ({reason})" if reason else ""
            title = f"{spec.symbol}  {state}{why}  update_id={result.market.update_id(spec.symbol)}"
            book = Table(title=title, title_justify="left")
            for col in ("bid qty", "bid", "ask", "ask qty"):
                book.add_column(col, justify="right")
            for i in range(max(len(bids), len(asks))):
                b = bids[i] if i < len(bids) else ("", "")
                a = asks[i] if i < len(asks) else ("", "")
                book.add_row(b[1], b[0], a[0], a[1])
            console.print(book)
    stats = Table(title="replay", title_justify="left", show_header=False)
    stats.add_column("counter")
    stats.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("frames read", f"{c['frames']:,}"),
        ("applied", f"{c['applied']:,}"),
        ("skipped", f"{c['skipped_stale'] + c['skipped_not_synced']:,}"),
        ("buffered before snapshot", f"{c['buffered']:,}"),
        ("other channels ignored", f"{c['ignored']:,}"),
        ("gaps detected", f"{c['gaps']:,}"),
        ("resyncs", f"{c['resyncs']:,}"),
        ("checksums ok / failed", f"{c['checksum_ok']:,} / {c['checksum_failed']:,}"),
        ("top-of-book changes", f"{c['tops']:,}"),
        ("decode errors", f"{c['errors']:,}"),
    ]
    rows += [
        (f"  {k.removeprefix('error.')}", f"{v:,}") for k, v in sorted(c.items()) if k.startswith("error.")
    ]
    if result.bad_lines:
        rows.append(("bad recording lines", f"{result.bad_lines:,}"))
    rows.append(("frames/s", f"{result.frames_per_second:,.0f}"))
    for k, v in rows:
        stats.add_row(k, v)
    console.print(stats)
    grids = ", ".join(
        f"{s.symbol} tick {s.tick_size} lot {s.lot_step} ({s.source})" for s in result.instruments
    )
    console.print(f"[dim]instruments: {grids}[/dim]")


def replay_command(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="recording: `<recv_ns> <payload>` lines, plain or gzip"
        ),
    ],
    venue: Annotated[Venue, typer.Option("--venue", help="venue and product of the recording")],
    symbol: Annotated[
        str | None,
        typer.Option(
            "--symbol", help="symbol bare REST snapshot lines belong to (default: the file's only one)"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write every top-of-book change to .jsonl, .csv or .parquet")
    ] = None,
    tick_size: Annotated[str | None, typer.Option("--tick-size", help="override the price step")] = None,
    lot_step: Annotated[str | None, typer.Option("--lot-step", help="override the quantity step")] = None,
    depth: Annotated[int, typer.Option("--depth", help="levels per side to print")] = 10,
) -> None:
    """Replay a recording through the Rust core; print the final book (or write --out) and the counters."""
    if out is not None and out.suffix not in OUT_FORMATS:
        raise typer.BadParameter(f"must end with one of {', '.join(OUT_FORMATS)}", param_hint="--out")
    result = replay(path, venue.value, symbol, out, tick_size, lot_step, progress=True)
    print_summary(result, show_book=out is None, depth=depth)
