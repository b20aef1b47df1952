"""Rows per second the store writer inserts into ClickHouse (embedded chDB by default).

    python -m bench.writer_throughput [--rows 200000] [--batch 10000] [--dsn chdb:///tmp/x] [--kafka]

Fills go through the bus into :class:`StoreWriter` (Arrow inserts with the insert-time fill
deduplication). By default the bus is in-process, which measures the writer's own ceiling; with
``--kafka`` the fills are first published to a local single-node broker (started and removed here, or
``--bootstrap``) and the timed part is the writer draining the topic: consume, decode, insert, commit.
Timing starts at the first delivered event (after the consumer-group join).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from decimal import Decimal

from wisetrader.bus import Consumer, Delivery, InProcessBus
from wisetrader.bus.kafka import KafkaBus
from wisetrader.devtools.kafka import KafkaBroker
from wisetrader.events import Fill
from wisetrader.store import Store
from wisetrader.store.writer import STORED_FAMILIES, StoreWriter


def fills(rows: int) -> list[Fill]:
    return [
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
        for i in range(rows)
    ]


async def inprocess_consumer(rows: int) -> Consumer:
    bus = InProcessBus(queue_size=rows)
    consumer = await bus.consumer("writer", STORED_FAMILIES)
    for fill in fills(rows):
        bus.publish_nowait(fill)
    return consumer


async def kafka_consumer(rows: int, bootstrap: str) -> Consumer:
    bus = KafkaBus(bootstrap, topic_prefix=f"wbench{uuid.uuid4().hex[:8]}")
    await bus.ensure_topics(partitions=6)
    await bus.start()
    for fill in fills(rows):
        await bus.publish(fill)
    await bus.flush()
    await bus.close()
    return await bus.consumer("writer", STORED_FAMILIES)


class FirstDelivery:
    """Wraps a consumer to note when the first events arrive: joining a Kafka group takes seconds, which
    is start-up, not throughput."""

    def __init__(self, inner: Consumer) -> None:
        self.inner = inner
        self.at: float | None = None

    async def poll(self, max_records: int = 1000, timeout_s: float = 0.5) -> list[Delivery]:
        got = await self.inner.poll(max_records, timeout_s)
        if got and self.at is None:
            self.at = time.perf_counter()
        return got

    async def commit(self) -> None:
        await self.inner.commit()

    async def lag(self) -> int | None:
        return await self.inner.lag()

    def decode_errors(self) -> dict[str, int]:
        return self.inner.decode_errors()

    async def close(self) -> None:
        await self.inner.close()


async def measure(rows: int, batch: int, dsn: str, kafka: bool, bootstrap: str | None) -> tuple[float, str]:
    """Rows per second the writer inserted, and where the fills came from."""
    store = Store(dsn, f"bench{uuid.uuid4().hex[:8]}")
    store.migrate()
    broker = None
    if kafka and bootstrap is None:
        broker = KafkaBroker(partitions=6)
        await asyncio.to_thread(broker.start)
        bootstrap = broker.bootstrap
    try:
        consumer = FirstDelivery(
            await (kafka_consumer(rows, bootstrap) if bootstrap else inprocess_consumer(rows))
        )
        writer = StoreWriter(consumer, store, batch_rows=batch, batch_ms=1000)
        stats = await writer.run(until_idle=True)
        assert consumer.at is not None
        seconds = time.perf_counter() - consumer.at
        await consumer.close()
    finally:
        if broker is not None:
            broker.cleanup()
    assert store.count("fills") == rows == stats.rows
    store.client.command(f"DROP DATABASE {store.database}")
    return rows / seconds, "kafka" if bootstrap else "in-process bus"


async def main(rows: int, batch: int, dsn: str, kafka: bool, bootstrap: str | None) -> None:
    per_s, source = await measure(rows, batch, dsn, kafka, bootstrap)
    print(f"writer ({source}): {per_s:,.0f} rows/s ({rows:,} fills)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dsn", default=None, help="store DSN (default: a temporary chdb directory)")
    parser.add_argument("--kafka", action="store_true", help="read the fills from Kafka")
    parser.add_argument(
        "--bootstrap", default=None, help="with --kafka: use this broker instead of starting one"
    )
    args = parser.parse_args()
    scratch = None if args.dsn else tempfile.mkdtemp(prefix="wt-bench-")
    try:
        asyncio.run(main(args.rows, args.batch, args.dsn or f"chdb://{scratch}", args.kafka, args.bootstrap))
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
