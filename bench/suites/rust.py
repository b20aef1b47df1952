"""Pure-Rust numbers: runs ``cargo bench`` (criterion) on ``rust_core`` and collects each benchmark's median.

Whatever criterion benches the core defines are reported, one row each (ns per iteration, lower is
better); with no benches, or no cargo, the suite says so instead of reporting numbers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import orjson

from bench.registry import REPO_ROOT, Context, Missing, Outcome, Result, Target, suite, target

CRATE = REPO_ROOT / "rust_core"
SUBJECT = "wisetrader core (pure Rust, criterion)"
TYPICAL_FRAME = "decode_apply/binance_spot_diff"  # rust_core/benches/decode_apply.rs
target(
    Target(
        "rust",
        "pure Rust: median < 1 us per typical frame",
        f"{SUBJECT}: {TYPICAL_FRAME}",
        "ns_per_iter",
        1000,
        False,
    )
)


def criterion_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target")) / "criterion"


def collect(since: float) -> list[Result]:
    """Rows for every criterion estimate written after ``since`` (older ones belong to earlier runs)."""
    rows = []
    for estimates in sorted(criterion_dir().glob("**/new/estimates.json")):
        if estimates.stat().st_mtime < since:
            continue
        meta = orjson.loads((estimates.parent / "benchmark.json").read_bytes())
        median = float(orjson.loads(estimates.read_bytes())["median"]["point_estimate"])
        rows.append(
            Result(
                suite="rust",
                case=str(meta["group_id"]),
                subject=f"{SUBJECT}: {meta['full_id']}",
                role="ours",
                metrics={"ns_per_iter": median, "per_s": 1e9 / median},
                primary="ns_per_iter",
                higher_is_better=False,
            )
        )
    return rows


@suite("rust", "cargo bench (criterion) on rust_core: median ns per iteration of each benchmark")
def rust(ctx: Context) -> Outcome:
    if shutil.which("cargo") is None:
        return Outcome(missing=[Missing("rust", SUBJECT, "cargo is not on PATH")])
    if not any((CRATE / "benches").glob("*.rs")):
        return Outcome(missing=[Missing("rust", SUBJECT, "rust_core/benches has no criterion benches yet")])
    timing = ["--warm-up-time", "0.5", "--measurement-time", "1"] if ctx.quick else []
    started = time.time()
    cmd = ["cargo", "bench", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml"), "--benches", "--"]
    proc = subprocess.run([*cmd, *timing], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return Outcome(missing=[Missing("rust", SUBJECT, f"cargo bench failed: {proc.stderr[-500:]}")])
    return Outcome(results=collect(started))
