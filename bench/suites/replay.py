"""Replay / backtest speed: frames/s through the core's book, a grid and a DCA bot and the paper matcher.

A long generated Binance spot stream (the book suite's, cached) is replayed from memory through
``MarketData`` and a ``PaperSession`` joined by ``PaperBook`` (as ``wisetrader`` replays a recording in
paper mode): every top-of-book change goes to the bots, their orders rest in the paper matcher and fill
against the book. Frame by frame (levels read at every change) and in batches of 1,000 frames (levels
read once per batch); the book alone, without bots, is the floor.
"""

from __future__ import annotations

import json
import time

from bench.registry import Context, Missing, Outcome, Result, Role, suite
from bench.streams.calibration import read_recording
from bench.streams.venues import VENUES
from bench.suites.book import synthetic_stream

SUBJECT = "wisetrader core + grid and DCA bots + paper matcher"
FLOOR = "wisetrader core alone (no bots)"
BATCH = 1_000
FEE = "0.0001"


def session_json() -> tuple[str, str, str]:
    """Instrument, grid and DCA specs around the generated stream's start price."""
    inst = VENUES["binance-spot"].instrument
    mid = inst.start_price_ticks
    instrument = {
        "tick_size": inst.price(1),
        "lot_step": inst.qty(1),
        "min_qty": inst.qty(1),
        "min_notional": "5",
        "base_asset": "BTC",
        "quote_asset": "USDT",
    }
    grid = {
        "lower": inst.price(mid * 99 // 100),
        "upper": inst.price(mid * 101 // 100),
        "grids": 40,
        "investment": {"quote": "20000"},
        "fee_rate": FEE,
    }
    dca = {
        "base_order": {"quote": "100"},
        "safety_order": {"quote": "100"},
        "price_deviation_pct": "0.05",
        "max_safety_orders": 5,
        "take_profit_pct": "0.05",
        "fee_rate": FEE,
    }
    return json.dumps(instrument), json.dumps(grid), json.dumps(dca)


def replay(frames: list[bytes], bots: bool, batch: int) -> tuple[float, dict[str, object]]:
    """Seconds to replay ``frames`` (one ``feed`` per frame when ``batch`` is 1) and what happened."""
    from wisetrader._core import MarketData, PaperSession
    from wisetrader.bots.paper import PaperBook

    symbol = VENUES["binance-spot"].instrument.symbol
    inst = VENUES["binance-spot"].instrument
    md = MarketData("binance-spot")
    md.add_instrument(symbol, inst.price(1), inst.qty(1))
    instrument, grid, dca = session_json()
    session = PaperSession(instrument, json.dumps({"maker_fee": FEE, "taker_fee": FEE}))
    if bots:
        session.add_bot(1, "grid", grid)
        session.add_bot(2, "dca", dca)
    book = PaperBook(md, symbol, session)
    apply = book.apply if bots else (lambda changes: changes)
    recv = list(range(1, len(frames) + 1))
    started = time.perf_counter()
    if batch == 1:
        for ns, frame in zip(recv, frames, strict=True):
            apply(md.feed(frame, ns))
    else:
        for i in range(0, len(frames), batch):
            apply(md.feed_batch(frames[i : i + batch], recv[i : i + batch]))
    elapsed = time.perf_counter() - started
    detail: dict[str, object] = {
        "tops": md.counters()["tops"],
        "intents": len(book.intents),
        "fills": len(book.fills),
    }
    return elapsed, detail


@suite(
    "replay", "Frames/s replaying a long generated stream through core + grid and DCA bots + paper matcher"
)
def replay_suite(ctx: Context) -> Outcome:
    try:
        import wisetrader._core  # noqa: F401
    except ImportError as e:
        return Outcome(missing=[Missing("replay", SUBJECT, f"the core is not built: {e}")])
    frames = list(read_recording(synthetic_stream(ctx)))
    case = f"generated Binance spot stream, {len(frames):,} frames"
    results = []
    subjects: list[tuple[str, Role, bool, int]] = [
        (f"{SUBJECT}, frame by frame", "ours", True, 1),
        (f"{SUBJECT}, batches of {BATCH:,}", "ours", True, BATCH),
        (FLOOR, "floor", False, 1),
    ]
    for subject, role, bots, batch in subjects:
        runs = [replay(frames, bots, batch) for _ in range(ctx.runs)]
        seconds = sorted(r[0] for r in runs)
        median = seconds[len(seconds) // 2]
        results.append(
            Result(
                "replay",
                case,
                subject,
                role,
                {"frames_per_s": len(frames) / median, "ns_per_frame": median * 1e9 / len(frames)},
                detail={"runs_s": seconds, "frames": len(frames), **runs[0][1]},
            )
        )
    return Outcome(results)
