"""Fan-out: events/s through the in-process bus, and through KafkaBus against raw aiokafka (the ceiling)
on a local single-node broker started for the run (``bench/bus_throughput.py`` holds the measurements)."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil

from bench.registry import Context, Missing, Outcome, Result, Role, Target, suite, target

OURS, CEILING = "wisetrader KafkaBus", "raw aiokafka, same settings (ceiling)"
target(
    Target(
        "fanout",
        "Kafka publish: >= 90% of the raw aiokafka ceiling",
        OURS,
        "ratio_to_best_peer",
        0.9,
        True,
        "publish",
    )
)


def row(case: str, subject: str, role: Role, n: int, seconds: float) -> Result:
    return Result("fanout", case, subject, role, {"events_per_s": n / seconds}, "events_per_s")


async def measure(n: int) -> list[Result]:
    from wisetrader.devtools.kafka import KafkaBroker
    from wisetrader.events import Family

    from bench.bus_throughput import fill, inprocess, kafka, raw, top

    published, total, _ = await inprocess(n)
    rows = [row(f"in-process bus, {n:,} events", "InProcessBus publish", "ours", n, published)]
    rows.append(row(f"in-process bus, {n:,} events", "InProcessBus publish -> consume", "ours", n, total))
    broker = KafkaBroker(partitions=6)
    await asyncio.to_thread(broker.start)
    try:
        for name, make, family, durable in (
            ("book_top", top, Family.MARKET, False),
            ("fill", fill, Family.FILLS, True),
        ):
            k_pub, k_con = await kafka(broker.bootstrap, n, make, family)
            r_pub, r_con = await raw(broker.bootstrap, n, make, durable)
            for step, ours, ceiling in (("publish", k_pub, r_pub), ("consume", k_con, r_con)):
                case = f"kafka {name} {step}, {n:,} events"
                rows += [row(case, OURS, "ours", n, ours), row(case, CEILING, "peer", n, ceiling)]
    finally:
        broker.cleanup()
    return rows


@suite("fanout", "Events/s: in-process bus; KafkaBus vs raw aiokafka on a local broker (publish, consume)")
def fanout(ctx: Context) -> Outcome:
    if importlib.util.find_spec("aiokafka") is None or shutil.which("java") is None:
        return Outcome(missing=[Missing("fanout", OURS, "needs aiokafka and java (a local Kafka broker)")])
    return Outcome(results=asyncio.run(measure(2_000 if ctx.quick else 100_000)))
