"""Frames per second of the market-data core through Python, on a synthetic Binance diff stream.

Frames are generated in memory first (``bench/gen_depth.py``), so this times only
``MarketData.feed_batch`` (one crossing per batch, GIL released) plus reading the changes' counts.
Both wall-clock and process CPU time are reported: on a shared machine the CPU figure is the one
that says what one core does.

    python -m bench.core_throughput --frames 1000000 --batch 4096
"""

from __future__ import annotations

import argparse
import time

from wisetrader._core import MarketData

from bench.gen_depth import generate


def measure(frames: int, batch: int, seed: int = 1, usdm: bool = False) -> dict[str, float]:
    data = list(generate(frames, seed, usdm=usdm))
    venue = "binance-usdm" if usdm else "binance-spot"
    md = MarketData(venue)
    md.add_instrument("BTCUSDT", "0.01", "0.00001")
    md.set_snapshot_symbol("BTCUSDT")
    payloads = [p for _, p in data]
    times = [t for t, _ in data]
    total_bytes = sum(len(p) for p in payloads)
    tops = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(payloads), batch):
        tops += len(md.feed_batch(payloads[i : i + batch], times[i : i + batch]).tops)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    c = md.counters()
    assert c["gaps"] == 0 and c["errors"] == 0 and md.state("BTCUSDT") == ("synced", None), c
    return {
        "frames": float(len(payloads)),
        "seconds": seconds,
        "frames_per_s": len(payloads) / seconds,
        "cpu_seconds": cpu,
        "frames_per_cpu_s": len(payloads) / cpu,
        "ns_per_frame": seconds * 1e9 / len(payloads),
        "mb_per_s": total_bytes / seconds / 1e6,
        "tops": float(tops),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--usdm", action="store_true")
    args = ap.parse_args()
    r = measure(args.frames, args.batch, usdm=args.usdm)
    print(
        f"{int(r['frames']):,} frames in {r['seconds']:.3f} s: {r['frames_per_s']:,.0f} frames/s wall, "
        f"{r['frames_per_cpu_s']:,.0f} frames per CPU second, "
        f"{r['ns_per_frame']:.0f} ns/frame, {r['mb_per_s']:.0f} MB/s, {int(r['tops']):,} top-of-book changes"
    )


if __name__ == "__main__":
    main()
