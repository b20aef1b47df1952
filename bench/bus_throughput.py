"""Events/s through the bus: in-process, Kafka through KafkaBus, and raw aiokafka on the same broker.

    python -m bench.bus_throughput [--events 200000] [--bootstrap HOST:PORT]

Without ``--bootstrap`` a local single-node broker is started (jars from Maven Central, cached) and
removed afterwards. Kafka figures: market data (``book_top``: lz4, acks=1) and fills (idempotent,
acks=all), publish (until flushed) and consume (decode and checks included, one consumer, timed from its
first event); the raw aiokafka rows send/read the same pre-encoded bytes with the same producer settings,
the ceiling KafkaBus can reach on this broker. The machine's load moves these figures a lot: compare the
rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from wisetrader.bus import InProcessBus
from wisetrader.bus.kafka import KafkaBus
from wisetrader.devtools.kafka import KafkaBroker
from wisetrader.events import BookTop, Event, Family, Fill, encode

SYMBOLS = [f"SYM{i}USDT" for i in range(16)]


def top(i: int) -> BookTop:
    px = Decimal(30000 + i % 1000) / 10
    return BookTop(
        ts_ns=i,
        venue="binance-spot",
        symbol=SYMBOLS[i % 16],
        recv_ns=i,
        bid_px=px,
        bid_qty=Decimal("1.25"),
        ask_px=px + Decimal("0.1"),
        ask_qty=Decimal("0.5"),
    )


def fill(i: int) -> Fill:
    return Fill(
        ts_ns=i,
        venue="binance-spot",
        symbol=SYMBOLS[i % 16],
        trade_id=str(i),
        client_order_id=f"c{i}",
        side="buy",
        price=Decimal("30000.1"),
        qty=Decimal("0.001"),
        base="BTC",
        quote="USDT",
        fee=Decimal("0.03"),
        fee_currency="USDT",
        bot_id="b1",
    )


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} events/s  ({n:,} in {seconds:.2f}s)"


async def inprocess(n: int) -> tuple[float, float, int]:
    """Seconds to publish ``n`` events, seconds until all were consumed, and the drops."""
    bus = InProcessBus(queue_size=n)
    consumer = await bus.consumer("bench", [Family.MARKET])
    events = [top(i) for i in range(n)]
    got = 0

    async def drain() -> None:
        nonlocal got
        while got < n:
            got += len(await consumer.poll(max_records=10_000, timeout_s=1))

    task = asyncio.create_task(drain())
    start = time.perf_counter()
    for i, event in enumerate(events):
        bus.publish_nowait(event)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # the consumer runs on the same loop
    published = time.perf_counter() - start
    await task
    total = time.perf_counter() - start
    return published, total, int(bus.stats()["dropped"])


async def kafka(bootstrap: str, n: int, make: Callable[[int], Event], family: Family) -> tuple[float, float]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(bootstrap, topic_prefix=prefix)
    await bus.ensure_topics(partitions=6)
    await bus.start()
    events = [make(i) for i in range(n)]
    start = time.perf_counter()
    for event in events:
        await bus.publish(event)
    await bus.flush()
    publish = time.perf_counter() - start
    await bus.close()

    consumer = await bus.consumer(f"bench-{prefix}", [family])
    got = len(
        await consumer.poll(max_records=1, timeout_s=30)
    )  # joining the group is start-up, not throughput
    start = time.perf_counter()
    while got < n:
        got += len(await consumer.poll(max_records=10_000, timeout_s=1))
    consume = time.perf_counter() - start
    await consumer.close()
    assert bus.stats()["send_errors"] == 0
    return publish, consume


async def raw(bootstrap: str, n: int, make: Callable[[int], Event], durable: bool) -> tuple[float, float]:
    topic = f"raw{uuid.uuid4().hex[:8]}"
    payloads = [(encode(e), e.key.encode()) for e in (make(i) for i in range(n))]
    settings: dict[str, object] = (
        {"acks": "all", "enable_idempotence": True, "linger_ms": 2}
        if durable
        else {"acks": 1, "linger_ms": 20, "max_batch_size": 256 * 1024, "compression_type": "lz4"}
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **settings)
    await producer.start()
    start = time.perf_counter()
    for value, key in payloads:
        await producer.send(topic, value=value, key=key)
    await producer.flush()
    publish = time.perf_counter() - start
    await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    first = await consumer.getmany(timeout_ms=30_000, max_records=1)
    got = sum(len(b) for b in first.values())
    start = time.perf_counter()
    while got < n:
        batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
        got += sum(len(b) for b in batches.values())
    consume = time.perf_counter() - start
    await consumer.stop()
    return publish, consume


async def main(n: int, bootstrap: str | None) -> None:
    published, total, dropped = await inprocess(n)
    print(f"in-process  publish          {rate(n, published)}")
    print(f"in-process  publish->consume {rate(n, total)}  drops {dropped}")
    broker = None
    if bootstrap is None:
        broker = KafkaBroker(partitions=6)
        await asyncio.to_thread(broker.start)
        bootstrap = broker.bootstrap
    try:
        for name, make, family, durable in (
            ("book_top", top, Family.MARKET, False),
            ("fill", fill, Family.FILLS, True),
        ):
            k_pub, k_con = await kafka(bootstrap, n, make, family)
            r_pub, r_con = await raw(bootstrap, n, make, durable)
            for step, ours, ceiling in (("publish", k_pub, r_pub), ("consume", k_con, r_con)):
                ratio = ceiling / ours  # times, so this is our rate over the raw rate
                line = f"kafka {name:8}  {step}  KafkaBus {rate(n, ours)} | raw {rate(n, ceiling)}"
                print(f"{line} | ratio {ratio:.2f}")
    finally:
        if broker is not None:
            broker.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--bootstrap", default=None, help="use this broker instead of starting one")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.bootstrap))
