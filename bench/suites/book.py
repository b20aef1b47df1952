"""Book path: raw Binance diff-depth frames -> decoded -> book updated -> best bid/ask read, per frame.

Every subject runs in its own process on the same frames (see ``bench.worker``): a long synthetic Binance
spot stream and the real NKNUSDT recording (its in-sync depth frames, replayed until long enough).
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
from pathlib import Path

import orjson

from bench.books import SUBJECTS, load, missing_requirement, wisetrader_batch, wisetrader_frame
from bench.registry import REPO_ROOT, Context, Missing, Outcome, Result, Target, suite, target
from bench.streams.calibration import read_recording
from bench.streams.generator import write_stream

target(Target("book", "Python API: >= 25x the best peer", wisetrader_frame.NAME, "ratio_to_best_peer", 25))
target(Target("book", "batches: >= 1,000,000 frames/s per core", wisetrader_batch.NAME, "frames_per_s", 1e6))

RECORDING = REPO_ROOT / "tests" / "data" / "recordings" / "binance-spot" / "NKNUSDT.rec"


def synthetic_stream(ctx: Context) -> Path:
    path = ctx.cache_dir / f"binance-spot-{ctx.frames}-seed{ctx.seed}.rec"
    return path if path.exists() else write_stream(path, "binance-spot", ctx.frames, ctx.seed)


def recorded_stream(ctx: Context, n_frames: int) -> Path:
    """The recording's snapshot and the in-sync depth frames after it, replayed to exactly ``n_frames``."""
    path = ctx.cache_dir / f"recorded-{RECORDING.stem}-{n_frames}.rec"
    if path.exists():
        return path
    snapshot: bytes | None = None
    last_id = 0
    frames: list[bytes] = []
    for payload in read_recording(RECORDING):
        msg = orjson.loads(payload)
        if "lastUpdateId" in msg:
            snapshot, last_id = payload, int(msg["lastUpdateId"])
        elif (
            snapshot is not None
            and msg.get("data", {}).get("e") == "depthUpdate"
            and msg["data"]["u"] > last_id
        ):
            frames.append(payload)
    if snapshot is None or not frames:
        raise RuntimeError(f"{RECORDING} holds no snapshot followed by depth frames")
    repeated = [frame for k in range(math.ceil(n_frames / len(frames))) for frame in renumber(frames, k)]
    repeated = repeated[:n_frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(b"0 %s\n" % p for p in [snapshot, *repeated]))
    return path


def renumber(frames: list[bytes], k: int) -> list[bytes]:
    """The ``k``-th replay of contiguous depth frames, with update ids moved on so the stream keeps chaining
    (a book that checks sequence numbers must apply a replay, not skip it as already seen)."""
    if k == 0:
        return frames
    first, last = orjson.loads(frames[0])["data"]["U"], orjson.loads(frames[-1])["data"]["u"]
    shift = k * (last - first + 1)
    out = []
    for frame in frames:
        msg = orjson.loads(frame)
        msg["data"]["U"] += shift
        msg["data"]["u"] += shift
        out.append(orjson.dumps(msg))
    return out


def run_subject(subject: str, stream: Path, runs: int) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", subject, str(stream), str(runs)],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{subject} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    raw = orjson.loads(proc.stdout)
    assert isinstance(raw, dict)
    return raw


def to_result(case: str, raw: dict[str, object]) -> Result:
    runs = [float(v) for v in raw["ns_per_frame"]]  # type: ignore[attr-defined]
    median = statistics.median(runs)
    peak, base = float(raw["peak_rss_kib"]), float(raw["base_rss_kib"])  # type: ignore[arg-type]
    return Result(
        suite="book",
        case=case,
        subject=str(raw["name"]),
        role=raw["role"],  # type: ignore[arg-type]
        metrics={
            "frames_per_s": 1e9 / median,
            "ns_per_frame": median,
            "peak_rss_mib": peak / 1024,
            "book_mib": max(0.0, peak - base) / 1024,
        },
        detail={
            "version": raw["version"],
            "frames": raw["frames"],
            "runs_ns_per_frame": runs,
            "best": raw["best"],
        },
    )


def check_agreement(results: list[Result]) -> None:
    """Every subject that keeps a book must end on the same best bid/ask as the first one."""
    books = [r for r in results if r.role != "floor"]
    for r in books:
        mine, first = r.detail["best"], books[0].detail["best"]
        assert isinstance(mine, list) and isinstance(first, list)
        r.detail["agrees"] = all(
            a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12)
            for a, b in zip(mine, first, strict=True)
        )


@suite("book", "Raw Binance depth frames -> decode -> book -> best bid/ask, per frame, ours and the peers'")
def book(ctx: Context) -> Outcome:
    out = Outcome()
    subjects = []
    for subject in SUBJECTS:
        module = load(subject)
        absent = missing_requirement(module)
        if absent is None:
            subjects.append(subject)
        else:
            out.missing.append(Missing("book", module.NAME, absent))
    cases = {
        f"binance-spot synthetic, {ctx.frames:,} frames": synthetic_stream(ctx),
        f"binance-spot recorded {RECORDING.stem}, {ctx.frames:,} frames": recorded_stream(ctx, ctx.frames),
    }
    for case, stream in cases.items():
        results = [to_result(case, run_subject(s, stream, ctx.runs)) for s in subjects]
        check_agreement(results)
        out.results += results
    return out
