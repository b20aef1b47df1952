"""Order states as the executor tracks them, and fills."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class OrderState(enum.Enum):
    IN_FLIGHT = "in_flight"  # sent, or outcome unknown (timeout, 5xx): only reconciliation settles it
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"  # the venue refused it, or reconciliation proved it never arrived

    @property
    def terminal(self) -> bool:
        return self in (OrderState.FILLED, OrderState.CANCELED, OrderState.EXPIRED, OrderState.REJECTED)


@dataclass(frozen=True, slots=True)
class Fill:
    client_id: str
    trade_id: str
    symbol: str
    side: str
    price: str  # decimal strings, as the venue sent them
    qty: str
    fee: str
    fee_asset: str
    ts_ns: int
    maker: bool


@dataclass
class TrackedOrder:
    client_id: str
    account: str
    symbol: str  # ccxt unified symbol, e.g. BTC/USDT
    side: str
    qty: str
    price: str | None
    state: OrderState = OrderState.IN_FLIGHT
    venue_id: str | None = None
    filled: str = "0"
    attempts: int = 0
    error: str = ""
    bot_id: str = ""
    adopted: bool = False  # found on the venue by reconciliation, not placed by this process
    fills: list[Fill] = field(default_factory=list)
