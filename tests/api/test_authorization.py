"""Every route of the API, tried anonymously and as another user, must refuse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.conftest import ACCOUNT, GRID, PASSWORD, new_account, new_bot, new_user

pytestmark = pytest.mark.service

LIVE = {"accept_risk_disclosure": True, "disclosure_version": "2026-11", "totp_code": "123456"}
BOT = {"name": "g", "config": GRID}
# (method, path) -> a valid body; every /api/v1 route must be listed, so a new route cannot skip this test.
BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/api/v1/auth/register"): {"email": "z@example.com", "password": PASSWORD},
    ("POST", "/api/v1/auth/login"): {"email": "z@example.com", "password": PASSWORD},
    ("POST", "/api/v1/auth/refresh"): {"refresh_token": "x"},
    ("POST", "/api/v1/auth/logout"): {"refresh_token": "x"},
    ("GET", "/api/v1/auth/me"): None,
    ("POST", "/api/v1/auth/totp/setup"): None,
    ("POST", "/api/v1/auth/totp/enable"): {"code": "123456"},
    ("POST", "/api/v1/auth/tokens"): {"name": "t"},
    ("GET", "/api/v1/auth/tokens"): None,
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): None,
    ("POST", "/api/v1/accounts"): ACCOUNT,
    ("GET", "/api/v1/accounts"): None,
    ("GET", "/api/v1/accounts/{account_id}"): None,
    ("DELETE", "/api/v1/accounts/{account_id}"): None,
    ("POST", "/api/v1/accounts/{account_id}/live"): LIVE,
    ("DELETE", "/api/v1/accounts/{account_id}/live"): None,
    ("POST", "/api/v1/bots"): BOT,
    ("GET", "/api/v1/bots"): None,
    ("GET", "/api/v1/bots/{bot_id}"): None,
    ("PUT", "/api/v1/bots/{bot_id}"): {"config": GRID},
    ("GET", "/api/v1/bots/{bot_id}/versions"): None,
    ("DELETE", "/api/v1/bots/{bot_id}"): None,
    ("POST", "/api/v1/bots/{bot_id}/start"): None,
    ("POST", "/api/v1/bots/{bot_id}/pause"): None,
    ("POST", "/api/v1/bots/{bot_id}/stop"): None,
    ("POST", "/api/v1/bots/{bot_id}/close"): None,
    ("GET", "/api/v1/bots/{bot_id}/orders"): None,
    ("GET", "/api/v1/bots/{bot_id}/fills"): None,
    ("GET", "/api/v1/bots/{bot_id}/pnl"): None,
    ("GET", "/api/v1/bots/{bot_id}/state"): None,
    ("GET", "/api/v1/risk/accounts/{account_id}/limits"): None,
    ("PUT", "/api/v1/risk/accounts/{account_id}/limits"): {"max_open_orders": 1},
    ("GET", "/api/v1/risk/bots/{bot_id}/limits"): None,
    ("PUT", "/api/v1/risk/bots/{bot_id}/limits"): {"max_open_orders": 1},
    ("GET", "/api/v1/risk/kill-switch"): None,
    ("PUT", "/api/v1/risk/kill-switch"): {"engaged": True},
    ("PUT", "/api/v1/risk/bots/{bot_id}/kill-switch"): {"engaged": True},
    ("GET", "/api/v1/risk/trading-state"): None,
    ("PUT", "/api/v1/risk/trading-state"): {"state": "HALTED"},
    ("GET", "/api/v1/risk/accounts/{account_id}/trading-state"): None,
    ("PUT", "/api/v1/risk/accounts/{account_id}/trading-state"): {"state": "HALTED"},
    ("GET", "/api/v1/audit"): None,
    ("GET", "/api/v1/reports/fills"): None,
    ("GET", "/api/v1/instruments"): None,
    ("GET", "/api/v1/market/{venue}/{symbol}/top"): None,
    ("GET", "/api/v1/market/{venue}/{symbol}/depth"): None,
    ("GET", "/api/v1/market/health"): None,
    ("GET", "/api/v1/reports/pnl"): None,
    ("GET", "/api/v1/admin/users"): None,
    ("PATCH", "/api/v1/admin/users/{user_id}"): {"role": "admin"},
    ("POST", "/api/v1/admin/keys/rotate"): None,
}
PUBLIC = {("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh")}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation the app publishes (its OpenAPI document is built from the mounted routes)."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return sorted((m.upper(), p) for p, ops in paths.items() if p.startswith("/api/v1") for m in ops)


def test_every_route_is_classified(app: FastAPI) -> None:
    assert set(api_routes(app)) == set(BODIES)


async def test_anonymous_is_refused_everywhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    ids = {"token_id": 1, "account_id": 1, "bot_id": 1, "user_id": 1, "venue": "okx", "symbol": "BTC-USDT"}
    for method, path in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        body = BODIES[(method, path)]
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            r = await client.request(method, path.format(**ids), json=body, headers=headers)
            assert r.status_code == 401, (method, path, r.status_code, r.text)


async def test_another_user_is_refused_everywhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    bob = await new_user(client, "bob")
    account_id = await new_account(client, ann)
    bot_id = await new_bot(client, ann, account_id)
    token = await client.post("/api/v1/auth/tokens", json={"name": "t"}, headers=ann.headers)
    ids = {"token_id": token.json()["id"], "account_id": account_id, "bot_id": bot_id, "user_id": ann.id}
    before = (await client.get(f"/api/v1/bots/{bot_id}", headers=ann.headers)).json()

    for method, path in api_routes(app):
        if "{" not in path or path.startswith("/api/v1/market/"):
            continue  # market data is public (for any signed-in user), not owned
        r = await client.request(method, path.format(**ids), json=BODIES[(method, path)], headers=bob.headers)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text)

    # Collections show bob nothing of ann's, and bob cannot attach a bot to ann's account.
    for path in ("/api/v1/accounts", "/api/v1/bots", "/api/v1/auth/tokens"):
        assert (await client.get(path, headers=bob.headers)).json()["total"] == 0
    audit = (await client.get("/api/v1/audit", headers=bob.headers)).json()["items"]
    assert {e["user_id"] for e in audit} == {bob.id}
    r = await client.post("/api/v1/bots", json={**BOT, "account_id": account_id}, headers=bob.headers)
    assert r.status_code == 404
    # A refresh token of ann's cannot log her out when presented by bob.
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": ann.refresh}, headers=bob.headers)
    assert r.status_code == 401
    # Only an admin sets the global trading state.
    r = await client.put("/api/v1/risk/trading-state", json={"state": "HALTED"}, headers=bob.headers)
    assert r.status_code == 403

    # Nothing of ann's changed.
    assert (await client.get(f"/api/v1/bots/{bot_id}", headers=ann.headers)).json() == before
    assert (await client.get(f"/api/v1/accounts/{account_id}", headers=ann.headers)).status_code == 200
    assert (await client.get("/api/v1/risk/kill-switch", headers=ann.headers)).json() == {"engaged": False}
    state = (
        await client.get(f"/api/v1/risk/accounts/{account_id}/trading-state", headers=ann.headers)
    ).json()
    assert state == {"state": "ACTIVE", "global_state": "ACTIVE", "effective": "ACTIVE"}
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['token']}"})
    assert me.status_code == 200
