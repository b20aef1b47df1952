from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from prometheus_client import REGISTRY
from wisetrader.bus import InProcessBus
from wisetrader.events import BookTop, Family, Fill


def _top(i: int, symbol: str = "BTCUSDT") -> BookTop:
    d = Decimal(i)
    return BookTop(
        ts_ns=i, venue="binance-spot", symbol=symbol, recv_ns=i, bid_px=d, bid_qty=d, ask_px=d, ask_qty=d
    )


async def test_slow_consumer_never_blocks_the_publisher_and_drops_are_counted() -> None:
    bus = InProcessBus(queue_size=100)
    metric = {"group": "slow", "family": "market"}
    dropped_before = REGISTRY.get_sample_value("wisetrader_bus_dropped_total", metric) or 0
    slow = await bus.consumer("slow", [Family.MARKET])
    fast = await bus.consumer("fast", [Family.MARKET])
    received_fast: list[int] = []
    received_slow: list[int] = []

    async def drain_fast() -> None:
        while len(received_fast) < 1000:
            received_fast.extend(d.event.ts_ns for d in await fast.poll(max_records=10, timeout_s=1))

    fast_task = asyncio.create_task(drain_fast())
    # Publish 1000 events in bursts of 10; the slow group never reads while we publish.
    for burst in range(100):
        for i in range(10):
            await bus.publish(_top(burst * 10 + i))
        await asyncio.sleep(0.001)  # let the fast consumer run
    assert bus.stats()["published"] == 1000
    await asyncio.wait_for(fast_task, 5)

    # The slow group kept the newest 100 and counted 900 drops; the fast group lost nothing.
    assert received_fast == list(range(1000))
    assert bus.dropped() == {"slow/market": 900}
    assert bus.stats()["dropped"] == 900
    assert REGISTRY.get_sample_value("wisetrader_bus_dropped_total", metric) == dropped_before + 900
    received_slow.extend(d.event.ts_ns for d in await slow.poll(max_records=1000, timeout_s=0))
    assert received_slow == list(range(900, 1000))
    assert await slow.lag() == 0


async def test_groups_each_get_everything_members_share_and_order_holds() -> None:
    bus = InProcessBus()
    a1 = await bus.consumer("a", [Family.MARKET, Family.FILLS])
    a2 = await bus.consumer("a", [Family.MARKET])
    b = await bus.consumer("b", [Family.MARKET])
    for i in range(10):
        bus.publish_nowait(_top(i, "ETHUSDT" if i % 2 else "BTCUSDT"))
    first = await a1.poll(max_records=4)
    second = await a2.poll(max_records=100)
    assert [d.event.ts_ns for d in first + second] == list(range(10))  # shared, in order
    assert [d.offset for d in second] == list(range(4, 10))
    assert [d.event.ts_ns for d in await b.poll()] == list(range(10))  # its own copy
    assert await a1.poll(timeout_s=0) == []


async def test_poll_waits_for_a_publish_and_times_out_when_idle() -> None:
    bus = InProcessBus()
    consumer = await bus.consumer("g", [Family.FILLS])
    started = time.monotonic()
    assert await consumer.poll(timeout_s=0.05) == []
    assert time.monotonic() - started >= 0.04

    fill = Fill(
        ts_ns=1,
        venue="okx",
        symbol="BTC-USDT",
        trade_id="1",
        client_order_id="c",
        side="buy",
        price=Decimal(1),
        qty=Decimal(1),
        base="BTC",
        quote="USDT",
        fee=Decimal(0),
        fee_currency="USDT",
    )
    asyncio.get_running_loop().call_later(0.01, bus.publish_nowait, fill)
    got = await consumer.poll(timeout_s=5)
    assert [d.event for d in got] == [fill]
    assert got[0].family is Family.FILLS
    await consumer.commit()
