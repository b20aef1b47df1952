"""One WebSocket session runner for all venues: batches of raw frames with receive time, reconnects, health.

The venue module says what to connect to, what to send and what a frame is; this module does the rest:
connect (within the venue's connection-rate limit), subscribe (within its message-rate limit), hand data
frames to the consumer in batches as ``(recv_ns, payload)``, send heartbeats, reconnect with jittered
exponential backoff, reconnect proactively before the venue's connection lifetime ends, and reconnect
when the feed goes silent (the stale-feed watchdog).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import websockets
from prometheus_client import Counter, Gauge

from wisetrader.ratelimit import TokenBucket
from wisetrader.venues.base import FrameKind, VenueProtocol

Frame = tuple[int, str | bytes]  # (receive time in ns since the epoch, raw payload)
BatchHandler = Callable[[list[Frame]], None]

FEED_CONNECTED = Gauge("wisetrader_feed_connected", "1 while the feed's WebSocket is open", ["venue", "feed"])
FEED_FRAMES = Counter("wisetrader_feed_frames", "frames received, by kind", ["venue", "feed", "kind"])
FEED_RECONNECTS = Counter("wisetrader_feed_reconnects", "reconnects, by reason", ["venue", "feed", "reason"])


@dataclass
class FeedConfig:
    stale_after_s: float = 30.0  # no frame at all for this long: reconnect
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 30.0
    lifetime_s: float | None = None  # None: the venue's cut minus a jittered margin
    lifetime_margin_s: float = 900.0
    open_timeout_s: float = 10.0
    max_frame_bytes: int = 16 << 20
    app_ping_interval_s: float | None = None  # None: the venue's


@dataclass
class FeedHealth:
    """Counters and state of one feed session; ``snapshot()`` is what goes on the bus and to metrics."""

    venue: str
    name: str
    connected: bool = False
    connects: int = 0
    connect_failures: int = 0
    reconnects: dict[str, int] = field(default_factory=dict)  # by reason
    data_frames: int = 0
    batches: int = 0
    acks: int = 0
    pongs: int = 0
    venue_errors: int = 0
    other_frames: int = 0
    bytes: int = 0
    last_frame_ns: int = 0
    last_error: str = ""

    def last_frame_age_s(self, now_ns: int | None = None) -> float | None:
        if not self.last_frame_ns:
            return None
        return ((now_ns or time.time_ns()) - self.last_frame_ns) / 1e9

    def snapshot(self) -> dict[str, object]:
        return {**asdict(self), "last_frame_age_s": self.last_frame_age_s()}


# Connection attempts per venue in this process, shared by all sessions (the venues limit them per IP).
_connect_times: dict[str, deque[float]] = {}


async def _connect_slot(protocol: VenueProtocol) -> None:
    limits = protocol.limits
    times = _connect_times.setdefault(protocol.name, deque())
    while True:
        now = time.monotonic()
        while times and now - times[0] > limits.connect_window_s:
            times.popleft()
        if len(times) < limits.connects_per_window:
            times.append(now)
            return
        await asyncio.sleep(limits.connect_window_s - (now - times[0]))


class _Reconnect(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FeedSession:
    """Run with ``await session.run()`` (until ``stop()``); data goes to ``on_batch``."""

    def __init__(
        self,
        protocol: VenueProtocol,
        topics: Sequence[str],
        on_batch: BatchHandler,
        config: FeedConfig | None = None,
        name: str = "",
        on_health: Callable[[FeedHealth], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.topics = list(topics)
        self.on_batch = on_batch
        self.config = config or FeedConfig()
        self.health = FeedHealth(venue=protocol.name, name=name or protocol.name)
        self.on_health = on_health
        self._stop = asyncio.Event()
        self._ws: websockets.ClientConnection | None = None
        self._buf: list[Frame] = []
        self._wake = asyncio.Event()
        self._out = TokenBucket(
            rate=protocol.limits.outgoing_msgs_per_s, capacity=protocol.limits.outgoing_msgs_per_s
        )
        self._req_id = 1
        self._metrics_labels = (protocol.name, self.health.name)

    # ---- control from outside ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    async def send(self, message: str) -> None:
        """Send a control message on the live connection, within the venue's message-rate limit."""
        await self._out.take()
        if self._ws is not None:
            await self._ws.send(message)

    async def resubscribe(self, topics: Sequence[str]) -> None:
        """Unsubscribe and subscribe again (Bybit/OKX gap recovery: the venue answers with a snapshot)."""
        for message in self.protocol.unsubscribe_messages(topics, self._next_ids(topics)):
            await self.send(message)
        for message in self.protocol.subscribe_messages(topics, self._next_ids(topics)):
            await self.send(message)

    def _next_ids(self, topics: Sequence[str]) -> int:
        first = self._req_id
        self._req_id += len(topics) + 1
        return first

    def _event(self) -> None:
        if self.on_health is not None:
            self.on_health(self.health)

    # ---- the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            await _connect_slot(self.protocol)
            reason = "closed"
            opened = False
            try:
                async with websockets.connect(
                    self.protocol.ws_url(self.topics),
                    ping_interval=None,  # heartbeats are the venue's business (see _pinger)
                    open_timeout=self.config.open_timeout_s,
                    max_size=self.config.max_frame_bytes,
                    compression=None,
                ) as ws:
                    self._ws = ws
                    opened = True
                    self.health.connected = True
                    self.health.connects += 1
                    FEED_CONNECTED.labels(*self._metrics_labels).set(1)
                    self._event()
                    reason = await self._session(ws)
                    if self.health.data_frames:
                        attempt = 0
            except (OSError, TimeoutError, websockets.WebSocketException) as e:
                self.health.connect_failures += not opened
                self.health.last_error = f"{type(e).__name__}: {e}"
                reason = "error"
            finally:
                self._ws = None
                if self.health.connected:
                    self.health.connected = False
                    FEED_CONNECTED.labels(*self._metrics_labels).set(0)
                    self._event()
            if self._stop.is_set():
                break
            self.health.reconnects[reason] = self.health.reconnects.get(reason, 0) + 1
            FEED_RECONNECTS.labels(*self._metrics_labels, reason).inc()
            if reason in ("stale", "lifetime"):
                continue  # a planned reconnect: no backoff
            delay = random.uniform(
                0, min(self.config.backoff_max_s, self.config.backoff_initial_s * 2**attempt)
            )
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _session(self, ws: websockets.ClientConnection) -> str:
        if not self.protocol.topics_in_url:
            for message in self.protocol.subscribe_messages(self.topics, self._next_ids(self.topics)):
                await self._out.take()
                await ws.send(message)
        self.health.last_frame_ns = time.time_ns()
        tasks = [
            asyncio.create_task(self._reader(ws)),
            asyncio.create_task(self._dispatcher()),
            asyncio.create_task(self._watchdog()),
            asyncio.create_task(self._lifetime()),
            asyncio.create_task(self._pinger(ws)),
            asyncio.create_task(self._stop.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if isinstance(exc, _Reconnect):
                    return exc.reason
                if exc is not None:
                    raise exc
            return "closed"
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._flush()

    async def _reader(self, ws: websockets.ClientConnection) -> None:
        classify = self.protocol.classify
        health = self.health
        venue, name = self._metrics_labels
        try:
            async for payload in ws:
                now = time.time_ns()
                health.last_frame_ns = now
                health.bytes += len(payload)
                kind = classify(payload)
                FEED_FRAMES.labels(venue, name, kind.value).inc()
                if kind is FrameKind.DATA:
                    health.data_frames += 1
                    self._buf.append((now, payload))
                    self._wake.set()
                elif kind is FrameKind.ACK:
                    health.acks += 1
                elif kind is FrameKind.PONG:
                    health.pongs += 1
                elif kind is FrameKind.ERROR:
                    health.venue_errors += 1
                    health.last_error = (
                        payload[:200] if isinstance(payload, str) else payload[:200].decode("replace")
                    )
                else:
                    health.other_frames += 1
        except websockets.ConnectionClosed as e:
            raise _Reconnect("closed") from e
        raise _Reconnect("closed")

    def _flush(self) -> None:
        if self._buf:
            batch, self._buf = self._buf, []
            self.health.batches += 1
            self.on_batch(batch)

    async def _dispatcher(self) -> None:
        # Frames that arrive while the consumer is busy pile up and go as one batch.
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._flush()

    async def _watchdog(self) -> None:
        stale = self.config.stale_after_s
        while True:
            await asyncio.sleep(stale / 4)
            age = self.health.last_frame_age_s()
            if age is not None and age > stale:
                raise _Reconnect("stale")

    async def _lifetime(self) -> None:
        lifetime = self.config.lifetime_s
        if lifetime is None:
            cut = self.protocol.limits.max_lifetime_s
            if cut is None:
                await asyncio.Event().wait()
                return
            margin = self.config.lifetime_margin_s
            lifetime = max(1.0, cut - margin - random.uniform(0, margin))  # jitter: not all at once
        await asyncio.sleep(lifetime)
        raise _Reconnect("lifetime")

    async def _pinger(self, ws: websockets.ClientConnection) -> None:
        ping = self.protocol.app_ping
        if ping is None:
            await asyncio.Event().wait()  # the server pings; websockets answers with the same payload
            return
        interval = self.config.app_ping_interval_s or self.protocol.app_ping_interval_s
        while True:
            await asyncio.sleep(interval)
            await self._out.take()
            await ws.send(ping)
