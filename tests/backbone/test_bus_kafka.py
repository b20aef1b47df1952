"""The Kafka backend against a real broker (started by the session fixture)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from wisetrader.bus.kafka import KafkaBus, KafkaConsumer
from wisetrader.events import Family, Health, encode

from .support import collect, make_fill, make_top


async def test_round_trip_keys_topics_and_per_symbol_order(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topic_prefix: str
) -> None:
    bus = kafka_bus
    await bus.ensure_topics(partitions=3)
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
    sent = []
    for i in range(60):
        for s in symbols:
            sent.append(make_top(i, s))
        sent.append(make_fill(i, symbols[i % 2]))
    for event in sent:
        await bus.publish(event)
    await bus.flush()
    assert bus.stats()["published"] == len(sent)

    consumer = await bus.consumer("rt", [Family.MARKET, Family.FILLS])
    got = await collect([consumer], len(sent))
    assert sorted(d.event.id for d in got) == sorted(e.id for e in sent)  # nothing lost, nothing doubled
    by_id = {e.id: e for e in sent}
    assert all(d.event == by_id[d.event.id] for d in got)  # decoded exactly
    assert all(d.family == d.event.family for d in got)

    # One symbol lives in one partition, and its events arrive in publish order.
    seen: dict[tuple[Family, str], list[int]] = defaultdict(list)
    partitions: dict[tuple[Family, str], set[int]] = defaultdict(set)
    for d in got:
        seen[(d.family, d.event.symbol)].append(d.event.ts_ns)
        partitions[(d.family, d.event.symbol)].add(d.partition)
    assert all(ts == sorted(ts) and len(set(ts)) == len(ts) for ts in seen.values())
    assert all(len(p) == 1 for p in partitions.values())
    assert len({next(iter(p)) for (f, _), p in partitions.items() if f is Family.MARKET}) > 1  # spread out

    # On the wire: the topic is per family and the key is venue:symbol.
    raw = AIOKafkaConsumer(
        f"{topic_prefix}.market", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await raw.start()
    try:
        records = await raw.getmany(timeout_ms=5000, max_records=10)
        messages = [m for batch in records.values() for m in batch]
        assert messages
        assert all(m.key.decode() == by_id[orjson.loads(m.value)["id"]].key for m in messages)
        assert all(m.key.decode().startswith("bybit-spot:") for m in messages)
    finally:
        await raw.stop()

    # An invalid message on a topic (from some other producer) is counted and skipped, never delivered.
    await bus.publish(Health(ts_ns=1, venue="", symbol="", component="t", status="ok"))  # not subscribed
    other = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await other.start()
    try:
        await other.send_and_wait(f"{topic_prefix}.fills", b'{"type":"fill","v":1}', key=b"x")
        await other.send_and_wait(f"{topic_prefix}.fills", encode(make_fill(999)), key=b"x")
    finally:
        await other.stop()
    tail = await collect([consumer], 1)
    assert [d.event.id for d in tail] == [make_fill(999).id]
    assert consumer.decode_errors() == {"missing_field": 1}
    await consumer.commit()
    assert await consumer.lag() == 0
    await consumer.close()
    await bus.flush()
    assert bus.stats()["send_errors"] == 0


async def test_consumer_group_rebalance_splits_and_reassigns_partitions(kafka_bus: KafkaBus) -> None:
    bus = kafka_bus
    await bus.ensure_topics(partitions=4)
    symbols = [f"S{i}USDT" for i in range(12)]

    async def publish(start: int) -> list[str]:
        batch = [make_fill(start + i, symbols[i % len(symbols)]) for i in range(48)]
        for e in batch:
            await bus.publish(e)
        await bus.flush()
        return [e.id for e in batch]

    first = await publish(0)
    c1 = await bus.consumer("grp", [Family.FILLS], session_timeout_ms=6000)
    assert sorted(d.event.id for d in await collect([c1], len(first))) == sorted(first)
    await c1.commit()

    # A second member joins: the four partitions are split between the two, nothing is redelivered.
    c2 = await bus.consumer("grp", [Family.FILLS], session_timeout_ms=6000)
    assert isinstance(c1, KafkaConsumer) and isinstance(c2, KafkaConsumer)
    for _ in range(100):
        await asyncio.gather(c1.poll(timeout_s=0.1), c2.poll(timeout_s=0.1))
        a, b = c1.assigned_partitions(), c2.assigned_partitions()
        if a and b and len(a | b) == 4:
            break
    assert a and b and not (a & b) and len(a | b) == 4
    second = await publish(100)
    got = await collect([c1, c2], len(second))
    assert sorted(d.event.id for d in got) == sorted(second)
    await asyncio.gather(c1.commit(), c2.commit())

    # The second member leaves: the first takes every partition back, resumes each at the committed
    # offset (nothing from before is redelivered) and gets everything new.
    await c2.close()
    for _ in range(100):
        assert await c1.poll(timeout_s=0.1) == []
        if len(c1.assigned_partitions()) == 4:
            break
    assert len(c1.assigned_partitions()) == 4
    third = await publish(200)
    got = await collect([c1], len(third))
    assert sorted(d.event.id for d in got) == sorted(third)
    await c1.commit()
    await c1.close()
