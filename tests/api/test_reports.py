"""Reports over a real embedded store (chDB), served by a real `wisetrader api` process.

chDB allows one data directory per process, so the store is seeded and served by child processes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest

from api.conftest import PASSWORD
from api.test_server import start_server

pytestmark = pytest.mark.service

SEED = """
import sys
from decimal import Decimal
from wisetrader.events import Fill
from wisetrader.store import Store

def fill(user, trade, side, price, ts):
    return Fill(ts_ns=ts, venue="simulator", symbol="BTCUSDT", user_id=user, bot_id="b" + user,
                account_id="a" + user, trade_id=trade, client_order_id="c" + trade, side=side,
                price=Decimal(price), qty=Decimal("0.1"), base="BTC", quote="USDT", fee=Decimal("0.01"),
                fee_currency="USDT", fee_quote=Decimal("0.01"))

day = 86_400 * 10**9
store = Store(sys.argv[1])
store.migrate()
store.insert_events([
    fill("1", "t1", "buy", "60000", 1_700_000_000 * 10**9),
    fill("1", "t2", "sell", "61000", 1_700_000_000 * 10**9 + day),
    fill("2", "t3", "buy", "50000", 1_700_000_000 * 10**9),
])
store.close()
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    dsn = f"chdb://{tmp_path / 'store'}"
    subprocess.run([sys.executable, "-c", SEED, dsn], check=True, timeout=120, env=os.environ.copy())
    with start_server(tmp_path, {"WISETRADER_STORE_DSN": dsn}) as base:
        yield base


def _login(c: httpx.Client, name: str) -> dict[str, str]:
    email = f"{name}@example.com"
    assert c.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    token = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_each_user_reports_only_their_own_fills(served: str) -> None:
    with httpx.Client(base_url=served, timeout=60) as c:
        ann, bob = _login(c, "ann"), _login(c, "bob")  # user ids 1 and 2, as in the store
        csv = c.get("/api/v1/reports/fills", headers=ann)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        rows = pl.read_csv(io.BytesIO(csv.content))
        assert rows["trade_id"].to_list() == ["t1", "t2"]
        parquet = c.get("/api/v1/reports/fills", params={"format": "parquet"}, headers=bob)
        assert parquet.status_code == 200
        table = pl.read_parquet(io.BytesIO(parquet.content))
        assert table["trade_id"].to_list() == ["t3"] and str(table["price"][0]) == "50000.000000000000000000"
        ranged = c.get("/api/v1/reports/fills", params={"start": "2023-11-15T00:00:00Z"}, headers=ann)
        assert pl.read_csv(io.BytesIO(ranged.content))["trade_id"].to_list() == ["t2"]

        pnl = c.get("/api/v1/reports/pnl", params={"capital": "1000"}, headers=ann)
        assert pnl.status_code == 200, pnl.text
        body = pnl.json()
        assert body["quote"] == "USDT" and body["fills"] == 2 and body["trades"] == 1 and body["wins"] == 1
        [bot] = body["by_bot"]
        # Bought 0.1 at 60000, sold 0.1 at 61000: 100 profit less 0.02 fees.
        assert bot["bot_id"] == "b1" and bot["grid_profit"].startswith("99.98")
        empty = c.get("/api/v1/reports/pnl", params={"end": "2000-01-01T00:00:00Z"}, headers=ann)
        assert empty.status_code == 404
        bad = c.get("/api/v1/reports/pnl", params={"start": "2024-01-02", "end": "2024-01-01"}, headers=ann)
        assert bad.status_code == 422


async def test_reports_say_when_no_store_is_attached(client: httpx.AsyncClient) -> None:
    from api.conftest import new_user

    ann = await new_user(client, "ann")
    for path in ("/api/v1/reports/fills", "/api/v1/reports/pnl"):
        r = await client.get(path, headers=ann.headers)
        assert r.status_code == 503 and "no store" in r.text
