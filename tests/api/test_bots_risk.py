from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.controlplane.models import BotVersion

from api.conftest import DCA_CONFIG, GRID, enable_totp, new_account, new_bot, new_user

pytestmark = pytest.mark.service

DCA = DCA_CONFIG


async def test_create_get_list_update_versions_delete(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    bot_id = await new_bot(client, ann, account_id)
    got = (await client.get(f"/api/v1/bots/{bot_id}", headers=ann.headers)).json()
    assert got["kind"] == "grid" and got["mode"] == "paper" and got["version"] == 1
    assert got["config"]["upper"] == "110" and got["config"]["spacing"] == "arithmetic"
    assert got["symbol"] == "BTCUSDT"
    body = {"name": "d", "account_id": account_id, "config": DCA}
    dca = await client.post("/api/v1/bots", json=body, headers=ann.headers)
    assert dca.status_code == 201 and dca.json()["config"]["volume_scale"] == "2"
    # The core's plan of the reference's worked DCA example: max funds 10 + 20(1+2+4+8+16) = 630, a
    # little less once each quantity is rounded down to the lot step.
    plan = dca.json()["plan"]
    assert plan["valid"] and Decimal("629.9") < Decimal(plan["max_funds"]) <= 630 and len(plan["orders"]) == 6

    page = (await client.get("/api/v1/bots?limit=1&offset=1", headers=ann.headers)).json()
    assert page["total"] == 2 and [b["id"] for b in page["items"]] == [dca.json()["id"]]
    past_end = (await client.get("/api/v1/bots?offset=5", headers=ann.headers)).json()
    assert past_end["total"] == 2 and past_end["items"] == []

    new_cfg = {**GRID, "grids": 20}
    upd = await client.put(
        f"/api/v1/bots/{bot_id}",
        json={"config": new_cfg, "apply_to_running_deals": True},
        headers=ann.headers,
    )
    assert upd.status_code == 200 and upd.json()["version"] == 2 and upd.json()["config"]["grids"] == 20
    versions = (await client.get(f"/api/v1/bots/{bot_id}/versions", headers=ann.headers)).json()
    assert [(v["version"], v["config"]["grids"], v["apply_to_running_deals"]) for v in versions["items"]] == [
        (1, 10, False),
        (2, 20, True),
    ]
    wrong_kind = await client.put(f"/api/v1/bots/{bot_id}", json={"config": DCA}, headers=ann.headers)
    assert wrong_kind.status_code == 422

    # An account with bots cannot be deleted; deleting the bot removes its versions too.
    assert (await client.delete(f"/api/v1/accounts/{account_id}", headers=ann.headers)).status_code == 409
    assert (await client.delete(f"/api/v1/bots/{bot_id}", headers=ann.headers)).status_code == 204
    assert (await client.get(f"/api/v1/bots/{bot_id}", headers=ann.headers)).status_code == 404
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).where(BotVersion.bot_id == bot_id))
    assert left == 0


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**GRID, "lower": "120"}, "lower"),
        ({**GRID, "grids": 0}, "grids"),
        ({**GRID, "investment": {"quote": "1"}}, "investment"),
        ({**GRID, "symbol": "BTC USDT"}, "symbol"),
        ({**GRID, "venue": "kraken"}, "venue"),
        ({**GRID, "grid_step": "1"}, "grid_step"),
        ({**GRID, "kind": "martingale"}, "kind"),
        ({**DCA, "take_profit_pct": "0"}, "take_profit_pct"),
    ],
)
async def test_invalid_bot_config_is_a_precise_422(
    client: httpx.AsyncClient, config: dict[str, object], field: str
) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    body = {"name": "g", "account_id": account_id, "config": config}
    r = await client.post("/api/v1/bots", json=body, headers=ann.headers)
    assert r.status_code == 422
    assert field in r.text
    assert (await client.get("/api/v1/bots", headers=ann.headers)).json()["total"] == 0


async def test_live_bot_needs_the_account_opt_in(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    body = {"name": "g", "account_id": account_id, "mode": "live", "config": GRID}
    assert (await client.post("/api/v1/bots", json=body, headers=ann.headers)).status_code == 403
    totp = await enable_totp(client, ann)
    opt_in = {"accept_risk_disclosure": True, "disclosure_version": "2026-11", "totp_code": totp.now()}
    r = await client.post(f"/api/v1/accounts/{account_id}/live", json=opt_in, headers=ann.headers)
    assert r.status_code == 200
    live = await client.post("/api/v1/bots", json=body, headers=ann.headers)
    assert live.status_code == 201 and live.json()["mode"] == "live"
    # Withdrawing the opt-in keeps the live bot from starting.
    assert (
        await client.delete(f"/api/v1/accounts/{account_id}/live", headers=ann.headers)
    ).status_code == 200
    r = await client.post(f"/api/v1/bots/{live.json()['id']}/start", headers=ann.headers)
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/bots/{live.json()['id']}", headers=ann.headers)).json()[
        "status"
    ] == "stopped"
    assert (
        await client.post(
            f"/api/v1/accounts/{account_id}/live",
            json={**opt_in, "totp_code": totp.now()},
            headers=ann.headers,
        )
    ).status_code == 200
    r = await client.post(f"/api/v1/bots/{live.json()['id']}/start", headers=ann.headers)
    assert r.status_code == 200 and r.json()["status"] == "running"


