"""Fan-out of bus events to WebSocket clients: one bus consumer per API process, one bounded queue per client.

An event that carries a ``user_id`` goes only to that user's connections; public market data (no user)
goes to every connection. A slow client never slows the hub: when its queue is full, the event is dropped
for that client and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict

from prometheus_client import Counter

from wisetrader.api.metrics import REGISTRY
from wisetrader.bus.protocol import Bus, Consumer
from wisetrader.events import Event, Family

STREAMED = (Family.MARKET, Family.ORDERS, Family.FILLS, Family.BOTS)
DROPPED = Counter("wisetrader_api_ws_dropped", "events dropped for slow WebSocket clients", registry=REGISTRY)


class Subscription:
    def __init__(self, user_id: int, maxsize: int) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            DROPPED.inc()


class EventHub:
    def __init__(self, bus: Bus, queue_size: int = 1000) -> None:
        self.bus = bus
        self.queue_size = queue_size
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # A group of its own: every API process sees every event (and filters per connection).
        self._consumer = await self.bus.consumer(f"api-stream-{uuid.uuid4().hex[:8]}", STREAMED)
        self._task = asyncio.create_task(self._run(self._consumer))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.close()

    def subscribe(self, user_id: int) -> Subscription:
        sub = Subscription(user_id, self.queue_size)
        self._subs[user_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs[sub.user_id].discard(sub)
        if not self._subs[sub.user_id]:
            del self._subs[sub.user_id]

    def dispatch(self, event: Event) -> None:
        if event.user_id is None:
            if event.family is Family.MARKET:
                for subs in self._subs.values():
                    for sub in subs:
                        sub.offer(event)
            return  # a private event without an owner goes to nobody
        try:
            owner = int(event.user_id)
        except ValueError:
            return
        for sub in self._subs.get(owner, ()):
            sub.offer(event)

    async def _run(self, consumer: Consumer) -> None:
        while True:
            for delivery in await consumer.poll(max_records=1000, timeout_s=0.5):
                self.dispatch(delivery.event)
            await consumer.commit()
