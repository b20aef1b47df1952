from __future__ import annotations

import dataclasses

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.api import create_app
from wisetrader.controlplane.crypto import KeyRing, KeyRingError
from wisetrader.controlplane.db import sessionmaker
from wisetrader.controlplane.models import ExchangeAccount, User
from wisetrader.controlplane.repositories import account_context, sealed_of

from api.conftest import ACCOUNT, MASTER, PASSWORD, api_settings, enable_totp, new_account, new_user

pytestmark = pytest.mark.service


async def _stored(engine: AsyncEngine, account_id: int) -> ExchangeAccount:
    async with sessionmaker(engine)() as s:
        row = await s.get(ExchangeAccount, account_id)
        assert row is not None
        return row


async def test_key_is_sealed_never_returned_and_opens_only_with_the_master_key(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ann = await new_user(client, "ann")
    r = await client.post(
        "/api/v1/accounts", json={**ACCOUNT, "passphrase": "PASS-phrase1"}, headers=ann.headers
    )
    assert r.status_code == 201
    body = r.text
    assert ACCOUNT["api_key"] not in body and ACCOUNT["api_secret"] not in body
    assert r.json()["api_key_hint"] == ACCOUNT["api_key"][-4:]
    row = await _stored(engine, r.json()["id"])
    raw = row.wrapped_dek + row.secret_blob
    for secret in (ACCOUNT["api_key"], ACCOUNT["api_secret"], "PASS-phrase1"):
        assert secret.encode() not in raw
    opened = KeyRing.parse(MASTER).open(sealed_of(row), account_context(row)).decode().split("\n")
    assert opened == [ACCOUNT["api_key"], ACCOUNT["api_secret"], "PASS-phrase1"]
    with pytest.raises(KeyRingError):
        KeyRing.parse(KeyRing.generate_spec("k1")).open(sealed_of(row), account_context(row))
    # The sealed blob is bound to its owner: moved to another user it does not open.
    with pytest.raises(KeyRingError):
        KeyRing.parse(MASTER).open(sealed_of(row), b"acct:999:simulator")
    # Listing and getting never carry the key either.
    listed = await client.get("/api/v1/accounts", headers=ann.headers)
    assert ACCOUNT["api_secret"] not in listed.text and listed.json()["total"] == 1
    got = await client.get(f"/api/v1/accounts/{row.id}", headers=ann.headers)
    assert got.status_code == 200 and ACCOUNT["api_secret"] not in got.text


async def test_audit_never_contains_the_key(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    await new_account(client, ann)
    audit = await client.get("/api/v1/audit", headers=ann.headers)
    assert audit.status_code == 200
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions[0] == "account.create" and "user.register" in actions
    assert audit.json()["items"][0]["ip"] == "203.0.113.7"
    assert ACCOUNT["api_key"] not in audit.text and ACCOUNT["api_secret"] not in audit.text


async def test_admin_rotation_rewraps_under_the_new_master_key(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    before = await _stored(engine, account_id)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == ann.id).values(role="admin"))
    totp = await enable_totp(client, ann)
    login = await client.post(
        "/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD, "totp_code": totp.now()}
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    new_spec = KeyRing.generate_spec("k2")
    rotated_app: FastAPI = create_app(api_settings(master_keys=f"{new_spec},{MASTER}"), engine)
    transport = httpx.ASGITransport(app=rotated_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c2:
        r = await c2.post("/api/v1/admin/keys/rotate", headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == {"current_master_key_id": "k2", "rewrapped": 1}
        again = await c2.post("/api/v1/admin/keys/rotate", headers=admin)
        assert again.json()["rewrapped"] == 0
    after = await _stored(engine, account_id)
    assert after.master_key_id == "k2" and after.wrapped_dek != before.wrapped_dek
    # The old master key alone no longer opens it; the new one alone does.
    with pytest.raises(KeyRingError):
        KeyRing.parse(MASTER.replace("k1:", "k2:")).open(sealed_of(after), account_context(after))
    opened = KeyRing.parse(new_spec).open(sealed_of(after), account_context(after))
    assert opened.split(b"\n")[1] == ACCOUNT["api_secret"].encode()
    with pytest.raises(KeyRingError):
        KeyRing.parse(MASTER).open(sealed_of(after), account_context(after))


def test_keyring_rejects_bad_master_keys() -> None:
    for spec in ("", "nokey", "k1:not-base64!", "k1:AAAA"):
        with pytest.raises(KeyRingError):
            KeyRing.parse(spec)
    ring = KeyRing.parse(MASTER)
    sealed = ring.seal(b"secret", b"ctx")
    tampered = dataclasses.replace(sealed, blob=sealed.blob[:-1] + bytes([sealed.blob[-1] ^ 1]))
    with pytest.raises(KeyRingError):
        ring.open(tampered, b"ctx")
    with pytest.raises(KeyRingError):
        ring.open(dataclasses.replace(sealed, master_key_id="gone"), b"ctx")


async def test_live_opt_in_needs_2fa_current_disclosure_and_code(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    url = f"/api/v1/accounts/{account_id}/live"
    body = {"accept_risk_disclosure": True, "disclosure_version": "2026-11", "totp_code": "123456"}
    assert (await client.post(url, json=body, headers=ann.headers)).status_code == 403  # no 2FA yet
    totp = await enable_totp(client, ann)
    assert (await client.post(url, json=body, headers=ann.headers)).status_code == 403  # wrong code
    r = await client.post(
        url, json={**body, "accept_risk_disclosure": False, "totp_code": totp.now()}, headers=ann.headers
    )
    assert r.status_code == 422
    r = await client.post(
        url, json={**body, "disclosure_version": "2020-01", "totp_code": totp.now()}, headers=ann.headers
    )
    assert r.status_code == 422 and "2026-11" in r.text
    r = await client.post(url, json={**body, "totp_code": totp.now()}, headers=ann.headers)
    assert r.status_code == 200
    assert r.json()["live_enabled"] and r.json()["risk_disclosure_version"] == "2026-11"
    assert r.json()["risk_disclosure_accepted_at"] is not None
    off = await client.delete(url, headers=ann.headers)
    assert off.status_code == 200 and not off.json()["live_enabled"]
    async with engine.connect() as conn:
        rows = (await conn.execute(select(ExchangeAccount.live_enabled))).scalars().all()
    assert rows == [False]


async def test_delete_account(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    assert (await client.delete(f"/api/v1/accounts/{account_id}", headers=ann.headers)).status_code == 204
    assert (await client.get(f"/api/v1/accounts/{account_id}", headers=ann.headers)).status_code == 404


# Where each venue's check is pointed (the simulator serves all three protocols), and how the venue words
# a wrong secret.
KEY_CHECKS = {
    "simulator": ("simulator_key_check_url", "Signature"),
    "bybit": ("bybit_key_check_url", "Signature"),
    "okx": ("okx_key_check_url", "Invalid Sign"),
}


@pytest.mark.parametrize("venue", list(KEY_CHECKS))
async def test_keys_are_checked_with_the_venue_on_entry(engine: AsyncEngine, venue: str) -> None:
    """The simulator, over real HTTP, is asked what each key may do; refused keys leave nothing stored."""
    import socket
    from decimal import Decimal

    from simutil import quiet_config
    from wisetrader.sim import SimExchange
    from wisetrader.sim.config import AccountSpec

    setting, bad_secret = KEY_CHECKS[venue]
    good = {**ACCOUNT, "venue": venue, "passphrase": "Pass-phrase1"}
    config = quiet_config()
    balances = {"USDT": Decimal(1000)}
    phrase = "Pass-phrase1"
    config.accounts = [
        AccountSpec(
            name="ok",
            api_key=good["api_key"],
            secret=good["api_secret"],
            passphrase=phrase,
            balances=balances,
        ),
        AccountSpec(
            name="wd",
            api_key="KEY-withdraws1",
            secret="SECRET-withdraws",
            passphrase=phrase,
            enable_withdrawals=True,
        ),
        AccountSpec(
            name="ro",
            api_key="KEY-readonly12",
            secret="SECRET-readonly1",
            passphrase=phrase,
            enable_spot_and_margin_trading=False,
        ),
    ]
    async with SimExchange(config) as sim:
        app = create_app(api_settings(**{setting: sim.rest_url}), engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            ann = await new_user(c, "ann")
            refused = {
                "withdrawals": {**good, "api_key": "KEY-withdraws1", "api_secret": "SECRET-withdraws"},
                "trade spot": {**good, "api_key": "KEY-readonly12", "api_secret": "SECRET-readonly1"},
                "refused the key": {**good, "api_key": "KEY-unknown123"},
                bad_secret: {**good, "api_secret": "SECRET-wrong0000"},
            }
            if venue == "okx":
                refused["PASSPHRASE"] = {**good, "passphrase": "Wrong-phrase1"}
                refused["passphrase it was created with"] = {
                    k: v for k, v in good.items() if k != "passphrase"
                }
            for reason, body in refused.items():
                r = await c.post("/api/v1/accounts", json=body, headers=ann.headers)
                assert r.status_code == 422, (reason, r.text)
                detail = r.json()["detail"][0]
                assert detail["loc"] == ["body", "api_key"] and reason in detail["msg"], detail
                assert body["api_key"] not in r.text and body["api_secret"] not in r.text
            assert (await c.get("/api/v1/accounts", headers=ann.headers)).json()["total"] == 0
            ok = await c.post("/api/v1/accounts", json=good, headers=ann.headers)
            assert ok.status_code == 201, ok.text
            # Other venues are checked against their own URL (none here), so they are not sent to the sim.
            other_venue = "binance" if venue != "binance" else "okx"
            other = await c.post("/api/v1/accounts", json={**good, "venue": other_venue}, headers=ann.headers)
            assert other.status_code == 201
            audit = (await c.get("/api/v1/audit", headers=ann.headers)).json()["items"]
            assert [e["action"] for e in audit].count("account.create") == 2

    # A venue that cannot be reached: a clear 502, and nothing stored.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    app = create_app(api_settings(**{setting: closed}), engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        bob = await new_user(c, "bob")
        r = await c.post("/api/v1/accounts", json=good, headers=bob.headers)
        assert r.status_code == 502 and "could not ask the venue" in r.text
        assert (await c.get("/api/v1/accounts", headers=bob.headers)).json()["total"] == 0
