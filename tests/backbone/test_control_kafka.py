"""The API and the engine connected by Kafka only: control events travel over a real broker.

The engine's periodic re-read is set to ten minutes, so every change it applies within the test's
bounded waits reached it through its control consumer on Kafka.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from api.conftest import ACCOUNT, INSTRUMENT, MASTER, PASSWORD, api_settings
from wisetrader.api import create_app
from wisetrader.bus.kafka import KafkaBus
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.controlplane.db import make_engine, migrate, sessionmaker
from wisetrader.engine.controlled import ControlledConfig, controlled_engine

GRID = {
    "kind": "grid", "venue": "binance-spot", "symbol": "BTCUSDT", "instrument": INSTRUMENT,
    "fee_rate": "0.001", "start_price": "30000", "lower": "29000", "upper": "31000", "grids": 10,
    "investment": {"quote": "2000"},
}  # fmt: skip


async def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_control_events_reach_an_engine_over_kafka(kafka_bus: KafkaBus, tmp_path: Path) -> None:
    await kafka_bus.ensure_topics(partitions=1)
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cp.db'}")
    await migrate(db)
    app = create_app(api_settings(), db, kafka_bus)
    config = ControlledConfig(sync_every_s=600.0)
    async with (
        app.router.lifespan_context(app),
        controlled_engine(kafka_bus, sessionmaker(db), KeyRing.parse(MASTER), config) as engine,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        email = f"k-{uuid.uuid4().hex[:6]}@example.com"
        await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        account = (await http.post("/api/v1/accounts", json=ACCOUNT, headers=auth)).json()["id"]
        r = await http.post(
            "/api/v1/bots", json={"name": "k", "account_id": account, "config": GRID}, headers=auth
        )
        bot = r.json()["id"]
        follower = engine.follower
        assert follower is not None
        syncs = follower.stats.syncs

        assert (await http.post(f"/api/v1/bots/{bot}/start", headers=auth)).status_code == 200
        await until(
            lambda: bot in engine.reporter.bots and engine.reporter.bots[bot].state == "running", "start"
        )
        await until(lambda: engine.gate.bots.get(str(bot)) is not None, "the bot's first orders at the gate")
        r = await http.put(f"/api/v1/risk/bots/{bot}/kill-switch", json={"engaged": True}, headers=auth)
        assert r.status_code == 200
        await until(lambda: str(bot) in engine.gate.killed_bots, "the kill switch")
        assert follower.stats.wakeups >= 2 and follower.stats.syncs > syncs
    await db.dispose()
