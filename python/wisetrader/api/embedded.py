"""``wisetrader api`` on embedded defaults: the API, the engine following it, the bus and the store, in one
process and one event loop.

Started with the app (its lifespan): the in-process bus, the embedded store (chDB under the data
directory) with its store writer, and ``engine.controlled`` (in-process simulator, feed, bots, risk gate,
executors, control-plane follower). The API publishes control events on that bus and reads the bots'
orders, fills, P&L and state from that store; its WebSocket streams the same bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from wisetrader.api.app import create_app
from wisetrader.api.botdata import StoreBotData
from wisetrader.api.reports import StoreFills
from wisetrader.bus import InProcessBus
from wisetrader.engine.controlled import ControlledConfig, ControlledEngine, controlled_engine
from wisetrader.events import Family
from wisetrader.settings import ApiSettings
from wisetrader.store import Store
from wisetrader.store.writer import StoreWriter


def embedded_app(
    store: Store,
    settings: ApiSettings | None = None,
    config: ControlledConfig | None = None,
    **app_kwargs: Any,
) -> FastAPI:
    """The API with the engine beside it; ``app.state.engine`` is the running engine while it serves."""
    bus = InProcessBus()
    app = create_app(settings, bus=bus, fills=StoreFills(store), bot_data=StoreBotData(store), **app_kwargs)
    api_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        await asyncio.to_thread(store.migrate)
        consumer = await bus.consumer("api-store-writer", [Family.ORDERS, Family.FILLS, Family.BOTS])
        writer = StoreWriter(consumer, store, batch_ms=200)
        stop = asyncio.Event()
        writer_task = asyncio.create_task(writer.run(stop))
        try:
            async with api_lifespan(a) as state:  # migrates the control plane, starts the stream hub
                wt = a.state.wisetrader
                async with controlled_engine(bus, wt.sessions, wt.keyring, config) as engine:
                    a.state.engine = engine
                    wt.markets.setdefault("binance-spot", engine.feed.md)  # the simulator's books
                    yield state
        finally:
            stop.set()
            await writer_task

    app.router.lifespan_context = lifespan
    return app


def running_engine(app: FastAPI) -> ControlledEngine:
    engine: ControlledEngine = app.state.engine
    return engine
