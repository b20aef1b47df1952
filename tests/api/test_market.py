"""Market-data routes over books built by the Rust core from a real recording."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.api import create_app
from wisetrader.marketdata.replay import replay

from api.conftest import api_settings, new_user

pytestmark = pytest.mark.service
RECORDING = Path(__file__).parent.parent / "data" / "recordings" / "okx" / "BTC-USDT.rec"


async def test_top_depth_and_health_follow_the_core_books(engine: AsyncEngine, tmp_path: Path) -> None:
    out = tmp_path / "tops.jsonl"
    result = replay(RECORDING, "okx", out=out)
    rows = out.read_text().splitlines()
    assert rows, "the recording must produce tops"
    expected = json.loads(rows[-1])
    app = create_app(api_settings(), engine, markets={"okx": result.market})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        ann = await new_user(c, "ann")
        top = await c.get("/api/v1/market/okx/BTC-USDT/top", headers=ann.headers)
        assert top.status_code == 200, top.text
        body = top.json()
        # The last top-of-book change the replay wrote is the book's current top.
        assert body["state"] == "synced"
        assert (body["bid_px"], body["bid_qty"], body["ask_px"], body["ask_qty"]) == (
            expected["bid_px"], expected["bid_qty"], expected["ask_px"], expected["ask_qty"],
        )  # fmt: skip
        assert Decimal(body["spread"]) == Decimal(body["ask_px"]) - Decimal(body["bid_px"])

        depth = (await c.get("/api/v1/market/okx/BTC-USDT/depth?levels=5", headers=ann.headers)).json()
        bids = [Decimal(p) for p, _ in depth["bids"]]
        asks = [Decimal(p) for p, _ in depth["asks"]]
        assert 0 < len(bids) <= 5 and 0 < len(asks) <= 5
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
        assert depth["bids"][0] == [body["bid_px"], body["bid_qty"]]

        [health] = (await c.get("/api/v1/market/health", headers=ann.headers)).json()
        assert health["venue"] == "okx" and health["counters"]["frames"] > 0
        assert health["symbols"] == [
            {"symbol": "BTC-USDT", "state": "synced", "reason": None, "update_id": body["update_id"]}
        ]

        assert (await c.get("/api/v1/market/okx/ETH-USDT/top", headers=ann.headers)).status_code == 404
        assert (await c.get("/api/v1/market/bybit-spot/BTCUSDT/top", headers=ann.headers)).status_code == 404
        assert (await c.get("/api/v1/market/kraken/BTCUSDT/top", headers=ann.headers)).status_code == 422
        assert (
            await c.get("/api/v1/market/okx/BTC-USDT/depth?levels=0", headers=ann.headers)
        ).status_code == 422
        assert (await c.get("/api/v1/market/okx/BTC-USDT/top")).status_code == 401


async def test_instruments_filter_and_paginate(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    okx = (await client.get("/api/v1/instruments?venue=okx", headers=ann.headers)).json()
    assert okx["total"] == 3 and {i["venue"] for i in okx["items"]} == {"okx"}
    btc = (
        await client.get("/api/v1/instruments?venue=okx&symbol=BTC-USDT&limit=1", headers=ann.headers)
    ).json()
    assert btc["total"] == 2 and len(btc["items"]) == 1
    assert btc["items"][0] == {
        "venue": "okx",
        "symbol": "BTC-USDT",
        "tick_size": "0.1",
        "lot_step": "0.00000001",
    }
    assert (await client.get("/api/v1/market/health", headers=ann.headers)).json() == []
