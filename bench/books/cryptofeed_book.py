"""cryptofeed's order book (``cryptofeed.types.OrderBook`` over the ``order_book`` C extension), fed as
cryptofeed's Binance handler feeds it: ``Decimal`` prices and amounts, delete on zero."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from bench.books import Runner

NAME = "cryptofeed OrderBook"
ROLE = "peer"
REQUIRES = ("cryptofeed", "order_book")
IMPORTS = ("cryptofeed.types",)  # imported before the memory baseline


def version() -> str:
    from importlib.metadata import version as dist_version

    return f"cryptofeed {dist_version('cryptofeed')}, order_book {dist_version('order_book')}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    from cryptofeed.types import OrderBook

    body = orjson.loads(snapshot)
    book: Any = OrderBook(
        "BINANCE",
        "BTC-USDT",
        max_depth=0,
        bids={Decimal(p): Decimal(q) for p, q in body["bids"]},
        asks={Decimal(p): Decimal(q) for p, q in body["asks"]},
    ).book
    sides = (("b", book.bids), ("a", book.asks))

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        loads = orjson.loads
        bid = ask = float("nan")
        for frame in frames:
            data = loads(frame)["data"]
            for key, side in sides:
                for p, q in data[key]:
                    price = Decimal(p)
                    amount = Decimal(q)
                    if amount == 0:
                        if price in side:
                            del side[price]
                    else:
                        side[price] = amount
            bid = float(book.bids.index(0)[0])
            ask = float(book.asks.index(0)[0])
        return (bid, ask)

    return run
