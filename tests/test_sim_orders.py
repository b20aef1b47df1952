"""Order entry on the simulator over real HTTP: signing, matching, fees, limits and injected faults."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import orjson
import pytest
import websockets
from simutil import Rest, busy_config, quiet_config
from wisetrader.sim import SimExchange
from wisetrader.sim.config import SimConfig


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _sim(config: SimConfig) -> SimExchange:
    sim = SimExchange(config)
    await sim.start()
    return sim


@pytest.fixture
async def quiet() -> AsyncIterator[SimExchange]:
    async with SimExchange(quiet_config()) as sim:
        yield sim


def _balances(account: dict) -> dict[str, tuple[Decimal, Decimal]]:  # type: ignore[type-arg]
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in account["balances"]}


async def test_signed_requests_are_checked(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    status, body, _ = await Rest(http, quiet.rest_url, secret="wrong").call("GET", "/api/v3/account")
    assert (status, body["code"]) == (400, -1022)
    status, body, _ = await Rest(http, quiet.rest_url, key="nokey").call("GET", "/api/v3/account")
    assert (status, body["code"]) == (401, -2015)
    rest = Rest(http, quiet.rest_url)
    stale = int(time.time() * 1000) - 10_000
    status, body, _ = await rest.call(
        "GET", "/api/v3/account", signed=False, timestamp=stale, recvWindow=5000
    )
    assert (status, body["code"]) == (401, -2014)  # no API key header at all
    query = f"timestamp={stale}&recvWindow=5000"
    from wisetrader.venues.binance import sign

    async with http.get(
        f"{quiet.rest_url}/api/v3/account?{query}&signature={sign('secreta', query)}",
        headers={"X-MBX-APIKEY": "keya"},
    ) as r:
        assert (r.status, (await r.json())["code"]) == (400, -1021)
    status, body, _ = await rest.call("GET", "/api/v3/account")
    assert status == 200 and _balances(body)["USDT"] == (Decimal(100000), Decimal(0))


async def test_api_restrictions_report_the_configured_permissions(http: aiohttp.ClientSession) -> None:
    config = quiet_config()
    config.accounts[1].enable_withdrawals = True
    config.accounts[2].enable_spot_and_margin_trading = False
    async with SimExchange(config) as sim:
        got = {}
        for name in ("a", "b", "c"):
            status, body, _ = await Rest(http, sim.rest_url, f"key{name}", f"secret{name}").call(
                "GET", "/sapi/v1/account/apiRestrictions"
            )
            assert status == 200
            got[name] = (body["enableReading"], body["enableSpotAndMarginTrading"], body["enableWithdrawals"])
        assert got == {"a": (True, True, False), "b": (True, True, True), "c": (True, False, False)}
        status, body, _ = await Rest(http, sim.rest_url, "keya", "wrong").call(
            "GET", "/sapi/v1/account/apiRestrictions"
        )
        assert (status, body["code"]) == (400, -1022)
        status, body, _ = await Rest(http, sim.rest_url, "nokey", "x").call(
            "GET", "/sapi/v1/account/apiRestrictions"
        )
        assert (status, body["code"]) == (401, -2015)


async def test_exchange_info_has_real_filter_shapes(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    status, info, _ = await Rest(http, quiet.rest_url).call("GET", "/api/v3/exchangeInfo", signed=False)
    assert status == 200
    sym = info["symbols"][0]
    filters = {f["filterType"]: f for f in sym["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert {r["rateLimitType"] for r in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS"}


async def test_price_time_priority_partial_fills_and_fees(
    quiet: SimExchange, http: aiohttp.ClientSession
) -> None:
    a, b, c = (Rest(http, quiet.rest_url, key=f"key{n}", secret=f"secret{n}") for n in "abc")
    s1, o1, h1 = await a.order(
        side="BUY", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.5", newClientOrderId="a1"
    )
    assert s1 == 200 and o1["status"] == "NEW" and h1["X-MBX-ORDER-COUNT-10S"] == "1"
    _, o2, _ = await b.order(
        side="BUY", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.5", newClientOrderId="b1"
    )
    _, o3, _ = await b.order(
        side="BUY", type="LIMIT", timeInForce="GTC", price="30001", quantity="0.1", newClientOrderId="b2"
    )
    # A seller for 0.8 takes the better price first, then the earlier order at 30000, then part of the later.
    _, sell, _ = await c.order(side="SELL", type="LIMIT", timeInForce="GTC", price="29000", quantity="0.8")
    assert sell["status"] == "FILLED"
    assert [(f["price"], f["qty"]) for f in sell["fills"]] == [
        ("30001.00000000", "0.10000000"),
        ("30000.00000000", "0.50000000"),
        ("30000.00000000", "0.20000000"),
    ]
    assert Decimal(sell["cummulativeQuoteQty"]) == Decimal("24000.1")
    assert sum(Decimal(f["commission"]) for f in sell["fills"]) == Decimal("24.0001")  # taker 0.1% in USDT
    _, q1, _ = await a.call("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="a1")
    _, q2, _ = await b.call("GET", "/api/v3/order", symbol="BTCUSDT", orderId=o2["orderId"])
    assert (q1["status"], q1["executedQty"]) == ("FILLED", "0.50000000")
    assert (q2["status"], q2["executedQty"]) == ("PARTIALLY_FILLED", "0.20000000")
    _, acct_a, _ = await a.call("GET", "/api/v3/account")
    bal = _balances(acct_a)
    assert bal["BTC"] == (Decimal("10.4995"), Decimal(0))  # 0.5 bought, maker fee 0.0005 BTC
    assert bal["USDT"] == (Decimal(85000), Decimal(0))
    _, trades, _ = await a.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert len(trades) == 1 and trades[0]["isMaker"] is True and trades[0]["isBuyer"] is True
    _, acct_b, _ = await b.call("GET", "/api/v3/account")
    assert _balances(acct_b)["USDT"][1] == Decimal("0.3") * 30000  # what is still resting stays locked
    _, opens, _ = await b.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert [o["clientOrderId"] for o in opens] == ["b1"]
    # Cancels: the first succeeds and releases funds; a second is an unknown order, never a crash.
    status, cancel, _ = await b.call("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="b1")
    assert status == 200 and cancel["status"] == "CANCELED" and cancel["origClientOrderId"] == "b1"
    status, again, _ = await b.call("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="b1")
    assert (status, again["code"]) == (400, -2011)
    _, acct_b, _ = await b.call("GET", "/api/v3/account")
    assert _balances(acct_b)["USDT"][1] == 0
    assert o3["status"] == "NEW"


async def test_order_types_and_rejections(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    a, c = Rest(http, quiet.rest_url), Rest(http, quiet.rest_url, key="keyc", secret="secretc")
    await a.order(
        side="SELL", type="LIMIT", timeInForce="GTC", price="31000", quantity="0.2", newClientOrderId="ask"
    )
    status, dup, _ = await a.order(
        side="SELL", type="LIMIT", timeInForce="GTC", price="31000", quantity="0.2", newClientOrderId="ask"
    )
    assert (status, dup["code"], dup["msg"]) == (400, -2010, "Duplicate order sent.")
    status, maker, _ = await c.order(side="BUY", type="LIMIT_MAKER", price="31000", quantity="0.1")
    assert (status, maker["code"]) == (400, -2010)
    _, fok, _ = await c.order(side="BUY", type="LIMIT", timeInForce="FOK", price="31000", quantity="0.3")
    assert (fok["status"], fok["executedQty"]) == ("EXPIRED", "0.00000000")
    _, ioc, _ = await c.order(side="BUY", type="LIMIT", timeInForce="IOC", price="31000", quantity="0.3")
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.20000000")
    _, acct, _ = await c.call("GET", "/api/v3/account")
    assert _balances(acct)["USDT"][1] == 0  # the IOC's unfilled part released its reservation
    for params, code in (
        ({"price": "30000.001", "quantity": "0.1"}, -1013),  # off tick
        ({"price": "30000", "quantity": "0.000001"}, -1013),  # off step
        ({"price": "1", "quantity": "0.1"}, -1013),  # under min notional
        ({"price": "30000", "quantity": "50"}, -2010),  # insufficient balance
        ({"price": "abc", "quantity": "0.1"}, -1100),
    ):
        status, body, _ = await c.order(side="BUY", type="LIMIT", timeInForce="GTC", **params)
        assert (status, body["code"]) == (400, code), params
    status, body, _ = await c.order(side="BUY", type="MARKET", quantity="0.1")
    assert (status, body["code"]) == (400, -2010)  # no asks left: market closed


async def test_rate_limit_headers_429_then_418_ban(http: aiohttp.ClientSession) -> None:
    config = quiet_config()
    config.limits.weight_per_minute = 12
    sim = await _sim(config)
    try:
        rest = Rest(http, sim.rest_url)
        weights = []
        for _ in range(2):
            status, _, headers = await rest.call(
                "GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=10
            )
            weights.append(int(headers["X-MBX-USED-WEIGHT-1M"]))
        assert weights == [5, 10]
        status, body, headers = await rest.call(
            "GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=10
        )
        assert status == 429 and body["code"] == -1003 and int(headers["Retry-After"]) > 0
        statuses = [(await rest.call("GET", "/api/v3/ping", signed=False))[0] for _ in range(3)]
        assert statuses == [429, 429, 418]  # ignoring Retry-After gets the IP banned
        status, body, headers = await rest.call("GET", "/api/v3/ping", signed=False)
        assert status == 418 and "banned until" in body["msg"] and int(headers["Retry-After"]) > 0
    finally:
        await sim.stop()


async def test_injected_429_and_418(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    rest = Rest(http, quiet.rest_url)
    quiet.config.faults.force_429 = 1
    assert (await rest.call("GET", "/api/v3/ping", signed=False))[0] == 429
    quiet.config.limits.retry_after_s = 0
    quiet.binance.ips.clear()
    assert (await rest.call("GET", "/api/v3/ping", signed=False))[0] == 200
    quiet.config.faults.force_418 = 1
    assert (await rest.call("GET", "/api/v3/ping", signed=False))[0] == 418
    assert (await rest.call("GET", "/api/v3/ping", signed=False))[0] == 418  # the ban lasts


async def test_order_count_limit(http: aiohttp.ClientSession) -> None:
    config = quiet_config()
    config.limits.orders_per_10s = 2
    async with SimExchange(config) as sim:
        rest = Rest(http, sim.rest_url)
        codes = []
        for i in range(3):
            status, body, _ = await rest.order(
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                price="20000",
                quantity="0.01",
                newClientOrderId=f"n{i}",
            )
            codes.append(status if status == 200 else body["code"])
        # -1015 unless the three requests straddled a 10 s window boundary
        assert codes[:2] == [200, 200] and codes[2] in (-1015, 200)
        _, opens, _ = await rest.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
        assert len(opens) == (3 if codes[2] == 200 else 2)


async def test_5xx_after_accept_leaves_the_order_on_the_book(
    quiet: SimExchange, http: aiohttp.ClientSession
) -> None:
    rest = Rest(http, quiet.rest_url)
    quiet.config.faults.fail_after_accept = 1
    status, body, _ = await rest.order(
        side="BUY", type="LIMIT", timeInForce="GTC", price="29000", quantity="0.1", newClientOrderId="lost1"
    )
    assert (status, body["code"]) == (503, -1007)
    status, order, _ = await rest.call("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="lost1")
    assert status == 200 and order["status"] == "NEW"
    status, body, _ = await rest.order(
        side="BUY", type="LIMIT", timeInForce="GTC", price="29000", quantity="0.1", newClientOrderId="lost1"
    )
    assert (status, body["code"]) == (400, -2010)  # a blind retry with the same id is refused


async def test_timeout_after_accept_and_delayed_ack(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    rest = Rest(http, quiet.rest_url)
    quiet.config.faults.fail_after_accept = 1
    quiet.config.faults.fail_mode = "timeout"
    quiet.config.faults.timeout_s = 1.0
    with pytest.raises(TimeoutError):
        await rest.order(
            timeout=0.2,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="29000",
            quantity="0.1",
            newClientOrderId="slow1",
        )
    _, order, _ = await rest.call("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="slow1")
    assert order["status"] == "NEW"
    quiet.config.faults.ack_delay_s = 0.5
    placing = asyncio.create_task(
        rest.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="29001",
            quantity="0.1",
            newClientOrderId="late1",
        )
    )
    await asyncio.sleep(0.2)
    quiet.config.faults.ack_delay_s = 0.0
    _, opens, _ = await rest.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert "late1" in [o["clientOrderId"] for o in opens] and not placing.done()  # live before its ack
    status, ack, _ = await placing
    assert status == 200 and ack["clientOrderId"] == "late1"


async def test_partial_fill_fault_caps_each_trade(quiet: SimExchange, http: aiohttp.ClientSession) -> None:
    quiet.config.faults.partial_fill_lots = 1000  # 0.01 BTC per trade
    a, c = Rest(http, quiet.rest_url), Rest(http, quiet.rest_url, key="keyc", secret="secretc")
    _, bid, _ = await a.order(side="BUY", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.05")
    _, sell, _ = await c.order(side="SELL", type="LIMIT", timeInForce="GTC", price="29999", quantity="0.03")
    # The taker goes on trade by trade against the capped bid, and does not rest across it.
    assert (sell["status"], sell["executedQty"]) == ("FILLED", "0.03000000")
    assert [f["qty"] for f in sell["fills"]] == ["0.01000000"] * 3
    _, q, _ = await a.call("GET", "/api/v3/order", symbol="BTCUSDT", orderId=bid["orderId"])
    assert (q["status"], q["executedQty"]) == ("PARTIALLY_FILLED", "0.03000000")
    _, trades, _ = await a.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert [t["qty"] for t in trades] == ["0.01000000"] * 3
    _, depth, _ = await a.call("GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=5)
    assert depth["bids"] == [["30000.00000000", "0.02000000"]] and depth["asks"] == []


async def test_snapshot_delay_dropped_duplicated_frames_and_disconnects(http: aiohttp.ClientSession) -> None:
    config = busy_config()
    config.faults.snapshot_delay_s = 0.3
    config.faults.drop_diff_prob = 0.2
    config.faults.dup_diff_prob = 0.2
    config.faults.disconnect_after_frames = 80
    async with (
        SimExchange(config) as sim,
        websockets.connect(f"{sim.ws_url}/stream?streams=btcusdt@depth@100ms") as ws,
    ):
        _, snap, _ = await Rest(http, sim.rest_url).call(
            "GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=100
        )
        events = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                events.append(orjson.loads(await asyncio.wait_for(ws.recv(), 5))["data"])
        assert len(events) == 80  # cut after exactly the configured number of frames
        assert (
            events[0]["U"] > snap["lastUpdateId"] + 1 or events[-1]["u"] > snap["lastUpdateId"]
        )  # stale on arrival
        steps = [(b["U"] - a["u"]) for a, b in itertools.pairwise(events)]
        assert any(s > 1 for s in steps), "a dropped frame shows as a gap in U/u"
        assert any(a == b for a, b in itertools.pairwise(events)), "a duplicated frame repeats"
        assert all(s >= 1 or s == a["U"] - a["u"] for s, a in zip(steps, events, strict=False))
