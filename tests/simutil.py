"""Helpers for tests against the local exchange simulator: signed Binance, Bybit v5 and OKX v5 REST
clients (what a user's own script would send), book assembly."""

from __future__ import annotations

import time
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from wisetrader.sim import SimConfig, SymbolSpec
from wisetrader.sim.config import AccountSpec, MarketSpec
from wisetrader.venues import bybit, okx
from wisetrader.venues.binance import sign


def quiet_config(**kw: Any) -> SimConfig:
    """A simulator with no market maker and no crowd: only the test's own orders are in the book."""
    accounts = [
        AccountSpec(
            name=n,
            api_key=f"key{n}",
            secret=f"secret{n}",
            passphrase=f"pass{n}",
            balances={"USDT": Decimal(100000), "BTC": Decimal(10)},
        )
        for n in ("a", "b", "c")
    ]
    return SimConfig(
        symbols=[SymbolSpec(symbol="BTCUSDT", base="BTC", quote="USDT")],
        accounts=accounts,
        market=MarketSpec(levels=0, taker_prob=0.0, tick_interval_s=0.02),
        **kw,
    )


def busy_config(**kw: Any) -> SimConfig:
    return SimConfig(market=MarketSpec(tick_interval_s=0.02), **kw)


class Rest:
    """A minimal signed Binance REST client (what a user's own script would do)."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, key: str = "keya", secret: str = "secreta"
    ) -> None:
        self.http, self.base, self.key, self.secret = http, base, key, secret

    async def call(
        self, method: str, path: str, signed: bool = True, timeout: float = 10.0, **params: Any
    ) -> tuple[int, Any, Any]:
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        headers = {}
        if signed:
            query = (
                f"{query}&timestamp={int(time.time() * 1000)}"
                if query
                else f"timestamp={int(time.time() * 1000)}"
            )
            query += f"&signature={sign(self.secret, query)}"
            headers["X-MBX-APIKEY"] = self.key
        async with self.http.request(
            method,
            f"{self.base}{path}?{query}",
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as r:
            return r.status, orjson.loads(await r.read()), r.headers

    async def order(self, **params: Any) -> tuple[int, Any, Any]:
        params.setdefault("symbol", "BTCUSDT")
        return await self.call("POST", "/api/v3/order", **params)


def _json_or_text(raw: bytes) -> Any:
    """The venue's JSON, or the text of what a gateway answered instead (a 503 page)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace")


class BybitRest:
    """A minimal signed Bybit v5 REST client."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, key: str = "keya", secret: str = "secreta"
    ) -> None:
        self.http, self.base, self.key, self.secret = http, base, key, secret

    async def call(
        self, method: str, path: str, ts_offset_ms: int = 0, secret: str | None = None, **params: Any
    ) -> tuple[int, Any]:
        ts = int(time.time() * 1000) + ts_offset_ms
        if method == "POST":
            payload = orjson.dumps(params).decode()
            url, data = f"{self.base}{path}", payload
        else:
            payload = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
            url, data = f"{self.base}{path}?{payload}", None
        headers = {
            "X-BAPI-API-KEY": self.key,
            "X-BAPI-TIMESTAMP": str(ts),
            "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": bybit.sign(secret or self.secret, ts, self.key, 5000, payload),
            "Content-Type": "application/json",
        }
        async with self.http.request(method, url, data=data, headers=headers) as r:
            return r.status, _json_or_text(await r.read())

    async def order(self, **params: Any) -> tuple[int, Any]:
        body = {"category": "spot", "symbol": "BTCUSDT", "timeInForce": "GTC", **params}
        return await self.call("POST", "/v5/order/create", **body)


class OkxRest:
    """A minimal signed OKX v5 REST client."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base: str,
        key: str = "keya",
        secret: str = "secreta",
        passphrase: str = "passa",
    ) -> None:
        self.http, self.base, self.key, self.secret, self.passphrase = http, base, key, secret, passphrase

    async def call(
        self,
        method: str,
        path: str,
        ts_offset_ms: int = 0,
        passphrase: str | None = None,
        json_body: Any = None,
        **params: Any,
    ) -> tuple[int, Any]:
        now = datetime.fromtimestamp(time.time() + ts_offset_ms / 1000, UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        body = ""
        if method == "POST":
            body = orjson.dumps(params if json_body is None else json_body).decode()
        elif params:
            path += "?" + urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        headers = {
            "OK-ACCESS-KEY": self.key,
            "OK-ACCESS-PASSPHRASE": passphrase if passphrase is not None else self.passphrase,
            "OK-ACCESS-TIMESTAMP": stamp,
            "OK-ACCESS-SIGN": okx.sign(self.secret, stamp, method, path, body),
            "Content-Type": "application/json",
        }
        async with self.http.request(method, f"{self.base}{path}", data=body or None, headers=headers) as r:
            return r.status, _json_or_text(await r.read())

    async def order(self, **params: Any) -> tuple[int, Any]:
        body = {"instId": "BTC-USDT", "tdMode": "cash", "ordType": "limit", **params}
        return await self.call("POST", "/api/v5/trade/order", **body)


async def place_limit(
    http: aiohttp.ClientSession,
    base: str,
    venue: str,
    side: str,
    price: str,
    qty: str,
    cid: str,
    account: str = "a",
) -> None:
    """A resting limit order entered on ``venue`` by ``account`` of ``quiet_config`` (a user's own script)."""
    if venue == "bybit":
        bybit_rest = BybitRest(http, base, f"key{account}", f"secret{account}")
        status, body = await bybit_rest.order(
            side=side.capitalize(), orderType="Limit", qty=qty, price=price, orderLinkId=cid
        )
        assert body["retCode"] == 0, body
    elif venue == "okx":
        okx_rest = OkxRest(http, base, f"key{account}", f"secret{account}", f"pass{account}")
        status, body = await okx_rest.order(side=side.lower(), sz=qty, px=price, clOrdId=cid)
        assert body["code"] == "0", body
    else:
        status, body, _ = await Rest(http, base, f"key{account}", f"secret{account}").order(
            side=side.upper(),
            type="LIMIT",
            timeInForce="GTC",
            price=price,
            quantity=qty,
            newClientOrderId=cid,
        )
    assert status == 200, body


def apply_levels(
    book: dict[str, dict[Decimal, Decimal]], bids: list[list[str]], asks: list[list[str]]
) -> None:
    for side, levels in (("b", bids), ("a", asks)):
        for level in levels:
            price, qty = Decimal(level[0]), Decimal(level[1])
            if qty == 0:
                book[side].pop(price, None)
            else:
                book[side][price] = qty
