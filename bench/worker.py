"""Measures one book subject in its own process: ``python -m bench.worker SUBJECT STREAM RUNS``.

A process per subject keeps peak memory attributable and stops one library's imports or allocator from
colouring another's numbers. Prints one JSON object: ns per frame of every run, resident memory before the
book was built and its peak after that (KiB), the subject's version and its last best bid/ask.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import resource
import sys
import time
from pathlib import Path

import orjson

from bench.books import load
from bench.streams.calibration import read_recording


def current_rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() // 1024


def reset_peak_rss() -> None:
    """Start a new high-water mark (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def peak_rss_kib() -> int:
    with contextlib.suppress(OSError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(subject: str, stream: Path, runs: int) -> dict[str, object]:
    module = load(subject)
    for name in module.IMPORTS:  # library code is not book memory
        importlib.import_module(name)
    payloads = list(read_recording(stream))
    snapshot, frames = payloads[0], payloads[1:]
    gc.collect()
    base_rss = current_rss_kib()
    reset_peak_rss()  # the peak from here on is the books' and the timed loops' own
    ns_per_frame: list[float] = []
    best = (math.nan, math.nan)
    for _ in range(runs):
        run = module.make(snapshot, frames)  # a fresh book each run; building it is not timed
        gc.collect()
        start = time.perf_counter_ns()
        best = run(frames)
        ns_per_frame.append((time.perf_counter_ns() - start) / len(frames))
        del run
    return {
        "subject": subject,
        "name": module.NAME,
        "role": module.ROLE,
        "version": module.version(),
        "frames": len(frames),
        "ns_per_frame": ns_per_frame,
        "base_rss_kib": base_rss,
        "peak_rss_kib": peak_rss_kib(),
        "best": [None if math.isnan(v) else v for v in best],
    }


def main(argv: list[str]) -> None:
    subject, stream, runs = argv
    sys.stdout.buffer.write(orjson.dumps(measure(subject, Path(stream), int(runs))) + b"\n")


if __name__ == "__main__":
    main(sys.argv[1:])
