"""Bybit v5 and OKX v5 order entry on the simulator, with real signed HTTP and WebSocket clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import orjson
import pytest
import websockets
from simutil import BybitRest, OkxRest, Rest, quiet_config
from wisetrader.sim import SimExchange
from wisetrader.sim.config import AccountSpec
from wisetrader.venues import bybit


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    config = quiet_config()
    config.accounts.append(
        AccountSpec(
            name="ro",
            api_key="keyro",
            secret="secretro",
            passphrase="passro",
            balances={"USDT": Decimal(1000)},
            enable_spot_and_margin_trading=False,
            enable_withdrawals=True,
        )
    )
    async with SimExchange(config) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_bybit_signed_requests_are_checked(sim: SimExchange, http: aiohttp.ClientSession) -> None:
    good = BybitRest(http, sim.rest_url)
    status, body = await good.call("GET", "/v5/account/wallet-balance", accountType="UNIFIED")
    assert status == 200 and body["retCode"] == 0
    coins = {c["coin"]: c for c in body["result"]["list"][0]["coin"]}
    assert coins["USDT"]["walletBalance"] == "100000" and coins["BTC"]["locked"] == "0"
    _, body = await good.call("GET", "/v5/account/wallet-balance", secret="wrong", accountType="UNIFIED")
    assert body["retCode"] == 10004 and body["retMsg"].startswith("error sign! origin_string[")
    _, body = await good.call(
        "GET", "/v5/account/wallet-balance", ts_offset_ms=-10_000, accountType="UNIFIED"
    )
    assert body["retCode"] == 10002 and "recv_window" in body["retMsg"]
    _, body = await good.call("GET", "/v5/account/wallet-balance", ts_offset_ms=2_000, accountType="UNIFIED")
    assert body["retCode"] == 10002  # more than 1 s ahead of the server
    status, body = await BybitRest(http, sim.rest_url, key="nokey").call("GET", "/v5/account/info")
    assert status == 401 and body["retCode"] == 10003
    # The signed payload is the raw JSON body: a body changed after signing fails.
    ts = int(time.time() * 1000)
    signed_body = orjson.dumps({"category": "spot", "symbol": "BTCUSDT", "orderId": "1"}).decode()
    headers = {
        "X-BAPI-API-KEY": "keya",
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": bybit.sign("secreta", ts, "keya", 5000, signed_body),
    }
    url = f"{sim.rest_url}/v5/order/cancel"
    async with http.post(url, data=signed_body.replace('"1"', '"2"'), headers=headers) as r:
        assert (await r.json())["retCode"] == 10004
    async with http.post(url, data=signed_body, headers=headers) as r:
        assert (await r.json())["retCode"] == 110001  # signed fine; the order does not exist


async def test_bybit_key_permissions_and_public_market_list(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    _, body = await BybitRest(http, sim.rest_url).call("GET", "/v5/user/query-api")
    key = body["result"]
    assert key["readOnly"] == 0 and key["permissions"]["Spot"] == ["SpotTrade"]
    assert "Withdraw" not in key["permissions"]["Wallet"] and key["uta"] == 1
    _, body = await BybitRest(http, sim.rest_url, "keyro", "secretro").call("GET", "/v5/user/query-api")
    assert body["result"]["readOnly"] == 1 and "Withdraw" in body["result"]["permissions"]["Wallet"]
    async with http.get(f"{sim.rest_url}/v5/market/instruments-info?category=spot") as r:
        listed = (await r.json())["result"]["list"]
    assert [
        (i["symbol"], i["lotSizeFilter"]["basePrecision"], i["priceFilter"]["tickSize"]) for i in listed
    ] == [("BTCUSDT", "0.00001", "0.01")]


async def test_bybit_order_lifecycle_and_real_error_codes(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    rest = BybitRest(http, sim.rest_url)
    _, body = await rest.order(side="Buy", orderType="Limit", qty="0.01", price="29000", orderLinkId="by-1")
    assert body["retCode"] == 0 and body["result"]["orderLinkId"] == "by-1"
    order_id = body["result"]["orderId"]
    _, dup = await rest.order(side="Buy", orderType="Limit", qty="0.01", price="29000", orderLinkId="by-1")
    assert (dup["retCode"], dup["retMsg"]) == (110072, "OrderLinkedID is duplicate")
    _, body = await rest.call("GET", "/v5/order/realtime", category="spot", orderLinkId="by-1")
    (listed,) = body["result"]["list"]
    assert (listed["orderId"], listed["orderStatus"], listed["leavesQty"], listed["price"]) == (
        order_id,
        "New",
        "0.01",
        "29000",
    )
    _, body = await rest.call(
        "POST", "/v5/order/cancel", category="spot", symbol="BTCUSDT", orderLinkId="by-1"
    )
    assert body["retCode"] == 0 and body["result"]["orderId"] == order_id
    _, again = await rest.call(
        "POST", "/v5/order/cancel", category="spot", symbol="BTCUSDT", orderLinkId="by-1"
    )
    assert again["retCode"] == 110001
    _, body = await rest.call("GET", "/v5/order/realtime", category="spot", symbol="BTCUSDT")
    assert body["result"]["list"] == []  # open orders only
    _, body = await rest.call("GET", "/v5/order/history", category="spot", symbol="BTCUSDT")
    assert [o["orderStatus"] for o in body["result"]["list"]] == ["Cancelled"]
    # A used orderLinkId stays used on Bybit, even after its order is gone.
    _, dup = await rest.order(side="Buy", orderType="Limit", qty="0.01", price="29000", orderLinkId="by-1")
    assert dup["retCode"] == 110072
    _, body = await rest.order(side="Buy", orderType="Limit", qty="0.000001", price="29000")
    assert body["retCode"] == 170137
    _, body = await rest.order(side="Buy", orderType="Limit", qty="0.01")
    assert (body["retCode"], body["retMsg"]) == (10001, "params error: price is required")
    _, body = await rest.order(side="Buy", orderType="Limit", qty="100", price="29000")
    assert body["retCode"] == 170131
    _, body = await rest.order(side="Buy", orderType="Market", qty="50")  # qty in USDT: not modelled
    assert body["retCode"] == 10001 and "marketUnit" in body["retMsg"]
    _, body = await BybitRest(http, sim.rest_url, "keyro", "secretro").order(
        side="Buy", orderType="Limit", qty="0.001", price="29000"
    )
    assert body["retCode"] == 10005


async def test_okx_signed_requests_are_checked(sim: SimExchange, http: aiohttp.ClientSession) -> None:
    good = OkxRest(http, sim.rest_url)
    status, body = await good.call("GET", "/api/v5/account/balance", ccy="USDT")
    assert status == 200 and body["code"] == "0"
    assert body["data"][0]["details"][0]["availBal"] == "100000"
    status, body = await OkxRest(http, sim.rest_url, secret="wrong").call("GET", "/api/v5/account/balance")
    assert (status, body["code"]) == (401, "50113")
    status, body = await good.call("GET", "/api/v5/account/balance", passphrase="wrong")
    assert (status, body["code"]) == (401, "50105")
    status, body = await good.call("GET", "/api/v5/account/balance", ts_offset_ms=-60_000)
    assert (status, body["code"]) == (401, "50102")
    status, body = await OkxRest(http, sim.rest_url, key="nokey").call("GET", "/api/v5/account/config")
    assert (status, body["code"]) == (401, "50111")
    _, body = await good.call("GET", "/api/v5/account/config")
    assert body["data"][0]["perm"] == "read_only,trade"
    _, body = await OkxRest(http, sim.rest_url, "keyro", "secretro", "passro").call(
        "GET", "/api/v5/account/config"
    )
    assert body["data"][0]["perm"] == "read_only,withdraw"
    async with http.get(f"{sim.rest_url}/api/v5/public/instruments?instType=SPOT") as r:
        (inst,) = (await r.json())["data"]
    assert (inst["instId"], inst["tickSz"], inst["lotSz"], inst["state"]) == (
        "BTC-USDT",
        "0.01",
        "0.00001",
        "live",
    )


async def test_okx_order_lifecycle_and_real_error_codes(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    rest = OkxRest(http, sim.rest_url)
    _, body = await rest.order(side="buy", sz="0.01", px="29000", clOrdId="ok1")
    assert body["code"] == "0" and body["data"][0]["sCode"] == "0"
    ord_id = body["data"][0]["ordId"]
    _, dup = await rest.order(side="buy", sz="0.01", px="29000", clOrdId="ok1")
    assert dup["code"] == "1" and (dup["data"][0]["sCode"], dup["data"][0]["sMsg"]) == (
        "51016",
        "Duplicated clOrdId",
    )
    _, body = await rest.call("GET", "/api/v5/trade/order", instId="BTC-USDT", clOrdId="ok1")
    assert (body["data"][0]["ordId"], body["data"][0]["state"], body["data"][0]["px"]) == (
        ord_id,
        "live",
        "29000",
    )
    _, body = await rest.call("GET", "/api/v5/trade/orders-pending", instType="SPOT")
    assert [o["clOrdId"] for o in body["data"]] == ["ok1"]
    _, body = await rest.call("POST", "/api/v5/trade/cancel-order", instId="BTC-USDT", clOrdId="ok1")
    assert body["code"] == "0" and body["data"][0]["ordId"] == ord_id
    _, again = await rest.call("POST", "/api/v5/trade/cancel-order", instId="BTC-USDT", clOrdId="ok1")
    assert again["code"] == "1" and again["data"][0]["sCode"] == "51400"
    _, body = await rest.call("GET", "/api/v5/trade/order", instId="BTC-USDT", clOrdId="ok1")
    assert body["data"][0]["state"] == "canceled"
    _, body = await rest.call("GET", "/api/v5/trade/order", instId="BTC-USDT", clOrdId="nope1")
    assert body["code"] == "51603" and body["data"] == []
    # On OKX a clOrdId is free again once its order is done.
    _, body = await rest.order(side="buy", sz="0.01", px="29000", clOrdId="ok1")
    assert body["code"] == "0"
    _, body = await rest.order(side="buy", sz="0.01", px="29000", clOrdId="bad-id")
    assert body["data"][0]["sCode"] == "51000"
    _, body = await rest.order(side="buy", px="29000")
    assert (body["data"][0]["sCode"], body["data"][0]["sMsg"]) == ("50014", "Parameter sz can not be empty")
    item = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "sz": "0.01",
        "px": "29000",
    }
    _, batch = await rest.call(
        "POST",
        "/api/v5/trade/batch-orders",
        json_body=[{**item, "clOrdId": "ok2"}, {**item, "clOrdId": "ok1"}],
    )
    assert batch["code"] == "2" and [d["sCode"] for d in batch["data"]] == ["0", "51016"]  # one of two placed
    _, body = await OkxRest(http, sim.rest_url, "keyro", "secretro", "passro").order(
        side="buy", sz="0.001", px="29000"
    )
    assert body["data"][0]["sCode"] == "50114"


async def test_orders_of_all_three_venues_meet_in_one_book(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    """A Bybit bid shows in Bybit's public book; an OKX sell fills it; each venue reports its own side."""
    bybit, okx = BybitRest(http, sim.rest_url), OkxRest(http, sim.rest_url, "keyb", "secretb", "passb")
    async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as ws:
        await ws.send(orjson.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}).decode())
        seen: list[dict] = []  # type: ignore[type-arg]

        async def until(pred: object) -> None:
            while True:
                msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5.0))
                seen.append(msg)
                if msg.get("topic") and pred(msg):  # type: ignore[operator]
                    return

        _, body = await bybit.order(
            side="Buy", orderType="Limit", qty="0.01", price="30000", orderLinkId="mine1"
        )
        assert body["retCode"] == 0
        await until(lambda m: ["30000.00000000", "0.01000000"] in m["data"]["b"])
        _, body = await okx.order(side="sell", ordType="ioc", sz="0.004", px="30000", clOrdId="taker1")
        assert body["code"] == "0"
        await until(lambda m: ["30000.00000000", "0.00600000"] in m["data"]["b"])
    _, body = await bybit.call("GET", "/v5/execution/list", category="spot", symbol="BTCUSDT")
    (fill,) = body["result"]["list"]
    assert (fill["orderLinkId"], fill["execPrice"], fill["execQty"], fill["isMaker"], fill["execFee"]) == (
        "mine1",
        "30000",
        "0.004",
        True,
        "0.000004",
    )
    _, body = await bybit.call("GET", "/v5/order/realtime", category="spot", orderLinkId="mine1")
    assert (body["result"]["list"][0]["orderStatus"], body["result"]["list"][0]["cumExecQty"]) == (
        "PartiallyFilled",
        "0.004",
    )
    _, body = await okx.call("GET", "/api/v5/trade/fills", instType="SPOT")
    (taker,) = body["data"]
    assert (taker["clOrdId"], taker["fillSz"], taker["execType"], taker["fee"], taker["feeCcy"]) == (
        "taker1",
        "0.004",
        "T",
        "-0.12",
        "USDT",
    )
    _, body = await okx.call("GET", "/api/v5/trade/order", instId="BTC-USDT", clOrdId="taker1")
    assert (body["data"][0]["state"], body["data"][0]["accFillSz"], body["data"][0]["avgPx"]) == (
        "filled",
        "0.004",
        "30000",
    )
    # Each venue lists only its own orders: Binance's open orders for account a are empty.
    _, body, _ = await Rest(http, sim.rest_url).call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert body == []


