"""A local exchange simulator that speaks the real Binance spot, Bybit v5 and OKX v5 protocols on 127.0.0.1.

It runs a price-time priority matching engine for the orders it receives; its market moves by a seeded
price process or by replaying a recording, and faults (drops, duplicates, disconnects, 429/418, lost
answers, late acks, partial fills) are injected by configuration.
"""

from __future__ import annotations

from wisetrader.sim.config import FaultSpec, SimConfig, SymbolSpec
from wisetrader.sim.server import SimExchange

__all__ = ["FaultSpec", "SimConfig", "SimExchange", "SymbolSpec"]
