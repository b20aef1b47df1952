"""One server-side WebSocket connection: subscriptions, an ordered send queue, and frame-level faults."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random

from aiohttp import web

from wisetrader.sim.config import FaultSpec

_ids = itertools.count(1)


class Conn:
    """Frames are queued by the market (synchronously) and written in order by one writer task."""

    def __init__(self, ws: web.WebSocketResponse, faults: FaultSpec, rng: random.Random) -> None:
        self.ws = ws
        self.faults = faults
        self.rng = rng
        self.conn_id = f"sim{next(_ids)}"
        self.topics: set[str] = set()
        self.combined = True  # Binance: wrap events as {"stream":...,"data":...} (the /stream endpoint)
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.data_frames = 0
        self.dropped = 0
        self.duplicated = 0
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, frame: str, diff: bool = False) -> None:
        """Queue a frame; diff frames pass through the drop/duplicate faults."""
        if diff and self.faults.drop_diff_prob and self.rng.random() < self.faults.drop_diff_prob:
            self.dropped += 1
            return
        self.queue.put_nowait(frame)
        if diff and self.faults.dup_diff_prob and self.rng.random() < self.faults.dup_diff_prob:
            self.duplicated += 1
            self.queue.put_nowait(frame)

    def close_soon(self) -> None:
        self.queue.put_nowait(None)

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                frame = await self.queue.get()
                if frame is None or self.ws.closed:
                    break
                await self.ws.send_str(frame)
                self.data_frames += 1
                limit = self.faults.disconnect_after_frames
                if limit and self.data_frames >= limit:
                    break
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=1001, message=b"going away")

    async def aclose(self) -> None:
        self.close_soon()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
        self._writer.cancel()
