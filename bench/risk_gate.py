"""Latency of one risk-gate check (p50/p99), on a gate with realistic state.

Run: ``python -m bench.risk_gate [--n 200000]``. Each sample times one ``RiskGate.check`` of an order
that passes every limit (the slowest path: all checks run and two token buckets are touched).
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from wisetrader.risk import AccountLimits, Instrument, Intent, RiskGate, RiskLimits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    # Budgets big enough that no sample is refused for rate: we time the checks, not the refusals.
    limits = RiskLimits(account=AccountLimits(rate_budget_fraction=Decimal(10_000), max_open_orders=10**9))
    gate = RiskGate(limits)
    gate.add_instrument(
        Instrument("binance", "BTCUSDT", Decimal("0.01"), Decimal("0.00001"), min_notional=Decimal(5))
    )
    gate.add_account("acct", "binance")
    gate.on_book("binance", "BTCUSDT", 2_999_999, 3_000_001)
    for i in range(40):  # some open orders and a position, as a running grid bot has
        intent = Intent(
            "acct", "bot1", "binance", "BTCUSDT", "buy", 100, 2_990_000 - i * 100, client_id=f"g{i}"
        )
        gate.on_order_accepted(intent)
    gate.on_fill("acct", "bot1", "BTCUSDT", "buy", 500)
    intent = Intent("acct", "bot1", "binance", "BTCUSDT", "buy", 100, 2_999_000, client_id="x")
    check, clock = gate.check, time.perf_counter_ns
    samples = []
    for _ in range(args.n):
        t0 = clock()
        decision = check(intent)
        samples.append(clock() - t0)
        assert decision.accepted, decision
    samples.sort()
    p50 = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    mean = statistics.fmean(samples) / 1000
    print(f"risk gate check: n={args.n} p50={p50:.2f} us p99={p99:.2f} us mean={mean:.2f} us")


if __name__ == "__main__":
    main()
