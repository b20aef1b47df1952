"""The event schema: one frozen dataclass per event type, version 1.

Everything the engine does becomes one of these events. Rules every type follows:

- money (prices, quantities, fees, P&L) is :class:`~decimal.Decimal` in memory and a decimal *string* on
  the wire, never a binary float;
- time is ``int`` nanoseconds since the Unix epoch, UTC (``ts_ns`` is the event's own time: the exchange's
  for market data and fills, the engine's otherwise; ``recv_ns`` is the local receive time);
- every event carries ``id``, ``type``, ``v`` (schema version), ``venue``, ``symbol`` and the optional
  ``bot_id``/``account_id``/``user_id``; ``venue``/``symbol`` are empty strings for events about the
  whole process (a health event of the API, say).

``docs/events.md`` is generated from these classes (``python -m wisetrader.events.doc``) and a test
checks that it is current, so the field docs below are the schema's documentation.
"""

# ruff: noqa: RUF009  (doc() is dataclasses.field with the field's documentation attached)
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeVar

Side = Literal["buy", "sell"]
T = TypeVar("T")


def doc(text: str, **kwargs: Any) -> Any:
    """A dataclass field carrying its documentation (rendered into docs/events.md)."""
    return field(metadata={"doc": text}, **kwargs)


def per_class(compute: Callable[[type[Event]], T]) -> Callable[[type[Event]], T]:
    """Memoize a function of an event class (what it derives from the schema never changes)."""
    memo: dict[type[Event], T] = {}

    def cached(cls: type[Event]) -> T:
        if cls not in memo:
            memo[cls] = compute(cls)
        return memo[cls]

    return cached


def new_id() -> str:
    """A fresh random event id (32 hex characters). Producers that can, pass a deterministic id instead."""
    return uuid.uuid4().hex


