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
    markets = {}
    if replay is not None:
        from wisetrader.marketdata.replay import replay as replay_recording

        if venue is None:
            raise ValueError("--replay needs --venue")
        markets[venue] = replay_recording(replay, venue).market
    if root.bus != "kafka":
        # Embedded defaults: the engine, the in-process bus and the embedded store run in this process
        # (an embedded chDB directory belongs to one process at a time, so this one owns it).
        from wisetrader.api.embedded import embedded_app
        from wisetrader.store import Store

        app = embedded_app(Store(root.resolved_store_dsn(), root.store_database), markets=markets)
    else:
        # With Kafka the engine runs elsewhere (``python -m wisetrader.engine.controlled``); this API
        # process reads the store only when one is named.
        bus: Bus = from_settings(root)
        fills, bot_data = None, None
        if root.store_dsn:
            from wisetrader.api.botdata import StoreBotData
            from wisetrader.api.reports import StoreFills
            from wisetrader.store import Store

            store = Store(root.store_dsn, root.store_database)
            store.migrate()
            fills, bot_data = StoreFills(store), StoreBotData(store)
        app = create_app(bus=bus, own_bus=True, fills=fills, bot_data=bot_data, markets=markets)
    port = settings.port if port is None else port
    uvicorn.run(app, host=host or settings.host, port=port, log_level="info")
