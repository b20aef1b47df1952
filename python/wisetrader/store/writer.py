"""The store writer: consume the bus, insert in batches, commit only after the insert.

A batch is flushed when it holds ``batch_rows`` events or its oldest event has waited ``batch_ms``. The
order is always insert, then commit: a crash in between redelivers the batch, and the store's insert-time
fill check (plus ReplacingMergeTree on every table) absorbs the repeat, so after a restart no fill is lost
and none is stored twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import prometheus_client as prom

from wisetrader.bus import CommitError, Consumer
from wisetrader.events import Event, Family
from wisetrader.store.client import Store

log = logging.getLogger(__name__)

# Prometheus metrics, labelled by consumer group so several writers in one process stay apart.
ROWS = prom.Counter("wisetrader_writer_rows_total", "rows inserted into the store", ["group", "table"])
DUPLICATES = prom.Counter(
    "wisetrader_writer_duplicates_total", "redelivered fills not stored again", ["group"]
)
REJECTED = prom.Counter(
    "wisetrader_writer_rejected_total", "events not stored, by reason", ["group", "reason"]
)
COMMIT_FAILURES = prom.Counter(
    "wisetrader_writer_commit_failures_total", "offset commits that failed", ["group"]
)
LAG = prom.Gauge("wisetrader_writer_lag", "events published but not yet consumed", ["group"])

# Families holding something the store keeps (public trades and health are not stored).
LAG_EVERY_S = 1.0

STORED_FAMILIES = (Family.MARKET, Family.ORDERS, Family.FILLS, Family.BOTS, Family.SIGNALS)


@dataclass
class WriterStats:
    events: int = 0  # consumed
    rows: int = 0  # inserted
    batches: int = 0
    duplicates: int = 0
    commit_failures: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    lag: int | None = None  # events published but not yet consumed, as of the last batch
    started: float = field(default_factory=time.monotonic)

    def rows_per_s(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.rows / elapsed if elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "events": self.events,
            "rows": self.rows,
            "batches": self.batches,
            "duplicates": self.duplicates,
            "commit_failures": self.commit_failures,
            "rejected": dict(self.rejected),
            "lag": self.lag,
            "rows_per_s": round(self.rows_per_s(), 1),
        }


class StoreWriter:
    def __init__(
        self,
        consumer: Consumer,
        store: Store,
        *,
        batch_rows: int = 10_000,
        batch_ms: int = 500,
        after_insert: Callable[[int], None] | None = None,
        group: str = "store-writer",
    ) -> None:
        self.consumer = consumer
        self.store = store
        self.batch_rows = batch_rows
        self.batch_ms = batch_ms
        # Called with the row count between a successful insert and the offset commit (metrics, tests).
        self.after_insert = after_insert
        self.stats = WriterStats()
        self.group = group
        self._buffer: list[Event] = []
        self._oldest = 0.0
        self._uncommitted = False
        self._lag_at = 0.0

    async def step(self) -> int:
        """Poll once; flush if the batch is full or old enough. Returns the number of events polled."""
        wait_s = self.batch_ms / 1000
        if self._buffer:
            wait_s = max(0.0, self._oldest + wait_s - time.monotonic())
        deliveries = await self.consumer.poll(
            max_records=self.batch_rows - len(self._buffer), timeout_s=wait_s
        )
        if deliveries and not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.extend(d.event for d in deliveries)
        self._uncommitted = self._uncommitted or bool(deliveries)
        self.stats.events += len(deliveries)
        full = len(self._buffer) >= self.batch_rows
        if full or (self._buffer and time.monotonic() - self._oldest >= self.batch_ms / 1000):
            await self.flush()
        return len(deliveries)

    async def flush(self) -> None:
        """Insert what is buffered, then commit the consumer's offsets."""
        if self._buffer:
            batch, self._buffer = self._buffer, []
            # chDB work runs in a thread so the loop keeps the Kafka heartbeats going.
            result = await asyncio.to_thread(self.store.insert_events, batch)
            self.stats.rows += result.total_rows
            self.stats.batches += 1
            self.stats.duplicates += result.duplicates
            self.stats.rejected.update(result.rejected)
            for table, rows in result.rows.items():
                ROWS.labels(self.group, table).inc(rows)
            DUPLICATES.labels(self.group).inc(result.duplicates)
            for reason, count in result.rejected.items():
                REJECTED.labels(self.group, reason).inc(count)
            if self.after_insert is not None:
                self.after_insert(result.total_rows)
        if self._uncommitted:
            try:
                await self.consumer.commit()
                self._uncommitted = False
            except CommitError as exc:
                # The rows are stored; the events come again and the store drops the repeats.
                self.stats.commit_failures += 1
                COMMIT_FAILURES.labels(self.group).inc()
                log.warning("offset commit failed, will retry on the next batch: %s", exc)
        if time.monotonic() - self._lag_at >= LAG_EVERY_S:
            await self.refresh_lag()

    async def refresh_lag(self) -> int | None:
        """Ask the bus for the lag (a broker round trip on Kafka, hence at most every LAG_EVERY_S)."""
        self._lag_at = time.monotonic()
        self.stats.lag = await self.consumer.lag()
        if self.stats.lag is not None:
            LAG.labels(self.group).set(self.stats.lag)
        return self.stats.lag

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> WriterStats:
        """Write until ``stop`` is set (or, with ``until_idle``, until a poll finds nothing and no lag)."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                polled = await self.step()
                if until_idle and polled == 0 and not self._buffer and await self.refresh_lag() == 0:
                    break
        finally:
            await self.flush()
            await self.refresh_lag()
        return self.stats
