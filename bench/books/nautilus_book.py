"""nautilus_trader's ``OrderBook`` (L2 MBP) through its Python API: ``Price``/``Quantity`` parsed from the
strings, ``update`` to set a level and ``delete`` on zero size, as its Binance adapter's deltas do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from bench.books import Runner

NAME = "nautilus_trader OrderBook"
ROLE = "peer"
REQUIRES = ("nautilus_trader",)
IMPORTS = (
    "nautilus_trader.model.book",
    "nautilus_trader.model.data",
    "nautilus_trader.model.objects",
)


def version() -> str:
    import nautilus_trader

    return f"nautilus_trader {nautilus_trader.__version__}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    body = orjson.loads(snapshot)
    book: Any = OrderBook(InstrumentId.from_str("BTCUSDT.BINANCE"), BookType.L2_MBP)
    seq = int(body["lastUpdateId"])
    for side, key in ((OrderSide.BUY, "bids"), (OrderSide.SELL, "asks")):
        for p, q in body[key]:
            book.add(BookOrder(side, Price.from_str(p), Quantity.from_str(q), 0), 0, 0, seq)

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        loads = orjson.loads
        price_of, qty_of = Price.from_str, Quantity.from_str
        update, delete = book.update, book.delete
        sides = ((OrderSide.BUY, "b"), (OrderSide.SELL, "a"))
        bid = ask = float("nan")
        for frame in frames:
            data = loads(frame)["data"]
            seq = data["u"]
            ts = data["E"] * 1_000_000
            for side, key in sides:
                for p, q in data[key]:
                    qty = qty_of(q)
                    order = BookOrder(side, price_of(p), qty, 0)
                    if qty.raw == 0:
                        delete(order, ts, 0, seq)
                    else:
                        update(order, ts, 0, seq)
            bid = book.best_bid_price().as_double()
            ask = book.best_ask_price().as_double()
        return (bid, ask)

    return run
