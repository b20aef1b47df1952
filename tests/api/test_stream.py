"""The event WebSocket through a real uvicorn server on 127.0.0.1, fed by the in-process bus."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from wisetrader.api import create_app
from wisetrader.bus import InProcessBus
from wisetrader.controlplane.db import make_engine
from wisetrader.events import BookTop, Fill

from api.conftest import PASSWORD, api_settings

pytestmark = pytest.mark.service


@contextlib.asynccontextmanager
async def _serve(tmp_path: Path, bus: InProcessBus | None) -> AsyncIterator[str]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cp.db'}")
    config = uvicorn.Config(
        create_app(api_settings(), engine, bus), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "server failed to start"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        await engine.dispose()


async def _token(http: httpx.AsyncClient, name: str) -> tuple[int, str]:
    email = f"{name}@example.com"
    r = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return int(r.json()["id"]), str(login.json()["access_token"])


def _fill(user_id: int, trade_id: str) -> Fill:
    return Fill(
        ts_ns=1, venue="simulator", symbol="BTCUSDT", user_id=str(user_id), bot_id="1", trade_id=trade_id,
        client_order_id="c1", side="buy", price=Decimal("65000.5"), qty=Decimal("0.01"), base="BTC",
        quote="USDT", fee=Decimal("0.01"), fee_currency="USDT",
    )  # fmt: skip


async def test_each_user_gets_only_their_own_events_and_public_market_data(tmp_path: Path) -> None:
    bus = InProcessBus()
    async with _serve(tmp_path, bus) as host:
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            ann_id, ann = await _token(http, "ann")
            bob_id, bob = await _token(http, "bob")
        async with (
            websockets.connect(f"ws://{host}/api/v1/stream") as ws_ann,
            websockets.connect(f"ws://{host}/api/v1/stream") as ws_bob,
        ):
            for ws, token in ((ws_ann, ann), (ws_bob, bob)):
                await ws.send(json.dumps({"token": token}))
                assert json.loads(await ws.recv()) == {"type": "ready"}
            await bus.publish(_fill(bob_id, "t-bob"))
            await bus.publish(_fill(ann_id, "t-ann"))
            top = BookTop(
                ts_ns=2, venue="simulator", symbol="BTCUSDT", recv_ns=3, bid_px=Decimal("1.5"),
                bid_qty=Decimal("2"), ask_px=Decimal("1.6"), ask_qty=Decimal("3"),
            )  # fmt: skip
            await bus.publish(top)
            got_ann = [json.loads(await asyncio.wait_for(ws_ann.recv(), 5)) for _ in range(2)]
            got_bob = [json.loads(await asyncio.wait_for(ws_bob.recv(), 5)) for _ in range(2)]
        # Families are separate streams, so only the set (not the order across families) is fixed.
        ann_got = {e["type"]: e for e in got_ann}
        assert sorted(ann_got) == ["book_top", "fill"] and ann_got["fill"]["trade_id"] == "t-ann"
        assert {e["type"]: e.get("trade_id") for e in got_bob} == {"fill": "t-bob", "book_top": None}
        assert ann_got["fill"]["price"] == "65000.5" and ann_got["book_top"]["bid_px"] == "1.5"


async def test_stream_refuses_bad_tokens_and_says_when_no_bus(tmp_path: Path) -> None:
    async with _serve(tmp_path / "a", InProcessBus()) as host:
        for first in ('{"token": "nonsense"}', "not json", '{"token": 5}'):
            async with websockets.connect(f"ws://{host}/api/v1/stream") as ws:
                await ws.send(first)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with (
        _serve(tmp_path / "b", None) as host,
        websockets.connect(f"ws://{host}/api/v1/stream") as ws,
    ):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