class Family(StrEnum):
    """Event families: one Kafka topic each, and the unit a consumer subscribes to."""

    MARKET = "market"  # sampled top of book, public trades: high volume, loss-tolerant
    ORDERS = "orders"  # intents, risk decisions, order updates: durable
    FILLS = "fills"  # executions: durable, every one kept
    BOTS = "bots"  # bot state changes and P&L snapshots
    SIGNALS = "signals"  # signals for subscribers
    SYSTEM = "system"  # sync and health
    CONTROL = "control"  # control-plane changes for the engine to apply: small, rare


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event has."""

    type: ClassVar[str] = "event"
    version: ClassVar[int] = 1
    family: ClassVar[Family] = Family.SYSTEM

    ts_ns: int = doc("event time, ns since the epoch (UTC)")
    venue: str = doc("venue id, e.g. `binance-spot`; empty for process-wide events")
    symbol: str = doc("venue-native symbol, e.g. `BTCUSDT`; empty for process-wide events")
    id: str = doc("unique event id (deterministic where the producer can make it so)", default_factory=new_id)
    bot_id: str | None = doc("bot that caused or owns the event", default=None)
    account_id: str | None = doc("exchange account", default=None)
    user_id: str | None = doc("platform user", default=None)

    @property
    def key(self) -> str:
        """Partitioning key: every event of one symbol on one venue stays in order."""
        return f"{self.venue}:{self.symbol}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BookTop(Event):
    """Best bid and ask, sampled (not every book change is published)."""

    type: ClassVar[str] = "book_top"
    family: ClassVar[Family] = Family.MARKET

    recv_ns: int = doc("local receive time, ns")
    bid_px: Decimal = doc("best bid price")
    bid_qty: Decimal = doc("quantity at the best bid")
    ask_px: Decimal = doc("best ask price")
    ask_qty: Decimal = doc("quantity at the best ask")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade(Event):
    """A public trade printed by the venue."""

    type: ClassVar[str] = "trade"
    family: ClassVar[Family] = Family.MARKET

    recv_ns: int = doc("local receive time, ns")
    trade_id: str = doc("venue trade id")
    price: Decimal = doc("trade price")
    qty: Decimal = doc("trade quantity (base)")
    side: Side = doc("taker side")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent(Event):
    """A bot wants an order placed (before the risk gate)."""

    type: ClassVar[str] = "order_intent"
    family: ClassVar[Family] = Family.ORDERS

    client_order_id: str = doc("deterministic client order id, `[A-Za-z0-9]{1,32}`")
    side: Side = doc("order side")
    order_type: Literal["limit", "market"] = doc("order type")
    price: Decimal | None = doc("limit price; null for market orders")
    qty: Decimal = doc("order quantity (base)")
    reason: str = doc("why the bot wants it, e.g. `grid level 3 buy`", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDecision(Event):
    """The risk gate's verdict on one intent."""

    type: ClassVar[str] = "risk_decision"
    family: ClassVar[Family] = Family.ORDERS

    client_order_id: str = doc("the intent's client order id")
    accepted: bool = doc("true if the order may go out")
    rule: str = doc("rule that decided, e.g. `max_open_orders`; `ok` when accepted")
    detail: str = doc("human-readable detail", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate(Event):
    """A change in an order's state, as reported by the venue or decided by the engine."""

    type: ClassVar[str] = "order_update"
    family: ClassVar[Family] = Family.ORDERS

    client_order_id: str = doc("client order id")
    venue_order_id: str | None = doc("venue order id once known")
    status: Literal["in_flight", "new", "partially_filled", "filled", "canceled", "rejected", "expired"] = (
        doc("order status; `in_flight` until the venue has confirmed the outcome")
    )
    side: Side = doc("order side")
    order_type: Literal["limit", "market"] = doc("order type")
    price: Decimal | None = doc("limit price; null for market orders")
    qty: Decimal = doc("order quantity (base)")
    filled_qty: Decimal = doc("cumulative filled quantity (base)")
    reason: str = doc("reject/cancel reason from the venue or the engine", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill(Event):
    """One execution (partial fills included). Deduplicated on (venue, symbol, trade_id) in the store."""

    type: ClassVar[str] = "fill"
    family: ClassVar[Family] = Family.FILLS

    trade_id: str = doc("venue trade id of this execution")
    client_order_id: str = doc("client order id of the order that filled")
    venue_order_id: str | None = doc("venue order id", default=None)
    side: Side = doc("our side")
    price: Decimal = doc("execution price (quote per base)")
    qty: Decimal = doc("executed quantity (base)")
    base: str = doc("base currency, e.g. `BTC`")
    quote: str = doc("quote currency, e.g. `USDT`")
    fee: Decimal = doc("fee charged, in `fee_currency`")
    fee_currency: str = doc("currency the venue charged the fee in (kept as charged)")
    fee_quote: Decimal | None = doc(
        "fee converted to the quote currency when the producer knows the rate (e.g. BNB fees); "
        "null when `fee_currency` is the base or quote (analytics convert those exactly)",
        default=None,
    )
    liquidity: Literal["maker", "taker", "unknown"] = doc("maker or taker", default="unknown")


@dataclass(frozen=True, slots=True, kw_only=True)
class BotState(Event):
    """A bot changed state (started, stopped, position changed)."""

    type: ClassVar[str] = "bot_state"
    family: ClassVar[Family] = Family.BOTS

    state: Literal["created", "running", "paused", "stopped", "error"] = doc("lifecycle state")
    position_qty: Decimal = doc("base held by the bot (signed)")
    avg_price: Decimal | None = doc("average entry price of the position, null when flat")
    open_orders: int = doc("orders the bot has working")
    detail: str = doc("why the state changed", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class PnlSnapshot(Event):
    """A bot's profit and loss at a mark, in its quote currency."""

    type: ClassVar[str] = "pnl_snapshot"
    family: ClassVar[Family] = Family.BOTS

    quote: str = doc("currency of every amount below")
    mark_price: Decimal = doc("price the position was marked at")
    position_qty: Decimal = doc("base held (signed)")
    realized: Decimal = doc("realized P&L, fees included")
    unrealized: Decimal = doc("unrealized P&L at `mark_price`")
    fees: Decimal = doc("fees paid, in quote")
    equity: Decimal = doc("invested capital + realized + unrealized")


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal(Event):
    """A trading signal for subscribers."""

    type: ClassVar[str] = "signal"
    family: ClassVar[Family] = Family.SIGNALS

    strategy: str = doc("strategy or channel that emitted it")
    side: Side = doc("suggested side")
    price: Decimal | None = doc("reference price, null for 'at market'")
    text: str = doc("human-readable text", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class Health(Event):
    """Sync and health: a book resynced, a feed went stale, a service came up."""

    type: ClassVar[str] = "health"
    family: ClassVar[Family] = Family.SYSTEM

    component: str = doc("what reports, e.g. `feed`, `book`, `writer`")
    status: Literal["ok", "degraded", "resync", "down"] = doc("state")
    reason: str = doc("why, e.g. `sequence gap 1043->1047`", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class BotCommand(Event):
    """The control plane asks the engine to act on one bot now (the stored status is the truth; this is
    the nudge, so the engine need not wait for its next periodic re-read)."""

    type: ClassVar[str] = "bot_command"
    family: ClassVar[Family] = Family.CONTROL

    command: Literal["start", "pause", "stop", "close", "delete"] = doc(
        "what was asked: `close` is the emergency close (cancel everything, flatten at market)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlChanged(Event):
    """Limits, trading states or kill switches changed in the control plane; the engine re-reads them."""

    type: ClassVar[str] = "control_changed"
    family: ClassVar[Family] = Family.CONTROL

    scope: Literal["bot", "account", "user", "global"] = doc("what changed: ids in bot_id/account_id/user_id")


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        BookTop,
        Trade,
        OrderIntent,
        RiskDecision,
        OrderUpdate,
        Fill,
        BotState,
        PnlSnapshot,
        Signal,
        Health,
        BotCommand,
        ControlChanged,
    )
}
