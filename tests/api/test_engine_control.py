"""The API drives the engine: a real uvicorn server on 127.0.0.1 with the engine, the in-process bus, the
simulator and a chDB store in the same process (``api.embedded``), talked to over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import uvicorn
import websockets
from sqlalchemy import update
from wisetrader.api.embedded import embedded_app, running_engine
from wisetrader.controlplane.db import make_engine, migrate
from wisetrader.controlplane.models import User
from wisetrader.engine.controlled import ControlledConfig, ControlledEngine
from wisetrader.risk import Intent, Reason, TradingState
from wisetrader.store import Store

from api.conftest import ACCOUNT, INSTRUMENT, PASSWORD, api_settings

pytestmark = pytest.mark.service

# A paper grid around the simulator's BTCUSDT (it starts at 30000): wide enough that the price stays in it.
GRID = {
    "kind": "grid", "venue": "binance-spot", "symbol": "BTCUSDT", "instrument": INSTRUMENT,
    "fee_rate": "0.001", "start_price": "30000", "lower": "29000", "upper": "31000", "grids": 10,
    "investment": {"quote": "2000"},
}  # fmt: skip
WAIT_S = 30.0


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, chdb_dir: Path) -> AsyncIterator[tuple[str, ControlledEngine, Any]]:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cp.db'}")
    await migrate(db)
    store = Store(f"chdb://{chdb_dir}", f"t{uuid.uuid4().hex[:12]}")
    config = ControlledConfig(sync_every_s=1.0, pnl_every_s=0.5)
    app = embedded_app(store, api_settings(), config, engine=db)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "server failed to start"
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"127.0.0.1:{port}", running_engine(app), db
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        await db.dispose()
        store.client.command(f"DROP DATABASE IF EXISTS {store.database}")


async def register(http: httpx.AsyncClient, name: str) -> tuple[int, dict[str, str], str]:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    r = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["access_token"]
    return int(r.json()["id"]), {"Authorization": f"Bearer {token}"}, token


async def make_admin(
    http: httpx.AsyncClient, db: Any, user_id: int, headers: dict[str, str]
) -> dict[str, str]:
    async with db.begin() as conn:
        await conn.execute(update(User).where(User.id == user_id).values(role="admin"))
    secret = (await http.post("/api/v1/auth/totp/setup", headers=headers)).json()["secret"]
    totp = pyotp.TOTP(secret)
    assert (
        await http.post("/api/v1/auth/totp/enable", json={"code": totp.now()}, headers=headers)
    ).is_success
    email = (await http.get("/api/v1/auth/me", headers=headers)).json()["email"]
    login = await http.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "totp_code": totp.now()}
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def collect(ws: Any, into: list[dict[str, Any]]) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for message in ws:
            into.append(json.loads(message))


async def test_the_api_runs_pauses_closes_and_halts_bots_in_the_engine(
    tmp_path: Path, chdb_dir: Path
) -> None:
    async with (
        serve(tmp_path, chdb_dir) as (host, engine, db),
        httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http,
    ):
        ann_id, ann, ann_token = await register(http, "ann")
        bob_id, bob, bob_token = await register(http, "bob")
        account = (await http.post("/api/v1/accounts", json=ACCOUNT, headers=ann)).json()["id"]
        created = await http.post(
            "/api/v1/bots", json={"name": "g", "account_id": account, "config": GRID}, headers=ann
        )
        assert created.status_code == 201, created.text
        bot = created.json()["id"]
        url = f"/api/v1/bots/{bot}"

        ann_events: list[dict[str, Any]] = []
        bob_events: list[dict[str, Any]] = []
        async with (
            websockets.connect(f"ws://{host}/api/v1/stream") as ws_ann,
            websockets.connect(f"ws://{host}/api/v1/stream") as ws_bob,
        ):
            for ws, token in ((ws_ann, ann_token), (ws_bob, bob_token)):
                await ws.send(json.dumps({"token": token}))
                assert json.loads(await ws.recv()) == {"type": "ready"}
            readers = [
                asyncio.create_task(collect(ws_ann, ann_events)),
                asyncio.create_task(collect(ws_bob, bob_events)),
            ]

            async def open_orders() -> list[dict[str, Any]]:
                r = await http.get(f"{url}/orders", params={"open": True, "limit": 200}, headers=ann)
                assert r.status_code == 200, r.text
                items: list[dict[str, Any]] = r.json()["items"]
                return items

            async def state_is(wanted: str) -> dict[str, Any] | None:
                got: dict[str, Any] = (await http.get(f"{url}/state", headers=ann)).json()
                return got if got["state"] == wanted else None

            # Start: the engine loads the bot, which places its grid; the store shows the orders working.
            assert (await http.post(f"{url}/start", headers=ann)).json()["status"] == "running"
            await until(open_orders, "the grid's open orders")
            await until(lambda: state_is("running"), "state running")

            # Another user sees none of it.
            for path in ("orders", "fills", "pnl", "state"):
                assert (await http.get(f"{url}/{path}", headers=bob)).status_code == 404, path
            assert (await http.post(f"{url}/close", headers=bob)).status_code == 404

            # Pause: every order is cancelled; start again: the grid is back.
            assert (await http.post(f"{url}/pause", headers=ann)).json()["status"] == "paused"
            await until(lambda: state_is("paused"), "state paused")
            await until(lambda: _empty(open_orders), "no open orders while paused")
            assert (await http.post(f"{url}/start", headers=ann)).json()["status"] == "running"
            await until(open_orders, "orders back after resuming")

            # The bot's kill switch reaches the engine's gate at once: a new order of the bot is refused.
            r = await http.put(f"/api/v1/risk/bots/{bot}/kill-switch", json={"engaged": True}, headers=ann)
            assert r.status_code == 200
            await until(lambda: _true(str(bot) in engine.gate.killed_bots), "the bot's kill switch")
            probe = Intent(f"{account}/paper", str(bot), "binance", "BTCUSDT", "buy", 1000, 2_900_000)
            assert engine.gate.check(probe).reason is Reason.BOT_KILLED

            # Emergency close, whatever the kill switch: orders cancelled, position sold at market.
            closed = await http.post(f"{url}/close", headers=ann)
            assert closed.status_code == 200 and closed.json()["status"] == "stopped"
            final = await until(
                lambda: _flat(http, url, ann), "a flat position and no open orders after the close"
            )
            assert final["state"] == "stopped"
            fills = (await http.get(f"{url}/fills", params={"limit": 200}, headers=ann)).json()
            assert fills["total"] >= 2
            assert any(f["side"] == "sell" and f["liquidity"] == "taker" for f in fills["items"]), fills

            async def settled_pnl() -> dict[str, Any] | None:
                pnl: dict[str, Any] = (await http.get(f"{url}/pnl", headers=ann)).json()
                totals = pnl["totals"]
                done = totals["fills"] == fills["total"] and pnl["position_qty"] is not None
                return pnl if done and Decimal(pnl["position_qty"]) == 0 else None

            pnl = await until(settled_pnl, "a P&L snapshot after the last fill")
            totals = pnl["totals"]
            assert Decimal(totals["bought_qty"]) == Decimal(totals["sold_qty"])
            cash = (
                Decimal(totals["sold_quote"])
                - Decimal(totals["bought_quote"])
                - Decimal(totals["fees_quote"])
            )
            assert abs(Decimal(pnl["realized"]) - cash) < Decimal("0.000001"), (pnl, cash)
            assert Decimal(pnl["unrealized"]) == 0 and Decimal(pnl["fees"]) == Decimal(totals["fees_quote"])
            audit = (await http.get("/api/v1/audit", params={"limit": 3}, headers=ann)).json()["items"]
            assert (audit[0]["action"], audit[0]["target"]) == ("bot.close", f"bot:{bot}")

            # The stream carried ann's bot state and P&L to ann, and nothing of hers to bob.
            await asyncio.sleep(0.5)
            for reader in readers:
                reader.cancel()
        mine = [e for e in ann_events if e.get("bot_id") == str(bot)]
        assert {"bot_state", "pnl_snapshot", "fill", "order_update"} <= {e["type"] for e in mine}
        assert {e["state"] for e in mine if e["type"] == "bot_state"} >= {"running", "paused", "stopped"}
        assert all(e.get("user_id") == str(ann_id) for e in mine)
        assert not [e for e in bob_events if e.get("user_id") != str(bob_id) and e["type"] != "book_top"]

        # Limits and the account's trading state reach the gate (the paper account of this account).
        gate_account = engine.gate.accounts[f"{account}/paper"]
        r = await http.put(f"/api/v1/risk/bots/{bot}/limits", json={"max_open_orders": 3}, headers=ann)
        assert r.status_code == 200
        r = await http.put(
            f"/api/v1/risk/accounts/{account}/limits",
            json={"max_position_notional": "4000", "max_daily_loss": "100"},
            headers=ann,
        )
        assert r.status_code == 200
        r = await http.put(
            f"/api/v1/risk/accounts/{account}/trading-state", json={"state": "REDUCING"}, headers=ann
        )
        assert r.status_code == 200
        await until(
            lambda: _true(
                engine.gate.bots[str(bot)].max_open == 3
                and gate_account.limits.max_notional == Decimal(4000)
                and gate_account.limits.daily_loss_limit == Decimal(100)
                and gate_account.state is TradingState.REDUCING
            ),
            "limits and the account's state in the gate",
        )
        assert (
            await http.put(
                f"/api/v1/risk/accounts/{account}/trading-state", json={"state": "ACTIVE"}, headers=ann
            )
        ).is_success

        # Platform HALTED (an admin, over the API): a bot started now places nothing.
        admin = await make_admin(http, db, ann_id, ann)
        assert (
            await http.put("/api/v1/risk/trading-state", json={"state": "HALTED"}, headers=admin)
        ).is_success
        await until(lambda: _true(engine.gate.global_state is TradingState.HALTED), "HALTED in the gate")
        halted_before = engine.gate.rejections.get(Reason.HALTED, 0)
        second = await http.post(
            "/api/v1/bots", json={"name": "h", "account_id": account, "config": GRID}, headers=admin
        )
        bot2 = second.json()["id"]
        assert (await http.post(f"/api/v1/bots/{bot2}/start", headers=admin)).status_code == 200
        await until(
            lambda: _true(engine.gate.rejections.get(Reason.HALTED, 0) > halted_before), "refusals: halted"
        )
        await until(
            lambda: _true(bot2 in engine.reporter.bots and engine.reporter.bots[bot2].state == "running"),
            "the second bot loaded",
        )
        # The user's own kill switch covers all their bots; released, the bots are free again.
        assert (await http.put("/api/v1/risk/kill-switch", json={"engaged": True}, headers=admin)).is_success
        await until(lambda: _true(str(bot2) in engine.gate.killed_bots), "the user's kill switch")
        assert (await http.put("/api/v1/risk/kill-switch", json={"engaged": False}, headers=admin)).is_success
        await until(lambda: _true(str(bot2) not in engine.gate.killed_bots), "the kill switch released")
        assert str(bot) in engine.gate.killed_bots  # the first bot's own switch is still engaged
        await asyncio.sleep(1.0)  # let the store writer catch up with anything that did go out
        r = await http.get(f"/api/v1/bots/{bot2}/orders", headers=admin)
        assert r.json()["total"] == 0, r.text
        assert engine.gate.bots.get(str(bot2)) is None or engine.gate.bots[str(bot2)].open_orders == 0


async def _true(value: bool) -> bool:
    return value


async def _empty(get: Callable[[], Awaitable[list[Any]]]) -> bool:
    return not await get()


async def _flat(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any] | None:
    state: dict[str, Any] = (await http.get(f"{url}/state", headers=headers)).json()
    orders = (await http.get(f"{url}/orders", params={"open": True}, headers=headers)).json()
    flat = state["position_qty"] is not None and Decimal(state["position_qty"]) == 0
    return state if flat and state["open_orders"] == 0 and orders["total"] == 0 else None
