"""Tick to order: a frame's arrival in Python -> a risk-checked order request handed to the executor.

``bench/engine_latency.py`` holds the measurement: the local exchange simulator (its own process) streams
Binance diff depth over a real WebSocket; the feed session hands frames to the core; each top-of-book change
goes to a strategy that emits one order intent; the risk gate checks it and the router hands it to an
executor that answers at once. uvloop, as in production. Percentiles over every order of one long run.
"""

from __future__ import annotations

import importlib.util

from bench.registry import Context, Missing, Outcome, Result, Target, suite, target

SUBJECT = "wisetrader engine: feed -> core -> strategy -> risk gate -> router"
target(Target("tick_to_order", "p99 < 100 us", SUBJECT, "p99_us", 100, False))


@suite(
    "tick_to_order", "Frame arrival in Python to a risk-checked order handed to the executor: p50/p99/p99.9"
)
def tick_to_order(ctx: Context) -> Outcome:
    if importlib.util.find_spec("uvloop") is None:
        return Outcome(missing=[Missing("tick_to_order", SUBJECT, "uvloop is not installed")])
    import uvloop

    from bench.engine_latency import run

    seconds, interval = (2.0, 0.01) if ctx.quick else (60.0, 0.005)
    engine = uvloop.run(run(seconds, tick_interval_s=interval))
    lat = engine.latency
    if not lat.samples:
        return Outcome(missing=[Missing("tick_to_order", SUBJECT, "the run handed no order to the executor")])
    case = f"simulator frame every {interval * 1000:g} ms for {seconds:g} s, one order per top change"
    metrics = {f"p{q * 100:g}_us": lat.percentile(q) for q in (0.5, 0.99, 0.999)}
    return Outcome(
        [
            Result(
                "tick_to_order",
                case,
                SUBJECT,
                "ours",
                {**metrics, "orders": float(len(lat.samples))},
                "p99_us",
                False,
                {"rejected": engine.rejected},
            )
        ]
    )
