"""One venue connection end to end: the feed session's frame batches into the Rust core, and the core's
snapshot and resubscribe requests served (Binance REST depth snapshot; Bybit/OKX resubscribe).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp
from prometheus_client import Counter, Gauge

from wisetrader._core import Changes, MarketData
from wisetrader.feeds import FeedConfig, FeedHealth, FeedSession, Frame, SnapshotError, fetch_binance_depth
from wisetrader.venues import VenueProtocol

# Feed health as metrics (connection and frame counters are the session's: ``wisetrader.feeds``).
BOOK_SYNCED = Gauge(
    "wisetrader_book_synced", "1 while the symbol's book is provably in sync", ["venue", "symbol"]
)
RESYNCS = Counter(
    "wisetrader_book_resyncs", "snapshots/resubscribes asked by the core, by reason", ["venue", "reason"]
)
LAST_FRAME_AGE = Gauge(
    "wisetrader_feed_last_frame_age_seconds", "time since the feed's last frame", ["venue", "feed"]
)

# Our venue names to the core's decoders (spot products).
CORE_VENUES = {"binance": "binance-spot", "bybit": "bybit-spot", "okx": "okx"}


# The core's counters that tell how the books fared (see ``MarketData.counters``).
_BOOK_COUNTERS = ("frames", "applied", "snapshots", "snapshots_too_old", "buffered", "skipped_stale", "gaps")


@dataclass(frozen=True, slots=True)
class FeedInstrument:
    symbol: str  # as the venue writes it in payloads: BTCUSDT (Binance, Bybit), BTC-USDT (OKX)
    tick_size: str
    lot_step: str


class MarketFeed:
    """Frames in, ``Changes`` out (to ``on_changes``), books kept in sync by the core."""

    def __init__(
        self,
        protocol: VenueProtocol,
        instruments: Sequence[FeedInstrument],
        on_changes: Callable[[Changes], None],
        http: aiohttp.ClientSession,
        config: FeedConfig | None = None,
        channels: Sequence[str] = ("book", "trades"),
        on_health: Callable[[FeedHealth], None] | None = None,
        on_book_state: Callable[[str, str, str | None], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.md = MarketData(CORE_VENUES[protocol.name])
        for inst in instruments:
            self.md.add_instrument(inst.symbol, inst.tick_size, inst.lot_step)
        self.symbols = [i.symbol for i in instruments]
        self.on_changes = on_changes
        self.http = http
        self.on_health = on_health
        self.on_book_state = on_book_state  # (symbol, state, reason) on every sync-state change
        topics = [t for s in self.symbols for t in protocol.topics(s, channels)]
        self.session = FeedSession(protocol, topics, self._on_batch, config, on_health=self._health)
        self._pending: set[str] = set()  # symbols with a snapshot or resubscribe under way
        self._tasks: set[asyncio.Task[None]] = set()
        self.snapshot_failures = 0
        self.resyncs: dict[str, int] = {}  # snapshots/resubscribes served for the core, by its reason
        self._was_connected = False
        health = self.session.health
        LAST_FRAME_AGE.labels(protocol.name, health.name).set_function(
            lambda: health.last_frame_age_s() or 0.0
        )

    async def run(self) -> None:
        await self.session.run()

    def stats(self) -> dict[str, object]:
        """Feed health in one dict: connection, resyncs by reason, and the core's book counters."""
        health, book = self.session.health, self.md.counters()
        return {
            "connects": health.connects,
            "reconnects": dict(health.reconnects),
            "data_frames": health.data_frames,
            "resyncs": dict(self.resyncs),
            "snapshot_failures": self.snapshot_failures,
            "book": {k: book[k] for k in _BOOK_COUNTERS},
        }

    def stop(self) -> None:
        self.session.stop()
        for task in self._tasks:
            task.cancel()

    def _health(self, health: FeedHealth) -> None:
        if self._was_connected and not health.connected:
            for symbol in self.symbols:  # continuity is lost with the connection
                self._publish(self.md.reset(symbol))
        self._was_connected = health.connected
        if self.on_health is not None:
            self.on_health(health)

    def _on_batch(self, batch: list[Frame]) -> None:
        frames = [p if isinstance(p, bytes) else p.encode() for _, p in batch]
        self._publish(self.md.feed_batch(frames, [t for t, _ in batch]))

    def _publish(self, changes: Changes) -> None:
        requests = changes.requests
        self.on_changes(changes)
        for _, symbol, state, reason in changes.states:
            BOOK_SYNCED.labels(self.protocol.name, symbol).set(1 if state == "synced" else 0)
            if self.on_book_state is not None:
                self.on_book_state(symbol, state, reason)
        for _, symbol, kind, reason in requests:
            if symbol in self._pending:
                continue
            self._pending.add(symbol)
            self.resyncs[reason] = self.resyncs.get(reason, 0) + 1
            RESYNCS.labels(self.protocol.name, reason).inc()
            work = self._snapshot(symbol) if kind == "snapshot" else self._resubscribe(symbol)
            task = asyncio.get_running_loop().create_task(work)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _snapshot(self, symbol: str) -> None:
        try:
            recv_ns, body = await fetch_binance_depth(
                self.http, self.protocol.endpoints.rest, symbol, limit=1000
            )
        except SnapshotError:
            self.snapshot_failures += 1
            recv_ns, body = 0, b""
        finally:
            self._pending.discard(symbol)
        if body:
            self._publish(self.md.feed_snapshot(symbol, body, recv_ns or time.time_ns()))

    async def _resubscribe(self, symbol: str) -> None:
        try:
            await self.session.resubscribe(self.protocol.topics(symbol, ["book"]))
        finally:
            self._pending.discard(symbol)
