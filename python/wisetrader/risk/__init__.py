"""The risk gate: every order intent passes here before any executor sees it.

Pure Python and allocation-light: prices and quantities are integer ticks and lots, notionals integer
multiples of 1e-12 quote units, so no float ever decides. Each refusal is a typed :class:`Decision`
carrying its reason and the numbers behind it.
"""

from __future__ import annotations

from wisetrader.risk.gate import Decision, Instrument, Intent, Reason, RiskGate, TradingState
from wisetrader.risk.limits import AccountLimits, BotLimits, RiskLimits

__all__ = [
    "AccountLimits",
    "BotLimits",
    "Decision",
    "Instrument",
    "Intent",
    "Reason",
    "RiskGate",
    "RiskLimits",
    "TradingState",
]
