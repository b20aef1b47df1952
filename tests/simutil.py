"""Helpers for tests against the local exchange simulator: a signed Binance REST client, book assembly."""

from __future__ import annotations

import time
import urllib.parse
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from wisetrader.sim import SimConfig, SymbolSpec
from wisetrader.sim.config import AccountSpec, MarketSpec
from wisetrader.venues.binance import sign


def quiet_config(**kw: Any) -> SimConfig:
    """A simulator with no market maker and no crowd: only the test's own orders are in the book."""
    accounts = [
        AccountSpec(
            name=n,
            api_key=f"key{n}",
            secret=f"secret{n}",
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
