"""Run the API under uvicorn (used by ``wisetrader api`` and ``services/api.py``)."""

from __future__ import annotations

import uvicorn

from wisetrader.settings import get_settings


def run(host: str | None = None, port: int | None = None) -> None:
    from wisetrader.api.app import create_app

    settings = get_settings().api
    uvicorn.run(
        create_app(),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level="info",
    )
