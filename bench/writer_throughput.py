"""Rows per second the store writer inserts into ClickHouse (embedded chDB by default).

    python -m bench.writer_throughput [--rows 200000] [--batch 10000] [--dsn chdb:///tmp/x]

Fills go through the in-process bus into :class:`StoreWriter` (Arrow inserts with the insert-time fill
deduplication), so the figure is the writer's own ceiling, without a broker in front of it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from decimal import Decimal

from wisetrader.bus import InProcessBus
from wisetrader.events import Fill
from wisetrader.store import Store
from wisetrader.store.writer import STORED_FAMILIES, StoreWriter


async def main(rows: int, batch: int, dsn: str) -> None:
    store = Store(dsn, f"bench{uuid.uuid4().hex[:8]}")
    store.migrate()
    bus = InProcessBus(queue_size=rows)
    consumer = await bus.consumer("writer", STORED_FAMILIES)
    writer = StoreWriter(consumer, store, batch_rows=batch, batch_ms=1000)
    for i in range(rows):
        bus.publish_nowait(
            Fill(
                ts_ns=1_700_000_000_000_000_000 + i * 1000,
                venue="binance-spot",
                symbol=f"S{i % 32}USDT",
                trade_id=str(i),
                client_order_id=f"c{i}",
                side="buy" if i % 2 else "sell",
                price=Decimal(30000 + i % 500) / 10,
                qty=Decimal("0.001"),
                base="BTC",
                quote="USDT",
                fee=Decimal("0.003"),
                fee_currency="USDT",
                bot_id=f"bot{i % 8}",
            )
        )
    start = time.perf_counter()
    stats = await writer.run(until_idle=True)
    seconds = time.perf_counter() - start
    assert store.count("fills") == rows == stats.rows
    print(f"writer: {rows / seconds:,.0f} rows/s ({rows:,} fills in {seconds:.2f}s, {stats.batches} batches)")
    store.client.command(f"DROP DATABASE {store.database}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dsn", default=None, help="store DSN (default: a temporary chdb directory)")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.batch, args.dsn or f"chdb://{tempfile.mkdtemp(prefix='wt-bench-')}"))
