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


def feed_all(
    payloads: list[bytes], times: list[int], batch: int, venue: str, read_tops: bool
) -> tuple[float, float, int]:
    """One timed pass through a fresh ``MarketData``: (wall s, CPU s, top-of-book changes)."""
    md = MarketData(venue)
    md.add_instrument("BTCUSDT", "0.01", "0.00001")
    md.set_snapshot_symbol("BTCUSDT")
    tops = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(payloads), batch):
        changes = md.feed_batch(payloads[i : i + batch], times[i : i + batch])
        tops += len(changes.tops) if read_tops else changes.count("tops")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    c = md.counters()
    assert c["gaps"] == 0 and c["errors"] == 0 and md.state("BTCUSDT") == ("synced", None), c
    return wall, cpu, tops


def measure(
    frames: int, batch: int, seed: int = 1, usdm: bool = False, read_tops: bool = False, repeat: int = 3
) -> dict[str, float]:
    """Best of ``repeat`` passes (least disturbed by other load); ``read_tops`` also builds every
    top-of-book tuple in Python."""
    data = list(generate(frames, seed, usdm=usdm))
    venue = "binance-usdm" if usdm else "binance-spot"
    payloads = [p for _, p in data]
    times = [t for t, _ in data]
    total_bytes = sum(len(p) for p in payloads)
    runs = [feed_all(payloads, times, batch, venue, read_tops) for _ in range(repeat)]
    wall = min(r[0] for r in runs)
    cpu = min(r[1] for r in runs)
    return {
        "frames": float(len(payloads)),
        "seconds": wall,
        "frames_per_s": len(payloads) / wall,
        "cpu_seconds": cpu,
        "frames_per_cpu_s": len(payloads) / cpu,
        "ns_per_frame": cpu * 1e9 / len(payloads),
        "mb_per_s": total_bytes / cpu / 1e6,
        "tops": float(runs[0][2]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--usdm", action="store_true")
    ap.add_argument("--read-tops", action="store_true", help="also materialise every top-of-book change")
    args = ap.parse_args()
    r = measure(args.frames, args.batch, usdm=args.usdm, read_tops=args.read_tops)
    print(
        f"{int(r['frames']):,} frames, best of 3: {r['frames_per_s']:,.0f} frames/s wall, "
        f"{r['frames_per_cpu_s']:,.0f} frames per CPU second, "
        f"{r['ns_per_frame']:.0f} CPU ns/frame, {r['mb_per_s']:.0f} MB per CPU s, "
        f"{int(r['tops']):,} top-of-book changes"
    )


if __name__ == "__main__":
    main()
