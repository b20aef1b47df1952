"""Cost of the engine's durable state (``engine/persistence.py``) on the order path.

Run: ``python -m bench.state_write [--dir DIR] [--n 200]``. Two grid bots as in the restart tests;
``snapshot`` is what the event loop spends per write (export + encode), ``durable`` what an order request
waits before it leaves (one atomic write: temp file, fsync, rename, fsync of the directory). Point
``--dir`` at the disk the state directory will live on.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml
from wisetrader.bots.model import core_args, parse_bot
from wisetrader.engine import Market, persistence
from wisetrader.engine.bots import BotStrategy

EXAMPLE = Path(__file__).parent.parent / "examples" / "bots" / "grid-btcusdt.yaml"


def _strategy() -> BotStrategy:
    markets = {
        ("binance", "BTCUSDT"): Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))
    }
    strategy = BotStrategy("demo", markets)
    for bot_id, (lower, upper, grids) in enumerate((("29960", "30040", 8), ("29900", "30100", 10)), start=1):
        spec = yaml.safe_load(EXAMPLE.read_text())
        spec.update(fee_rate="0", start_price="30000", lower=lower, upper=upper, grids=grids)
        strategy.add_bot("binance", "BTCUSDT", bot_id, *core_args(parse_bot(spec)))
    for engine in strategy.engines.values():
        engine.on_top(2999900, 3000100, 1)  # the bots place their orders: a state with open orders
    return strategy


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _measure(directory: str, n: int) -> None:
    strategy = _strategy()

    def snapshot() -> dict[str, object]:
        return persistence.snapshot(strategy.bots, strategy.engines, [], set())

    encode = []
    for _ in range(1000):
        t = time.perf_counter()
        data = persistence.encode(snapshot())
        encode.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory(dir=directory) as d:
        persister = persistence.StatePersister(Path(d) / persistence.FILE_NAME, snapshot)
        persister.start()
        durable = []
        for _ in range(n):
            t = time.perf_counter()
            await persister.durable()
            durable.append(time.perf_counter() - t)
        await persister.close()
    print(
        f"state file {len(data)} bytes; snapshot+encode in the loop: p50={_pct(encode, 0.5) * 1e6:.0f} us "
        f"p99={_pct(encode, 0.99) * 1e6:.0f} us; durable() before an order leaves ({directory}): "
        f"n={n} p50={_pct(durable, 0.5) * 1e3:.2f} ms p99={_pct(durable, 0.99) * 1e3:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=".", help="directory on the disk to measure (default: here)")
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(_measure(args.dir, args.n))


if __name__ == "__main__":
    main()
