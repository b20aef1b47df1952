"""Analytics over the store with Polars: ledger (P&L per fill), P&L by group, equity and ratios, reports.

Each module states its definitions next to the code: :mod:`.ledger` (fees, realized/unrealized, FIFO vs
average cost), :mod:`.pnl` (grid profit, floating, total), :mod:`.metrics` (equity, returns, ratios).
"""

from wisetrader.analytics.ledger import build_ledger, fee_in_quote
from wisetrader.analytics.metrics import Drawdown, Metrics, compute, daily_returns, equity_curve, max_drawdown
from wisetrader.analytics.pnl import fees_by_currency, last_prices, pnl_by, unrealized

__all__ = [
    "Drawdown",
    "Metrics",
    "build_ledger",
    "compute",
    "daily_returns",
    "equity_curve",
    "fee_in_quote",
    "fees_by_currency",
    "last_prices",
    "max_drawdown",
    "pnl_by",
    "unrealized",
]
