"""wisetrader through its Python API, one frame per call: ``MarketData.feed`` then ``best``."""

from __future__ import annotations

from collections.abc import Sequence

from bench.books import Runner
from bench.books._wisetrader import best_floats, synced_market, unavailable

NAME = "wisetrader (Python API, per frame)"
ROLE = "ours"
REQUIRES = ("wisetrader",)
IMPORTS = ("wisetrader._core",)
__all__ = ["IMPORTS", "NAME", "REQUIRES", "ROLE", "make", "unavailable", "version"]


def version() -> str:
    import wisetrader

    return f"wisetrader {wisetrader.__version__}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    md, symbol = synced_market(snapshot, frames)

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        feed, best = md.feed, md.best
        for frame in frames:
            feed(frame, 0)
            best(symbol)  # the top of book as integer ticks and lots, what a trigger reads
        return best_floats(md, symbol)

    return run
