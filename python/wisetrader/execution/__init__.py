"""Order execution: deterministic client order ids, order tracking, and the live executor (ccxt async)."""

from __future__ import annotations

from wisetrader.execution.ids import client_order_id, is_valid_client_id
from wisetrader.execution.live import AccountStopped, ExecutorConfig, LiveExecutor, OrderRequest
from wisetrader.execution.orders import Fill, OrderState, TrackedOrder

__all__ = [
    "AccountStopped",
    "ExecutorConfig",
    "Fill",
    "LiveExecutor",
    "OrderRequest",
    "OrderState",
    "TrackedOrder",
    "client_order_id",
    "is_valid_client_id",
]