async def test_v5_faults_rate_limits_lost_answers_and_partial_fills(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    bybit, okx = BybitRest(http, sim.rest_url), OkxRest(http, sim.rest_url)
    faults = sim.config.faults
    faults.force_429 = 1
    async with http.get(f"{sim.rest_url}/v5/market/time") as r:
        body = await r.json()
        assert (
            r.status == 200
            and body["retCode"] == 10006
            and int(r.headers["X-Bapi-Limit-Reset-Timestamp"]) > 0
        )
    faults.force_429 = 1
    async with http.get(f"{sim.rest_url}/api/v5/public/time") as r:
        assert r.status == 429 and (await r.json())["code"] == "50011"
    # A lost answer: the order is on the book, the client saw a gateway 503; so was the next request.
    faults.fail_after_accept, faults.outage_after_fail = 1, 1
    status, _ = await bybit.call(
        "POST", "/v5/order/create", category="spot", symbol="BTCUSDT", side="Buy", orderType="Limit",
        qty="0.01", price="30000", orderLinkId="lost1",
    )  # fmt: skip
    assert status == 503
    status, _ = await okx.call("GET", "/api/v5/trade/orders-pending")
    assert status == 503
    _, body = await bybit.call("GET", "/v5/order/realtime", category="spot", orderLinkId="lost1")
    assert body["result"]["list"][0]["orderStatus"] == "New"
    _, body = await bybit.call(
        "POST", "/v5/order/cancel", category="spot", symbol="BTCUSDT", orderLinkId="lost1"
    )
    assert body["retCode"] == 0
    # Partial fills: a resting order placed now fills in trades of at most partial_fill_lots.
    faults.partial_fill_lots = 100  # 0.001 BTC
    _, body = await okx.order(side="buy", sz="0.01", px="30000", clOrdId="part1")
    assert body["code"] == "0"
    _, sold, _ = await Rest(http, sim.rest_url, "keyb", "secretb").order(
        side="SELL", type="MARKET", quantity="0.003"
    )
    assert [f["qty"] for f in sold["fills"]] == ["0.00100000"] * 3
    _, body = await okx.call("GET", "/api/v5/trade/order", instId="BTC-USDT", clOrdId="part1")
    assert (body["data"][0]["state"], body["data"][0]["accFillSz"]) == ("partially_filled", "0.003")


async def test_okx_ack_delay_the_order_is_live_before_its_answer(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    okx = OkxRest(http, sim.rest_url)
    sim.config.faults.ack_delay_s = 2.0
    placing = asyncio.create_task(okx.order(side="buy", sz="0.01", px="29000", clOrdId="late1"))
    pending: list[str] = []
    for _ in range(100):
        _, body = await okx.call("GET", "/api/v5/trade/orders-pending", instType="SPOT")
        pending = [o["clOrdId"] for o in body["data"]]
        if pending:
            break
        await asyncio.sleep(0.01)
    assert pending == ["late1"] and not placing.done()  # on the book, not yet acknowledged
    status, body = await placing
    assert status == 200 and body["data"][0]["clOrdId"] == "late1"
