"""The embedded bus: bounded in-memory queues inside one event loop.

Each consumer group has one bounded queue per family it subscribes to; members of a group share it. A
publisher never waits: when a group's queue is full the *oldest* queued event is dropped (a consumer that
falls behind gets the freshest data), and every drop is counted per group and family. Nothing survives
the process; use the Kafka backend for durability.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

import prometheus_client as prom

from wisetrader.bus.protocol import Delivery
from wisetrader.events import Event, Family

DROPPED = prom.Counter(
    "wisetrader_bus_dropped_total", "events a lagging in-process consumer group lost", ["group", "family"]
)


class _GroupQueue:
    def __init__(self, maxlen: int, group: str, family: Family) -> None:
        self.drop_counter = DROPPED.labels(group, family.value)
        self.items: deque[Delivery] = deque(maxlen=maxlen)
        self.wakeup = asyncio.Event()
        self.next_offset = 0
        self.dropped = 0


class InProcessConsumer:
    def __init__(self, queues: list[_GroupQueue]) -> None:
        self._queues = queues

    async def poll(self, max_records: int = 1000, timeout_s: float = 0.5) -> list[Delivery]:
        batch = self._take(max_records)
        if batch or timeout_s <= 0:
            return batch
        waits = [asyncio.ensure_future(q.wakeup.wait()) for q in self._queues]
        try:
            await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        return self._take(max_records)

    def _take(self, max_records: int) -> list[Delivery]:
        batch: list[Delivery] = []
        for q in self._queues:
            while q.items and len(batch) < max_records:
                batch.append(q.items.popleft())
            if not q.items:
                q.wakeup.clear()
        return batch

    async def commit(self) -> None:
        return None  # nothing is durable in process: a polled event is gone from the queue already

    async def lag(self) -> int | None:
        return sum(len(q.items) for q in self._queues)

    def decode_errors(self) -> dict[str, int]:
        return {}  # events never leave memory, so they are never malformed

    async def close(self) -> None:
        return None


class InProcessBus:
    """Bounded, never blocks the publisher, counts what it drops."""

    def __init__(self, queue_size: int = 65_536) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._queue_size = queue_size
        self._groups: dict[str, dict[Family, _GroupQueue]] = {}
        self._subscribers: dict[Family, list[_GroupQueue]] = {f: [] for f in Family}
        self._published = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def publish_nowait(self, event: Event) -> None:
        """Synchronous publish for hot paths running on the loop thread."""
        family = event.family
        self._published += 1
        for q in self._subscribers[family]:
            if len(q.items) == self._queue_size:
                q.dropped += 1  # deque(maxlen) evicts the oldest on append
                q.drop_counter.inc()
            q.items.append(Delivery(event, family, 0, q.next_offset))
            q.next_offset += 1
            q.wakeup.set()

    async def publish(self, event: Event) -> None:
        self.publish_nowait(event)

    async def flush(self) -> None:
        return None

    async def consumer(self, group: str, families: Iterable[Family]) -> InProcessConsumer:
        queues = self._groups.setdefault(group, {})
        mine = []
        for family in families:
            if family not in queues:
                queues[family] = _GroupQueue(self._queue_size, group, family)
                self._subscribers[family].append(queues[family])
            mine.append(queues[family])
        return InProcessConsumer(mine)

    def dropped(self) -> dict[str, int]:
        """Drops per ``group/family``."""
        return {f"{g}/{f}": q.dropped for g, qs in self._groups.items() for f, q in qs.items() if q.dropped}

    def stats(self) -> dict[str, int]:
        return {"published": self._published, "dropped": sum(self.dropped().values())}
