"""Property-based tests from the app's own OpenAPI document: no 5xx, every response matches the schema."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.pool import NullPool
from wisetrader.api import create_app
from wisetrader.api.botdata import StoreBotData
from wisetrader.api.reports import StoreFills
from wisetrader.controlplane.db import make_engine, migrate
from wisetrader.marketdata.replay import replay
from wisetrader.store import Store

from api.conftest import ACCOUNT, GRID, PASSWORD, api_settings

pytestmark = pytest.mark.service
AUTH: dict[str, str] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def _prepared_app() -> FastAPI:
    folder = tempfile.mkdtemp(prefix="wt-st-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "cp.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
    await migrate(engine)
    # Books from a real recording, so that the market-data routes answer rather than 503.
    market = replay(
        Path(__file__).parent.parent / "data" / "recordings" / "okx" / "BTC-USDT.rec", "okx"
    ).market
    app = create_app(api_settings(), engine, markets={"okx": market})
    # One user with an account and a bot, so that generated ids sometimes hit real rows.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        await c.post("/api/v1/auth/register", json={"email": "st@example.com", "password": PASSWORD})
        login = await c.post("/api/v1/auth/login", json={"email": "st@example.com", "password": PASSWORD})
        AUTH["Authorization"] = f"Bearer {login.json()['access_token']}"
        account = (await c.post("/api/v1/accounts", json=ACCOUNT, headers=AUTH)).json()
        bot = {"name": "g", "account_id": account["id"], "config": GRID}
        assert (await c.post("/api/v1/bots", json=bot, headers=AUTH)).status_code == 201
    return app


# Schemathesis parametrizes at collection time, so the app is built when the module is imported.
APP = asyncio.run(_prepared_app())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def attached_store(chdb_dir: Path) -> Iterator[None]:
    """The reports and the bots' data read a real (empty) store, so that they answer rather than 503."""
    store = Store(f"chdb://{chdb_dir}", f"t{uuid.uuid4().hex[:12]}")
    store.migrate()
    APP.state.wisetrader.fills = StoreFills(store)
    APP.state.wisetrader.bot_data = StoreBotData(store)
    yield
    APP.state.wisetrader.fills = None
    APP.state.wisetrader.bot_data = None
    store.client.command(f"DROP DATABASE IF EXISTS {store.database}")


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    case.call_and_validate(headers=AUTH, checks=checks)
