"""Triggers: what one top-of-book evaluation costs with many grid and DCA bots on a symbol.

Through the Python API of the core (``BotEngine.on_top``, one call per top, the way the engine calls it):
half the bots are DCA bots waiting for their start price, half grid bots waiting for their trigger price,
all below the market. Cases: N bots on one symbol with no trigger crossed (the common case: the trigger
index answers from its cached extremes), the same with every top crossing k new triggers (k bots wake and
send their opening orders), and N bots spread over 1,000 symbols (one engine each, tops round-robin).
Memory per bot is the process's RSS growth while the bots are added, divided by their number. The
pure-Rust figure of the same evaluation is criterion's ``top_of_book_no_cross`` (``rust_core/benches/
bots.rs``), reported by the ``rust`` suite.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from bench.registry import REPO_ROOT, Context, Missing, Outcome, Result, Target, suite, target
from bench.suites.rust import SUBJECT as RUST_SUBJECT

if TYPE_CHECKING:
    from wisetrader._core import BotEngine

SUBJECT = "wisetrader BotEngine.on_top (Python API)"
NO_CROSS = "nothing crossed"
target(
    Target(
        "triggers",
        "100,000 bots on a symbol, nothing crossed: < 2 us per top",
        SUBJECT,
        "ns_per_top",
        2000,
        False,
        case_contains=f"100,000 bots, one symbol, {NO_CROSS}",
    )
)
target(
    Target(
        "rust",
        "pure Rust: 100,000 bots, nothing crossed: < 2 us per top",
        f"{RUST_SUBJECT}: top_of_book_no_cross/100000",
        "ns_per_iter",
        2000,
        False,
    )
)

INSTRUMENT = json.dumps(
    {
        "tick_size": "0.01",
        "lot_step": "0.00001",
        "min_qty": "0.00001",
        "min_notional": "5",
        "base_asset": "BTC",
        "quote_asset": "USDT",
    }
)
MARKET = 3_000_000  # ticks: 30,000.00
FIRST_TRIGGER = 2_990_000  # the highest trigger, 100.00 under the market


def price(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}"


def spec(bot: int, trigger: int) -> tuple[str, str]:
    """Even bots DCA, odd bots grid; both wait until the ask comes down to ``trigger``."""
    if bot % 2 == 0:
        return "dca", json.dumps(
            {
                "base_order": {"quote": "10"},
                "safety_order": {"quote": "20"},
                "price_deviation_pct": "1",
                "max_safety_orders": 5,
                "take_profit_pct": "1.5",
                "fee_rate": "0.001",
                "start": "price",
                "start_trigger_price": price(trigger),
            }
        )
    return "grid", json.dumps(
        {
            "lower": price(trigger - 100_000),
            "upper": price(trigger + 100_000),
            "grids": 10,
            "investment": {"quote": "1000"},
            "fee_rate": "0.001",
            "trigger_price": price(trigger),
        }
    )


def engine(n: int, per_tick: int) -> BotEngine:
    """``n`` bots, ``per_tick`` of them on each tick from ``FIRST_TRIGGER`` down; one warm-up top at the
    market tells the grid bots which side their trigger is on (nothing is crossed by it)."""
    from wisetrader._core import BotEngine

    e = BotEngine(INSTRUMENT)
    for bot in range(1, n + 1):
        kind, bot_spec = spec(bot, FIRST_TRIGGER - (bot - 1) // per_tick)
        e.add_bot(bot, kind, bot_spec)
    if e.on_top(MARKET, MARKET + 1, 1):
        raise RuntimeError("the warm-up top crossed a trigger")
    return e


def bytes_per_bot(n: int) -> float:
    """RSS growth while ``n`` bots are added, per bot, in a fresh process (in this one, memory freed by
    earlier cases would be reused and hide the growth)."""
    code = (
        "from bench.suites.triggers import engine; from bench.worker import current_rss_kib\n"
        f"b = current_rss_kib(); e = engine({n}, {max(1, n // 100)}); print(current_rss_kib() - b)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout) * 1024 / n


CHUNK = 1_000  # tops per timed chunk; the median chunk is reported (robust to a preempted chunk)


def time_no_cross(engines: list[BotEngine], tops: int) -> list[float]:
    """ns per ``on_top`` of each chunk, the bid wandering 16 ticks at the market, engines round-robin."""
    calls = [e.on_top for e in engines]
    m = len(calls)
    chunks = []
    gc.disable()
    for first in range(0, tops, CHUNK):
        started = time.perf_counter_ns()
        for j in range(first, first + CHUNK):
            bid = MARKET + (j & 15)
            if calls[j % m](bid, bid + 1, j):
                raise RuntimeError("a top crossed a trigger in the no-cross case")
        chunks.append((time.perf_counter_ns() - started) / CHUNK)
    gc.enable()
    return chunks


def time_crossing(e: BotEngine, steps: int) -> tuple[list[float], float]:
    """ns per top when each top moves the ask one tick down onto the next ``k`` waiting bots, per chunk
    of 10 tops; and the mean number of bots that answered per top."""
    on_top = e.on_top
    woken = 0
    chunks = []
    gc.disable()
    for first in range(0, steps, 10):
        started = time.perf_counter_ns()
        for s in range(first, first + 10):
            ask = FIRST_TRIGGER - s
            woken += len({i["bot"] for i in on_top(ask - 1, ask, 10 + s)})
        chunks.append((time.perf_counter_ns() - started) / 10)
    gc.enable()
    return chunks, woken / (len(chunks) * 10)


def result(case: str, ns: list[float], detail: dict[str, object], **extra: float) -> Result:
    ns.sort()
    median = ns[len(ns) // 2]
    return Result(
        "triggers",
        case,
        SUBJECT,
        "ours",
        {"ns_per_top": median, "tops_per_s": 1e9 / median, "mean_ns_per_top": sum(ns) / len(ns), **extra},
        "ns_per_top",
        False,
        {"chunks": len(ns), **detail},
    )


@suite(
    "triggers", "Top-of-book evaluation cost with 1 to 100,000 grid and DCA bots, per symbol and across 1,000"
)
def triggers(ctx: Context) -> Outcome:
    try:
        import wisetrader._core  # noqa: F401
    except ImportError as e:
        return Outcome(missing=[Missing("triggers", SUBJECT, f"the core is not built: {e}")])
    sizes = [1, 100, 1_000] if ctx.quick else [1, 1_000, 10_000, 100_000]
    tops = 2_000 if ctx.quick else 200_000
    results = []
    for n in sizes:
        one = engine(n, per_tick=max(1, n // 100))
        ns = [c for _ in range(ctx.runs) for c in time_no_cross([one], tops)]
        memory = {"bytes_per_bot": bytes_per_bot(n)} if n == sizes[-1] else {}
        results.append(result(f"{n:,} bots, one symbol, {NO_CROSS}", ns, {"bots": n, "tops": tops}, **memory))
        del one
    n = sizes[-1]
    for k in [1, 10] if ctx.quick else [1, 10, 100]:
        steps = min(n // k // 10 * 10, 1_000)
        ns, woken = time_crossing(engine(n, per_tick=k), steps)
        case = f"{n:,} bots, one symbol, {k} crossed per top"
        results.append(result(case, ns, {"bots": n, "tops": steps, "bots_woken_per_top": woken}))
    symbols = 10 if ctx.quick else 1_000
    per_symbol = max(1, n // symbols)
    engines = [engine(per_symbol, per_tick=max(1, per_symbol // 10)) for _ in range(symbols)]
    ns = [c for _ in range(ctx.runs) for c in time_no_cross(engines, tops)]
    case = f"{per_symbol * symbols:,} bots over {symbols:,} symbols, {NO_CROSS}"
    results.append(result(case, ns, {"bots": per_symbol * symbols, "symbols": symbols, "tops": tops}))
    return Outcome(results)
