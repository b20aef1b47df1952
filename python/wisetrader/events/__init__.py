"""The versioned event schema shared by the bus, the store and analytics."""

from wisetrader.events.codec import EventDecodeError, decode, encode
from wisetrader.events.schema import (
    EVENT_TYPES,
    BookTop,
    BotState,
    Event,
    Family,
    Fill,
    Health,
    OrderIntent,
    OrderUpdate,
    PnlSnapshot,
    RiskDecision,
    Side,
    Signal,
    Trade,
    new_id,
)

__all__ = [
    "EVENT_TYPES",
    "BookTop",
    "BotState",
    "Event",
    "EventDecodeError",
    "Family",
    "Fill",
    "Health",
    "OrderIntent",
    "OrderUpdate",
    "PnlSnapshot",
    "RiskDecision",
    "Side",
    "Signal",
    "Trade",
    "decode",
    "encode",
    "new_id",
]
