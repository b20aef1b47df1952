"""Seeded generator of a synthetic Binance diff-depth stream, written as a recording.

The stream is one REST snapshot line followed by ``depthUpdate`` frames in the combined-stream
wrapper, contiguous ids (spot: ``U == previous u + 1``; USD-M: ``pu == previous u``), with 1-8 level
changes per frame concentrated near the touch and a random-walking mid; a level that would cross the
book after the mid moves is deleted first, so the book never crosses. Same seed, same bytes.

    python -m bench.gen_depth --frames 1000000 --out target/bench/BTCUSDT.rec
    wisetrader replay target/bench/BTCUSDT.rec --venue binance-spot

``generate()`` is the reusable part (yields ``(recv_ns, payload)``); the symbol defaults to BTCUSDT
on the bundled grid (tick 0.01, lot 0.00001).
"""

from __future__ import annotations

import argparse
import gzip
import random
from collections.abc import Iterator
from pathlib import Path

import orjson

START_NS = 1_700_000_000_000_000_000


def _px(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}"


def _qty(lots: int) -> str:
    return f"{lots // 100_000}.{lots % 100_000:05d}"


def generate(
    frames: int, seed: int = 1, symbol: str = "BTCUSDT", usdm: bool = False, depth: int = 1000
) -> Iterator[tuple[int, bytes]]:
    """Snapshot line then ``frames`` diff frames, as ``(recv_ns, payload)``."""
    rng = random.Random(seed)
    mid = 3_000_000  # 30000.00 in ticks of 0.01
    bids = {mid - k: rng.randint(1, 500_000) for k in range(1, depth + 1)}
    asks = {mid + k: rng.randint(1, 500_000) for k in range(1, depth + 1)}
    last_id = 1_000_000
    ns = START_NS

    def levels(book: dict[int, int]) -> list[list[str]]:
        return [[_px(p), _qty(q)] for p, q in book.items()]

    snap = {"lastUpdateId": last_id, "bids": levels(bids), "asks": levels(asks)}
    yield ns, orjson.dumps(snap)
    stream = f"{symbol.lower()}@depth@100ms"
    for _ in range(frames):
        ns += rng.randint(50_000, 2_000_000)
        b: dict[int, int] = {}
        a: dict[int, int] = {}
        if rng.random() < 0.05:
            mid += rng.choice((-2, -1, 1, 2))
            for p in [p for p in bids if p >= mid]:
                del bids[p]
                b[p] = 0
            for p in [p for p in asks if p <= mid]:
                del asks[p]
                a[p] = 0
        for _ in range(rng.randint(1, 8)):
            dist = 1 + min(int(rng.expovariate(0.25)), depth)
            qty = 0 if rng.random() < 0.3 else rng.randint(1, 500_000)
            book, out, px = (bids, b, mid - dist) if rng.random() < 0.5 else (asks, a, mid + dist)
            out[px] = qty
            if qty:
                book[px] = qty
            else:
                book.pop(px, None)
        first = last_id + 1
        last_id += rng.randint(1, 5)
        data: dict[str, object] = {
            "e": "depthUpdate",
            "E": ns // 1_000_000,
            "s": symbol,
            "U": first,
            "u": last_id,
        }
        if usdm:
            data["T"] = ns // 1_000_000
            data["pu"] = first - 1
        data["b"] = [[_px(p), _qty(q)] for p, q in b.items()]
        data["a"] = [[_px(p), _qty(q)] for p, q in a.items()]
        yield ns, orjson.dumps({"stream": stream, "data": data})


def write(path: Path, frames: int, seed: int = 1, symbol: str = "BTCUSDT", usdm: bool = False) -> Path:
    """Write a recording (gzip when the name ends in .gz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        for ns, payload in generate(frames, seed, symbol, usdm):
            f.write(b"%d %s\n" % (ns, payload))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--usdm", action="store_true", help="USD-M shape (pu, T) instead of spot")
    ap.add_argument("--out", type=Path, default=Path("target/bench/BTCUSDT.rec"))
    args = ap.parse_args()
    print(write(args.out, args.frames, args.seed, args.symbol, args.usdm))


if __name__ == "__main__":
    main()
