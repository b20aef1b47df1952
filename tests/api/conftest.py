"""API fixtures: the app on SQLite and on a throwaway PostgreSQL cluster, users, an httpx client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.api import create_app, security
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.controlplane.db import make_engine, migrate
from wisetrader.devtools.postgres import cluster
from wisetrader.settings import ApiSettings

MASTER = KeyRing.generate_spec("k1")
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same argon2id code path with small cost parameters, so the suite stays fast."""
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'cp.db'}"
    else:
        base: str = request.getfixturevalue("pg_url")
        name = "t" + uuid.uuid4().hex[:12]
        conn = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()
        url = base.rsplit("/", 1)[0] + "/" + name
    eng = make_engine(url)
    await migrate(eng)
    yield eng
    await eng.dispose()


def api_settings(**overrides: object) -> ApiSettings:
    base: dict[str, object] = {
        "jwt_secret": "test-secret-of-at-least-32-bytes-long",
        "master_keys": MASTER,
        "rate_per_user": 10_000,
        # Never the real exchanges from tests; test_accounts_keys points them at the simulator.
        "binance_key_check_url": "",
        "bybit_key_check_url": "",
        "okx_key_check_url": "",
    }
    return ApiSettings.model_validate({**base, "rate_per_ip": 10_000, **overrides})


@pytest.fixture
def app(engine: AsyncEngine) -> FastAPI:
    return create_app(api_settings(), engine)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@dataclass
class Caller:
    id: int
    email: str
    headers: dict[str, str]
    refresh: str


async def new_user(client: httpx.AsyncClient, name: str) -> Caller:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    t = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert t.status_code == 200, t.text
    return Caller(
        r.json()["id"],
        email,
        {"Authorization": f"Bearer {t.json()['access_token']}"},
        t.json()["refresh_token"],
    )


async def enable_totp(client: httpx.AsyncClient, caller: Caller) -> pyotp.TOTP:
    r = await client.post("/api/v1/auth/totp/setup", headers=caller.headers)
    assert r.status_code == 200, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    r = await client.post("/api/v1/auth/totp/enable", json={"code": totp.now()}, headers=caller.headers)
    assert r.status_code == 200 and r.json()["totp_enabled"], r.text
    return totp


ACCOUNT = {
    "venue": "simulator",
    "label": "main",
    "api_key": "KEY-abcdefgh1234",
    "api_secret": "SECRET-zyxw98765",
}
INSTRUMENT = {"tick_size": "0.01", "lot_step": "0.00001", "min_qty": "0.00001", "min_notional": "5"}
# The worked examples of reference/grid-and-dca.md (examples/bots/*.yaml).
GRID = {
    "kind": "grid",
    "venue": "binance-spot",
    "symbol": "BTCUSDT",
    "instrument": INSTRUMENT,
    "fee_rate": "0.001",
    "start_price": "100",
    "lower": "90",
    "upper": "110",
    "grids": 10,
    "investment": {"quote": "1000"},
}
DCA_CONFIG = {
    "kind": "dca",
    "venue": "binance-spot",
    "symbol": "BTCUSDT",
    "instrument": INSTRUMENT,
    "fee_rate": "0.001",
    "start_price": "100",
    "base_order": {"quote": "10"},
    "safety_order": {"quote": "20"},
    "price_deviation_pct": "1",
    "step_scale": "1.5",
    "volume_scale": "2",
    "max_safety_orders": 5,
    "take_profit_pct": "1.5",
}


async def new_account(client: httpx.AsyncClient, caller: Caller) -> int:
    r = await client.post("/api/v1/accounts", json=ACCOUNT, headers=caller.headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def new_bot(client: httpx.AsyncClient, caller: Caller, account_id: int) -> int:
    body = {"name": "g", "account_id": account_id, "config": GRID}
    r = await client.post("/api/v1/bots", json=body, headers=caller.headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])
