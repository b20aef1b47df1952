"""A process that places a fixed list of orders with deterministic ids (run by test_restart.py).

``python tests/executor_worker.py REST_BASE N`` places orders 0..N-1 (skipping none), reconciles first
so that a restart resumes instead of duplicating, then prints ``done`` and the venue's open-order count.
"""

from __future__ import annotations

import asyncio
import sys

from wisetrader.execution import ExecutorConfig, LiveExecutor, OrderRequest, client_order_id


async def main(base: str, n: int) -> None:
    ids = [client_order_id("restart-bot", "b", level, 0) for level in range(n)]
    executor = LiveExecutor(
        ExecutorConfig(venue="binance", account="a", api_key="keya", secret="secreta", rest_base=base)
    )
    await executor.start()
    try:
        # Adopt what an earlier run of this bot left on the venue (every id here is expected).
        report = await executor.reconcile(["BTC/USDT"], expected=set(ids).__contains__)
        print(f"adopted {len(report.adopted)}", flush=True)
        for level, cid in enumerate(ids):
            order = await executor.place(OrderRequest(cid, "BTC/USDT", "buy", "0.001", f"{29000 - level}"))
            print(f"placed {cid} {order.state.value}", flush=True)
        print("done", flush=True)
    finally:
        await executor.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
