"""The app factory: routers under ``/api/v1``, middleware (CORS, body size, rate limit per IP, metrics)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wisetrader import __version__
from wisetrader._core import MarketData
from wisetrader.api.botdata import BotData
from wisetrader.api.deps import AppState
from wisetrader.api.events import EventHub
from wisetrader.api.limits import BodySizeLimit, RateLimiter
from wisetrader.api.metrics import LATENCY, REJECTED, REQUESTS
from wisetrader.api.reports import FillSource
from wisetrader.api.routers import (
    accounts,
    admin,
    audit,
    auth,
    botdata,
    bots,
    health,
    market,
    reports,
    risk,
    stream,
)
from wisetrader.api.security import Tokens
from wisetrader.bus.protocol import Bus
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.controlplane.db import default_url, make_engine, migrate, sessionmaker
from wisetrader.settings import ApiSettings, get_settings

API_PREFIX = "/api/v1"
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed request body"},
    401: {"description": "not authenticated"},
    403: {"description": "not allowed"},
    409: {"description": "conflicts with existing data"},
    413: {"description": "request body too large"},
    429: {"description": "rate limit exceeded"},
}


def load_keyring(settings: ApiSettings, data_dir: Path) -> KeyRing:
    """Master keys from the environment, else the key file; embedded mode creates one under ``data_dir``."""
    if settings.master_keys:
        return KeyRing.parse(settings.master_keys)
    path = settings.master_key_file or data_dir / "master.key"
    if not path.exists() and settings.master_key_file is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(KeyRing.generate_spec("k1") + "\n")
    return KeyRing.from_file(path)


class _Edge:
    """Outermost HTTP middleware: per-IP rate limit, then request counting by endpoint."""

    def __init__(self, app: ASGIApp, ip_limiter: RateLimiter) -> None:
        self.app = app
        self.ip_limiter = ip_limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if not self.ip_limiter.hit(f"ip:{client[0] if client else 'unknown'}"):
            REJECTED.labels("rate_ip").inc()
            await JSONResponse({"detail": "rate limit exceeded for this address"}, 429)(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            # Label by endpoint function (a bounded set), never by raw path (unbounded: ids in it).
            endpoint = getattr(scope.get("endpoint"), "__name__", "unmatched")
            REQUESTS.labels(scope["method"], endpoint, str(status)).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - start)


def create_app(
    settings: ApiSettings | None = None,
    engine: AsyncEngine | None = None,
    bus: Bus | None = None,
    own_bus: bool = False,
    fills: FillSource | None = None,
    markets: dict[str, MarketData] | None = None,
    bot_data: BotData | None = None,
) -> FastAPI:
    """The API over ``engine`` (default: from settings); with ``bus``, ``/api/v1/stream`` streams events.

    With ``own_bus`` the app starts and closes the bus itself (a bus shared with an engine is not).
    """
    root = get_settings()
    settings = settings or root.api
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url or default_url(root.data_dir))
    state = AppState(
        settings=settings,
        sessions=sessionmaker(engine),
        tokens=Tokens(
            settings.jwt_secret or secrets.token_urlsafe(32),
            settings.access_token_seconds,
            settings.refresh_token_seconds,
        ),
        keyring=load_keyring(settings, root.data_dir),
        user_limiter=RateLimiter(settings.rate_per_user),
        ip_limiter=RateLimiter(settings.rate_per_ip),
        hub=EventHub(bus) if bus is not None else None,
        fills=fills,
        bot_data=bot_data,
        markets=dict(markets or {}),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await migrate(engine)
        if bus is not None and own_bus:
            await bus.start()
        if state.hub is not None:
            await state.hub.start()
        yield
        if state.hub is not None:
            await state.hub.close()
        if bus is not None and own_bus:
            await bus.close()
        if own_engine:
            await engine.dispose()

    app = FastAPI(
        title="wisetrader API",
        version=__version__,
        description="Control endpoints of the wisetrader engine. Every resource is owned by one user; "
        "authenticate with `Authorization: Bearer <access token or personal API token>`.",
        lifespan=lifespan,
    )
    app.state.wisetrader = state
    for module in (auth, accounts, bots, botdata, risk, market, reports, audit, admin, stream):
        app.include_router(module.router, prefix=API_PREFIX, responses=COMMON_RESPONSES)
    app.include_router(health.router)

    @app.exception_handler(IntegrityError)
    async def _conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse({"detail": "conflicts with existing data"}, status_code=409)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(_Edge, ip_limiter=state.ip_limiter)
    return app
