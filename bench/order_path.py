"""Latency of the Python order path: intent -> risk gate -> order request handed to the executor.

Run: ``python -m bench.order_path [--n 50000]``. One sample is one ``OrderRouter.submit`` (risk check,
ticks/lots to decimal strings, the executor's ``place`` scheduled as a task) with an executor that
answers at once, so the venue's latency is not in the number. uvloop, as in production.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from decimal import Decimal

import uvloop
from wisetrader.engine import Market, OrderRouter
from wisetrader.execution import Fill, OrderRequest, OrderState, TrackedOrder
from wisetrader.risk import AccountLimits, BotLimits, Instrument, Intent, RiskGate, RiskLimits


class NullExecutor:
    """Accepts every order at once (what is measured ends when ``place`` is handed the request)."""

    def __init__(self) -> None:
        self.on_update: Callable[[TrackedOrder], None] | None = None
        self.on_fill: Callable[[Fill], None] | None = None
        self.orders: dict[str, TrackedOrder] = {}

    async def place(self, req: OrderRequest) -> TrackedOrder:
        return TrackedOrder(
            req.client_id, "acct", req.symbol, req.side, req.qty, req.price, state=OrderState.OPEN
        )

    async def cancel(self, client_id: str) -> TrackedOrder:
        raise NotImplementedError


async def run(n: int) -> list[int]:
    big = Decimal(10**12)
    limits = RiskLimits(
        account=AccountLimits(rate_budget_fraction=Decimal(10_000), max_open_orders=10**9, max_notional=big),
        bot=BotLimits(max_open_orders=10**9, max_notional=big),
    )
    gate = RiskGate(limits)
    gate.add_instrument(Instrument("binance", "BTCUSDT", Decimal("0.01"), Decimal("0.00001")))
    gate.add_account("acct", "binance")
    gate.on_book("binance", "BTCUSDT", 2_999_999, 3_000_001)
    market = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))
    router = OrderRouter(gate, {"acct": NullExecutor()}, {("binance", "BTCUSDT"): market})
    intents = [
        Intent("acct", "bot1", "binance", "BTCUSDT", "buy", 100, 2_999_000, client_id=f"b{i}")
        for i in range(n)
    ]
    samples = []
    clock = time.perf_counter_ns
    for i, intent in enumerate(intents):
        t0 = clock()
        decision = router.submit(intent)
        samples.append(clock() - t0)
        assert decision.accepted, decision
        if i % 1000 == 999:
            await router.drain()
            for j in range(i - 999, i + 1):
                gate.on_order_closed(f"b{j}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    samples = sorted(uvloop.run(run(args.n)))
    p50, p99 = samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000
    print(f"intent -> executor hand-off: n={args.n} p50={p50:.2f} us p99={p99:.2f} us")


if __name__ == "__main__":
    main()
