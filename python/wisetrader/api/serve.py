"""Run the API under uvicorn (used by ``wisetrader api`` and ``services/api.py``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from wisetrader.settings import get_settings


def run(
    host: str | None = None, port: int | None = None, replay: Path | None = None, venue: str | None = None
) -> None:
    """Serve the API; ``replay`` (with ``venue``) loads a recording's books for the market-data routes."""
    from wisetrader.api.app import create_app
    from wisetrader.bus import Bus, from_settings

    root = get_settings()
    settings = root.api
    # Standalone, the API sees engine events only through Kafka; an in-process bus would stay empty, so
    # without Kafka the stream endpoint says it is not available.
    bus: Bus | None = from_settings(root) if root.bus == "kafka" else None
    # The store is read only when named: an embedded chDB directory belongs to one process at a time.
    fills = None
    if root.store_dsn:
        from wisetrader.api.reports import StoreFills
        from wisetrader.store import Store

        store = Store(root.store_dsn, root.store_database)
        store.migrate()
        fills = StoreFills(store)
    markets = {}
    if replay is not None:
        from wisetrader.marketdata.replay import replay as replay_recording

        if venue is None:
            raise ValueError("--replay needs --venue")
        markets[venue] = replay_recording(replay, venue).market
    uvicorn.run(
        create_app(bus=bus, own_bus=bus is not None, fills=fills, markets=markets),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level="info",
    )
