"""ccxt pro's order book classes (``ccxt.async_support.base.ws.order_book``), fed as ccxt's Binance
handler feeds them: each level's price and amount as floats into ``bookside.store``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from bench.books import Runner

NAME = "ccxt pro OrderBook"
ROLE = "peer"
REQUIRES = ("ccxt",)
IMPORTS = ("ccxt.async_support.base.ws.order_book",)  # imported before the memory baseline


def version() -> str:
    import ccxt

    return f"ccxt {ccxt.__version__}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    from ccxt.async_support.base.ws.order_book import OrderBook

    body = orjson.loads(snapshot)
    book: Any = OrderBook(
        {
            "bids": [[float(p), float(q)] for p, q in body["bids"]],
            "asks": [[float(p), float(q)] for p, q in body["asks"]],
            "nonce": body["lastUpdateId"],
        }
    )
    bids, asks = book["bids"], book["asks"]

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        loads = orjson.loads
        bid = ask = float("nan")
        for frame in frames:
            data = loads(frame)["data"]
            for p, q in data["a"]:
                asks.store(float(p), float(q))
            for p, q in data["b"]:
                bids.store(float(p), float(q))
            book["nonce"] = data["u"]
            bid = bids[0][0]
            ask = asks[0][0]
        return (bid, ask)

    return run
