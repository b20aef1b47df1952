"""Storage: fills/s the store writer inserts into ClickHouse (embedded chDB) from the in-process bus
(``bench/writer_throughput.py`` holds the measurement)."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import tempfile

from bench.registry import Context, Missing, Outcome, Result, suite

SUBJECT = "wisetrader StoreWriter -> chDB"


@suite("storage", "Fills/s inserted into the store (embedded chDB) by the writer, from the in-process bus")
def storage(ctx: Context) -> Outcome:
    if importlib.util.find_spec("chdb") is None:
        return Outcome(missing=[Missing("storage", SUBJECT, "chdb is not installed")])
    from bench.writer_throughput import measure

    rows = 5_000 if ctx.quick else 200_000
    scratch = tempfile.mkdtemp(prefix="wt-bench-store-")
    try:
        per_s = [
            asyncio.run(measure(rows, 10_000, f"chdb://{scratch}", False, None))[0] for _ in range(ctx.runs)
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    case = f"fills from the in-process bus, {rows:,} rows, batches of 10,000"
    per_s.sort()
    median = per_s[len(per_s) // 2]
    return Outcome(
        [
            Result(
                "storage", case, SUBJECT, "ours", {"rows_per_s": median}, "rows_per_s", detail={"runs": per_s}
            )
        ]
    )
