"""Event factories and polling helpers shared by the backbone tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from decimal import Decimal

from wisetrader.bus import Consumer, Delivery
from wisetrader.events import BookTop, Fill


def make_fill(i: int, symbol: str = "BTCUSDT", venue: str = "binance-spot", **kw: object) -> Fill:
    fields: dict[str, object] = {
        "ts_ns": 1_700_000_000_000_000_000 + i * 1_000_000,
        "venue": venue,
        "symbol": symbol,
        "trade_id": str(i),
        "client_order_id": f"c{i}",
        "side": "buy" if i % 2 == 0 else "sell",
        "price": Decimal("100") + Decimal(i % 7),
        "qty": Decimal("0.01"),
        "base": "BTC",
        "quote": "USDT",
        "fee": Decimal("0.001"),
        "fee_currency": "USDT",
        "bot_id": "bot1",
        "id": f"fill-{venue}-{symbol}-{i}",
    }
    fields.update(kw)
    return Fill(**fields)  # type: ignore[arg-type]


def make_top(i: int, symbol: str) -> BookTop:
    px = Decimal(1000 + i)
    return BookTop(
        ts_ns=i,
        venue="bybit-spot",
        symbol=symbol,
        recv_ns=i,
        bid_px=px,
        bid_qty=Decimal("1.5"),
        ask_px=px + Decimal("0.5"),
        ask_qty=Decimal(2),
        id=f"top-{symbol}-{i}",
    )


async def collect(consumers: Sequence[Consumer], count: int, timeout_s: float = 60) -> list[Delivery]:
    """Poll all consumers concurrently until ``count`` deliveries arrived (fails on timeout)."""
    out: list[Delivery] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < count:
        assert time.monotonic() < deadline, f"only {len(out)} of {count} events arrived"
        batches = await asyncio.gather(*(c.poll(max_records=500, timeout_s=0.2) for c in consumers))
        for batch in batches:
            out.extend(batch)
    return out
