"""The distributed bus: Apache Kafka through aiokafka.

- One topic per event family (``<prefix>.<family>``), key ``venue:symbol`` so a symbol stays ordered in
  one partition.
- Two producers, because the families want opposite trade-offs: orders, fills, bot state and signals go
  through an idempotent producer with ``acks=all`` (no loss, no broker-side duplicates on retry); market
  data and health go through a batching, lz4-compressing producer with ``acks=1`` (throughput first).
- Consumers join a consumer group with auto-commit off; :meth:`KafkaConsumer.commit` commits what was
  polled, so a sink commits only after its durable write (at-least-once, deduplicated at the sink).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from wisetrader.bus.protocol import CommitError, Delivery
from wisetrader.events import Event, EventDecodeError, Family, decode, encode

log = logging.getLogger(__name__)

DURABLE_FAMILIES = frozenset({Family.ORDERS, Family.FILLS, Family.BOTS, Family.SIGNALS, Family.CONTROL})
TOPIC_ALREADY_EXISTS = 36


def topic_name(prefix: str, family: Family) -> str:
    return f"{prefix}.{family.value}"


class KafkaConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, families: dict[str, Family]) -> None:
        self._consumer = consumer
        self._families = families
        self._errors: Counter[str] = Counter()

    async def poll(self, max_records: int = 1000, timeout_s: float = 0.5) -> list[Delivery]:
        records = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        out: list[Delivery] = []
        for tp, messages in records.items():
            family = self._families[tp.topic]
            for message in messages:
                try:
                    event = decode(message.value)
                except EventDecodeError as exc:
                    self._errors[exc.reason] += 1
                    log.warning(
                        "skipping invalid event at %s:%d@%d: %s", tp.topic, tp.partition, message.offset, exc
                    )
                    continue
                out.append(Delivery(event, family, tp.partition, message.offset))
        return out

    async def commit(self) -> None:
        try:
            await self._consumer.commit()
        except KafkaError as exc:
            raise CommitError(f"Kafka commit failed: {exc!r}") from exc

    async def lag(self) -> int | None:
        assigned = list(self._consumer.assignment())
        if not assigned:
            return None  # not (yet) a member with partitions: lag unknown
        try:
            ends = await self._consumer.end_offsets(assigned)
            positions = [await self._consumer.position(tp) for tp in assigned]
        except KafkaError:
            return None  # broker unreachable or partitions moving: unknown
        return sum(max(0, int(ends[tp]) - int(pos)) for tp, pos in zip(assigned, positions, strict=True))

    def decode_errors(self) -> dict[str, int]:
        return dict(self._errors)

    def assigned_partitions(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    async def close(self) -> None:
        await self._consumer.stop()


class KafkaBus:
    """Kafka backend of the bus protocol."""

    def __init__(
        self, bootstrap: str, *, topic_prefix: str = "wisetrader", client_id: str = "wisetrader"
    ) -> None:
        self.bootstrap = bootstrap
        self.topic_prefix = topic_prefix
        self.client_id = client_id
        self._durable: AIOKafkaProducer | None = None
        self._fast: AIOKafkaProducer | None = None
        self._stats: Counter[str] = Counter()

    def topic(self, family: Family) -> str:
        return topic_name(self.topic_prefix, family)

    async def ensure_topics(self, partitions: int = 6, replication: int = 1) -> None:
        """Create every family's topic if missing (a no-op for the ones that exist)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin")
        await admin.start()
        try:
            wanted = [NewTopic(self.topic(f), partitions, replication) for f in Family]
            response = await admin.create_topics(wanted)
            for topic, code, message in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"cannot create topic {topic}: error {code} {message}")
        finally:
            await admin.close()

    async def start(self) -> None:
        self._durable = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-durable",
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
        )
        self._fast = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-market",
            acks=1,
            linger_ms=20,
            max_batch_size=256 * 1024,
            compression_type="lz4",
        )
        await asyncio.gather(self._durable.start(), self._fast.start())

    async def close(self) -> None:
        for producer in (self._durable, self._fast):
            if producer is not None:
                await producer.stop()
        self._durable = self._fast = None

    def _producer(self, family: Family) -> AIOKafkaProducer:
        producer = self._durable if family in DURABLE_FAMILIES else self._fast
        if producer is None:
            raise RuntimeError("KafkaBus.start() was not called")
        return producer

    async def publish(self, event: Event) -> None:
        # send() only waits if the producer's buffer is full; delivery is confirmed in the background.
        future = await self._producer(event.family).send(
            self.topic(event.family), value=encode(event), key=event.key.encode()
        )
        self._stats["published"] += 1
        future.add_done_callback(self._on_delivery)

    def _on_delivery(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            self._stats["send_errors"] += 1
            log.error("event not delivered: %s", "cancelled" if future.cancelled() else future.exception())
        else:
            self._stats["delivered"] += 1

    async def flush(self) -> None:
        for producer in (self._durable, self._fast):
            if producer is not None:
                await producer.flush()

    async def consumer(
        self, group: str, families: Iterable[Family], *, session_timeout_ms: int = 10_000
    ) -> KafkaConsumer:
        topics = {self.topic(f): f for f in families}
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-{group}",
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(100, session_timeout_ms // 10),
            max_partition_fetch_bytes=8 * 1024 * 1024,  # fewer fetch round trips for batch consumers
        )
        await consumer.start()
        return KafkaConsumer(consumer, topics)

    def stats(self) -> dict[str, int]:
        return {"published": 0, "delivered": 0, "send_errors": 0, **self._stats}
