from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.api import create_app
from wisetrader.api.limits import RateLimiter
from wisetrader.controlplane.db import make_engine

from api.conftest import api_settings, new_user

pytestmark = pytest.mark.service


async def _client(engine: AsyncEngine, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(
        app=create_app(api_settings(**settings), engine), client=("198.51.100.9", 1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_rate_limit_per_user(engine: AsyncEngine) -> None:
    async for c in _client(engine, rate_per_user=3):
        ann = await new_user(c, "ann")
        bob = await new_user(c, "bob")
        codes = [(await c.get("/api/v1/auth/me", headers=ann.headers)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # Another user on the same address is not affected.
        assert (await c.get("/api/v1/auth/me", headers=bob.headers)).status_code == 200


async def test_rate_limit_per_ip(engine: AsyncEngine) -> None:
    async for c in _client(engine, rate_per_ip=3):
        codes = [(await c.get("/health/live")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        metrics = await c.get("/health/live")
        assert metrics.status_code == 429


def test_rate_limiter_windows_reset() -> None:
    limiter = RateLimiter(2)
    assert [limiter.hit("k", now=0.0) for _ in range(3)] == [True, True, False]
    assert limiter.hit("k", now=60.0)


async def test_request_body_size_limit(engine: AsyncEngine) -> None:
    async for c in _client(engine, max_body_bytes=512):
        big = {"email": "a@example.com", "password": "x" * 2000}
        r = await c.post("/api/v1/auth/register", json=big)
        assert r.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 100

        r = await c.post(
            "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        ok = await c.post("/api/v1/auth/register", json={"email": "a@example.com", "password": "p" * 20})
        assert ok.status_code == 201


async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    for raw in (b"{", b"[]", b"null", b'{"email": 5}', b"\xff\xfe"):
        r = await client.post(
            "/api/v1/auth/register", content=raw, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, raw
    r = await client.get("/api/v1/bots/99999999999999999999999", headers={"Authorization": "Bearer x"})
    assert r.status_code in (401, 422)


async def test_cors(engine: AsyncEngine) -> None:
    async for c in _client(engine, cors_origins=["https://app.example.com"]):
        pre = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
        ok = await c.options("/api/v1/bots", headers={"Origin": "https://app.example.com", **pre})
        assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
        bad = await c.options("/api/v1/bots", headers={"Origin": "https://evil.example.com", **pre})
        assert "access-control-allow-origin" not in bad.headers


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok", "checks": {}}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    ann = await new_user(client, "ann")
    await client.get("/api/v1/auth/me", headers=ann.headers)
    text = (await client.get("/metrics")).text
    assert 'wisetrader_api_requests_total{endpoint="me",method="GET",status="200"}' in text


async def test_readiness_reports_an_unreachable_database() -> None:
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    transport = httpx.ASGITransport(app=create_app(api_settings(), engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.get("/health/ready")
    await engine.dispose()
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable" and r.json()["checks"]["database"].startswith("error")
