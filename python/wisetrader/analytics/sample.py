"""A deterministic sample history: two grid bots trading a random walk, written to a store.

    python -m wisetrader.analytics.sample chdb://var/sample [--days 30] [--seed 7]

For demos, the README and the notebook; the fills are ordinary :class:`~wisetrader.events.Fill` events.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from wisetrader.events import Fill, Side

HOUR_NS = 3_600 * 10**9
START_NS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 10**9
FEE_RATE = Decimal("0.001")


def grid_fills(
    bot_id: str, symbol: str, base: str, start_price: Decimal, qty: Decimal, days: int, seed: int
) -> Iterator[Fill]:
    """A grid with a buy level every 1% below the start price: buy a level when the price falls to it, sell
    it one level higher. The price is an hourly random walk (±1.5% steps)."""
    rng = random.Random(f"{seed}:{bot_id}")
    levels = [(start_price * Decimal("1.01") ** k).quantize(Decimal("0.01")) for k in range(-15, 1)]
    held: set[int] = set()
    price = start_price
    n = 0
    for hour in range(days * 24):
        price = (price * (1 + Decimal(rng.randint(-150, 150)) / 10_000)).quantize(Decimal("0.01"))
        ts = START_NS + hour * HOUR_NS
        for k, level in enumerate(levels[:-1]):
            side: Side | None = None
            if k not in held and price <= level:
                side, px = "buy", level
                held.add(k)
            elif k in held and price >= levels[k + 1]:
                side, px = "sell", levels[k + 1]
                held.discard(k)
            if side is None:
                continue
            n += 1
            yield Fill(
                id=f"{bot_id}-{n}",
                ts_ns=ts + n,
                venue="binance-spot",
                symbol=symbol,
                bot_id=bot_id,
                account_id="acc1",
                user_id="demo",
                trade_id=f"{bot_id}{n}",
                client_order_id=f"{bot_id}L{k}N{n}",
                side=side,
                price=px,
                qty=qty,
                base=base,
                quote="USDT",
                fee=(px * qty * FEE_RATE).quantize(Decimal("1e-8")),
                fee_currency="USDT",
                liquidity="maker",
            )


def sample_fills(days: int = 30, seed: int = 7) -> list[Fill]:
    fills = [
        *grid_fills("grid-btc", "BTCUSDT", "BTC", Decimal("42000"), Decimal("0.002"), days, seed),
        *grid_fills("grid-eth", "ETHUSDT", "ETH", Decimal("2300"), Decimal("0.05"), days, seed),
    ]
    return sorted(fills, key=lambda f: f.ts_ns)


def main() -> None:
    from wisetrader.store import Store

    parser = argparse.ArgumentParser(description="write a sample grid-bot fill history to a store")
    parser.add_argument("dsn", help="chdb://PATH or http(s)://...")
    parser.add_argument("--database", default="wisetrader")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    store = Store(args.dsn, args.database)
    store.migrate()
    result = store.insert_events(sample_fills(args.days, args.seed))
    print(f"{result.rows['fills']} fills written ({result.duplicates} already there)")


if __name__ == "__main__":
    main()
