"""The streaming engine's wiring: order intents through the risk gate to the executors and back."""

from __future__ import annotations

from wisetrader.engine.router import Executor, Market, OrderRouter, RouterListener

__all__ = ["Executor", "Market", "OrderRouter", "RouterListener"]