async def test_bot_lifecycle_follows_the_allowed_transitions(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    bot_id = await new_bot(client, ann, account_id)
    url = f"/api/v1/bots/{bot_id}"
    assert (await client.get(url, headers=ann.headers)).json()["status"] == "stopped"

    async def act(action: str) -> httpx.Response:
        return await client.post(f"{url}/{action}", headers=ann.headers)

    async def reach(target: str) -> None:
        path = {"stopped": [], "running": ["start"], "paused": ["start", "pause"]}[target]
        current = (await client.get(url, headers=ann.headers)).json()["status"]
        if current != "stopped":
            assert (await act("stop")).status_code == 200
        for step in path:
            assert (await act(step)).status_code == 200

    # Every (status, action) pair: allowed ones land on their status, the others are a 409 and change nothing.
    allowed = {
        ("stopped", "start"): "running",
        ("paused", "start"): "running",
        ("running", "pause"): "paused",
        ("running", "stop"): "stopped",
        ("paused", "stop"): "stopped",
    }
    for current in ("stopped", "running", "paused"):
        for action in ("start", "pause", "stop"):
            await reach(current)
            r = await act(action)
            if (current, action) in allowed:
                assert r.status_code == 200 and r.json()["status"] == allowed[(current, action)], r.text
            else:
                assert r.status_code == 409 and f"cannot {action} a bot that is {current}" in r.text
                assert (await client.get(url, headers=ann.headers)).json()["status"] == current

    # A running bot cannot be deleted; the audit names every transition with its from and to.
    await reach("running")
    assert (await client.delete(url, headers=ann.headers)).status_code == 409
    entries = (await client.get("/api/v1/audit?limit=2", headers=ann.headers)).json()["items"]
    assert [(e["action"], e["detail"]) for e in entries] == [
        ("bot.start", "stopped->running"),
        ("bot.stop", "paused->stopped"),
    ]
    # The kill switch blocks a start, not a stop.
    await client.put(f"/api/v1/risk/bots/{bot_id}/kill-switch", json={"engaged": True}, headers=ann.headers)
    assert (await act("stop")).status_code == 200
    r = await act("start")
    assert r.status_code == 409 and "kill switch" in r.text
    assert (await client.delete(url, headers=ann.headers)).status_code == 204


async def test_risk_limits_and_kill_switches(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    bot_id = await new_bot(client, ann, account_id)
    url = f"/api/v1/risk/accounts/{account_id}/limits"
    empty = (await client.get(url, headers=ann.headers)).json()
    assert empty["max_daily_loss"] is None and empty["bot_id"] is None
    limits = {"max_position_notional": "5000", "max_daily_loss": "250.5", "max_open_orders": 40}
    put = await client.put(url, json=limits, headers=ann.headers)
    assert put.status_code == 200 and put.json()["max_daily_loss"] == "250.5"
    assert (await client.get(url, headers=ann.headers)).json()["max_open_orders"] == 40
    bot_url = f"/api/v1/risk/bots/{bot_id}/limits"
    r = await client.put(bot_url, json={"max_open_orders": 3}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["bot_id"] == bot_id and r.json()["account_id"] == account_id
    # The bot's limits are separate from the account's.
    assert (await client.get(url, headers=ann.headers)).json()["max_open_orders"] == 40
    assert (await client.put(bot_url, json={"max_open_orders": -1}, headers=ann.headers)).status_code == 422

    assert (await client.get("/api/v1/risk/kill-switch", headers=ann.headers)).json() == {"engaged": False}
    r = await client.put("/api/v1/risk/kill-switch", json={"engaged": True}, headers=ann.headers)
    assert r.json() == {"engaged": True}
    assert (await client.get("/api/v1/risk/kill-switch", headers=ann.headers)).json() == {"engaged": True}
    r = await client.put(
        f"/api/v1/risk/bots/{bot_id}/kill-switch", json={"engaged": True}, headers=ann.headers
    )
    assert r.status_code == 200
    assert (await client.get(f"/api/v1/bots/{bot_id}", headers=ann.headers)).json()["kill_switch"] is True
    actions = [e["action"] for e in (await client.get("/api/v1/audit", headers=ann.headers)).json()["items"]]
    assert actions[:4] == ["risk.bot_kill_switch", "risk.kill_switch", "risk.limits", "risk.limits"]


async def test_trading_state_per_account_and_global(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    from sqlalchemy import update
    from wisetrader.controlplane.models import User

    from api.conftest import PASSWORD

    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    other_account = await new_account(client, ann)
    url = f"/api/v1/risk/accounts/{account_id}/trading-state"
    assert (await client.get(url, headers=ann.headers)).json() == {
        "state": "ACTIVE",
        "global_state": "ACTIVE",
        "effective": "ACTIVE",
    }
    r = await client.put(url, json={"state": "REDUCING"}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["state"] == "REDUCING" and r.json()["effective"] == "REDUCING"
    assert (await client.get(url, headers=ann.headers)).json()["state"] == "REDUCING"
    # Only the named account changed.
    other = await client.get(f"/api/v1/risk/accounts/{other_account}/trading-state", headers=ann.headers)
    assert other.json()["state"] == "ACTIVE"
    for bad in ({"state": "PAUSED"}, {"state": "active"}, {}, {"state": "HALTED", "why": "x"}):
        r = await client.put(url, json=bad, headers=ann.headers)
        assert r.status_code == 422, bad
    assert (await client.get(url, headers=ann.headers)).json()["state"] == "REDUCING"

    # The global state: readable by anyone signed in, settable only by an admin with 2FA.
    assert (await client.get("/api/v1/risk/trading-state", headers=ann.headers)).json() == {"state": "ACTIVE"}
    r = await client.put("/api/v1/risk/trading-state", json={"state": "HALTED"}, headers=ann.headers)
    assert r.status_code == 403
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == ann.id).values(role="admin"))
    totp = await enable_totp(client, ann)
    login = await client.post(
        "/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD, "totp_code": totp.now()}
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (
        await client.put("/api/v1/risk/trading-state", json={"state": "BOGUS"}, headers=admin)
    ).status_code == 422
    r = await client.put("/api/v1/risk/trading-state", json={"state": "HALTED"}, headers=admin)
    assert r.status_code == 200 and r.json() == {"state": "HALTED"}
    # The effective state is the stricter of the two, whichever side is stricter.
    assert (await client.get(url, headers=admin)).json() == {
        "state": "REDUCING",
        "global_state": "HALTED",
        "effective": "HALTED",
    }
    await client.put("/api/v1/risk/trading-state", json={"state": "ACTIVE"}, headers=admin)
    r = await client.put(url, json={"state": "HALTED"}, headers=admin)
    assert r.json() == {"state": "HALTED", "global_state": "ACTIVE", "effective": "HALTED"}

    entries = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    changes = [(e["action"], e["target"], e["detail"]) for e in entries if "trading_state" in e["action"]]
    assert changes == [
        ("risk.trading_state", f"account:{account_id}", "state=HALTED"),
        ("risk.global_trading_state", "global", "state=ACTIVE"),
        ("risk.global_trading_state", "global", "state=HALTED"),
        ("risk.trading_state", f"account:{account_id}", "state=REDUCING"),
    ]


async def test_admin_needs_role_and_2fa(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    from sqlalchemy import update
    from wisetrader.controlplane.models import User

    from api.conftest import PASSWORD

    ann = await new_user(client, "ann")
    bob = await new_user(client, "bob")
    assert (await client.get("/api/v1/admin/users", headers=ann.headers)).status_code == 403
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == ann.id).values(role="admin"))
    r = await client.get("/api/v1/admin/users", headers=ann.headers)
    assert r.status_code == 403 and "two-factor" in r.text
    totp = await enable_totp(client, ann)
    login = await client.post(
        "/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD, "totp_code": totp.now()}
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    users = (await client.get("/api/v1/admin/users", headers=admin)).json()
    assert users["total"] == 2
    r = await client.patch(f"/api/v1/admin/users/{bob.id}", json={"disabled": True}, headers=admin)
    assert r.status_code == 200 and r.json()["disabled"]
    assert (await client.get("/api/v1/auth/me", headers=bob.headers)).status_code == 401
    assert (
        await client.patch("/api/v1/admin/users/999999", json={"role": "provider"}, headers=admin)
    ).status_code == 404


async def test_grid_creation_returns_the_core_plan(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    r = await client.post(
        "/api/v1/bots", json={"name": "g", "account_id": account_id, "config": GRID}, headers=ann.headers
    )
    assert r.status_code == 201, r.text
    plan = r.json()["plan"]
    assert plan["valid"] and plan["errors"] == []
    # 90-110 in ten arithmetic grids: levels every 2, so gross profit per grid between 2/108 and 2/90.
    gross = plan["gross_profit_per_grid_pct"]
    assert Decimal(gross["min"]) < Decimal(gross["max"])
    assert Decimal("1.8") < Decimal(gross["min"]) < Decimal("1.9") and Decimal("2.2") < Decimal(
        gross["max"]
    ) < Decimal("2.3")
    assert Decimal(plan["investment_needed"]) <= Decimal("1000") and Decimal(plan["min_investment"]) > 0
    assert [lv["price"] for lv in plan["level_detail"]][:2] in (["90.00", "92.00"], ["90", "92"])


async def test_instrument_the_core_cannot_build_is_a_422(client: httpx.AsyncClient) -> None:
    ann = await new_user(client, "ann")
    account_id = await new_account(client, ann)
    config = {**GRID, "instrument": {"tick_size": "0.01", "lot_step": "0"}}
    r = await client.post(
        "/api/v1/bots", json={"name": "g", "account_id": account_id, "config": config}, headers=ann.headers
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "config", "instrument", "lot_step"]
