"""wisetrader through its Python API in batches: ``MarketData.feed_batch`` then the batch's top changes."""

from __future__ import annotations

from collections.abc import Sequence

from bench.books import Runner
from bench.books._wisetrader import best_floats, synced_market, unavailable

NAME = "wisetrader (Python API, batches of 1,000)"
ROLE = "ours"
REQUIRES = ("wisetrader",)
IMPORTS = ("wisetrader._core",)
BATCH = 1000
__all__ = ["IMPORTS", "NAME", "REQUIRES", "ROLE", "make", "unavailable", "version"]


def version() -> str:
    import wisetrader

    return f"wisetrader {wisetrader.__version__}"


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    md, symbol = synced_market(snapshot, frames)
    recv = [0] * BATCH

    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        feed_batch = md.feed_batch
        changed = 0
        for i in range(0, len(frames), BATCH):
            chunk = list(frames[i : i + BATCH])
            # Every top-of-book change of the batch, one row per change (built when read).
            changed += len(feed_batch(chunk, recv[: len(chunk)]).tops)
        assert changed > 0
        return best_floats(md, symbol)

    return run
