from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.controlplane.models import ApiToken, User

from api.conftest import PASSWORD, enable_totp, new_user

pytestmark = pytest.mark.service


async def test_register_login_me_and_duplicate(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ann = await new_user(client, "ann")
    me = await client.get("/api/v1/auth/me", headers=ann.headers)
    assert me.status_code == 200
    assert me.json()["email"] == ann.email and me.json()["role"] == "user"
    dup = await client.post("/api/v1/auth/register", json={"email": ann.email.upper(), "password": PASSWORD})
    assert dup.status_code == 409
    bad = await client.post("/api/v1/auth/login", json={"email": ann.email, "password": "wrong password!!"})
    assert bad.status_code == 401
    async with engine.connect() as conn:
        stored = (await conn.execute(select(User.password_hash).where(User.id == ann.id))).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_register_rejects_short_password_and_unknown_fields(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/register", json={"email": "x@example.com", "password": "short"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "password"]
    r = await client.post(
        "/api/v1/auth/register", json={"email": "x@example.com", "password": PASSWORD, "role": "admin"}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "extra_forbidden"


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": ann.refresh})
    assert first.status_code == 200
    second = first.json()["refresh_token"]
    assert second != ann.refresh
    # Reusing the rotated token is theft or a bug: the whole family dies, including the newest token.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": ann.refresh})
    assert reuse.status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": second})).status_code == 401
    # An access token is not a refresh token.
    access = ann.headers["Authorization"].split()[1]
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": access})).status_code == 401


async def test_logout_revokes_refresh(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": ann.refresh}, headers=ann.headers)
    assert r.status_code == 204
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": ann.refresh})).status_code == 401
    bob = await new_user(client, "bob")
    # Nobody can log out someone else's session.
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": bob.refresh}, headers=ann.headers)
    assert r.status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": bob.refresh})).status_code == 200


async def test_garbage_bearer_is_401(client: httpx.AsyncClient) -> None:
    for token in ("nonsense", "wt_nonsense", "a.b.c"):
        r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_personal_api_tokens_are_hashed_and_revocable(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ann = await new_user(client, "ann")
    r = await client.post("/api/v1/auth/tokens", json={"name": "script"}, headers=ann.headers)
    assert r.status_code == 201
    token, tid = r.json()["token"], r.json()["id"]
    async with engine.connect() as conn:
        stored = (await conn.execute(select(ApiToken.token_hash).where(ApiToken.id == tid))).scalar_one()
    assert token not in stored and len(stored) == 64
    as_script = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/auth/me", headers=as_script)).json()["id"] == ann.id
    listed = (await client.get("/api/v1/auth/tokens", headers=ann.headers)).json()
    assert listed["total"] == 1 and "token" not in listed["items"][0]
    assert (await client.delete(f"/api/v1/auth/tokens/{tid}", headers=ann.headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=as_script)).status_code == 401


async def test_totp_is_required_at_login_once_enabled(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    wrong = await client.post("/api/v1/auth/totp/setup", headers=ann.headers)
    assert wrong.status_code == 200
    r = await client.post("/api/v1/auth/totp/enable", json={"code": "000000"}, headers=ann.headers)
    assert r.status_code == 400
    totp = await enable_totp(client, ann)
    creds = {"email": ann.email, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=creds)).status_code == 401
    assert (await client.post("/api/v1/auth/login", json={**creds, "totp_code": "000000"})).status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={**creds, "totp_code": totp.now()})
    ).status_code == 200
    assert (await client.post("/api/v1/auth/totp/setup", headers=ann.headers)).status_code == 409
