"""A plain Python book: orjson, float keys and a ``SortedDict`` per side (bids keyed by -price)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sortedcontainers
from sortedcontainers import SortedDict

from bench.books import Runner

NAME = "dict + sortedcontainers"
ROLE = "peer"
REQUIRES = ("sortedcontainers",)
IMPORTS = ("sortedcontainers",)  # imported before the memory baseline


def version() -> str:
    return f"sortedcontainers {sortedcontainers.__version__}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    body = orjson.loads(snapshot)
    bids = SortedDict({-float(p): float(q) for p, q in body["bids"]})
    asks = SortedDict({float(p): float(q) for p, q in body["asks"]})

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        loads = orjson.loads
        bid = ask = float("nan")
        for frame in frames:
            data = loads(frame)["data"]
            for p, q in data["b"]:
                qty = float(q)
                if qty == 0.0:
                    bids.pop(-float(p), None)
                else:
                    bids[-float(p)] = qty
            for p, q in data["a"]:
                qty = float(q)
                if qty == 0.0:
                    asks.pop(float(p), None)
                else:
                    asks[float(p)] = qty
            bid = -bids.peekitem(0)[0]
            ask = asks.peekitem(0)[0]
        return (bid, ask)

    return run
