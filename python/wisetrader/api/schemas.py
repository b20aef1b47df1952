"""Request and response bodies. Requests reject unknown fields; money travels as decimal strings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from wisetrader.bots.model import DcaBotFile, GridBotFile
from wisetrader.risk import TradingState

T = TypeVar("T")

DecimalStr = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,20}(\.[0-9]{1,18})?$", max_length=40, examples=["25000.5"]),
]
Venue = Literal["binance", "bybit", "okx", "simulator"]
Role = Literal["user", "provider", "admin"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- auth and users -------------------------------------------------------------------------------------
Email = Annotated[
    str,
    Field(
        pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,}$", max_length=254, examples=["ann@example.com"]
    ),
]
Password = Annotated[str, Field(min_length=12, max_length=256, examples=["correct horse battery"])]
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]


class RegisterIn(In):
    email: Email
    password: Password


class LoginIn(In):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp_code: TotpCode | None = None


class RefreshIn(In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(Out):
    id: int
    email: str
    role: Role
    totp_enabled: bool
    disabled: bool
    created_at: dt.datetime


class UserPatch(In):
    role: Role | None = None
    disabled: bool | None = None


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCodeIn(In):
    code: TotpCode


class ApiTokenIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64, examples=["backtest script"])]


class ApiTokenOut(Out):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    revoked: bool


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="shown once; only its hash is stored")


# --- exchange accounts ----------------------------------------------------------------------------------
class AccountIn(In):
    venue: Venue
    label: Annotated[str, Field(min_length=1, max_length=64, examples=["main"])]
    api_key: Annotated[str, Field(min_length=8, max_length=256, pattern=r"^[\x21-\x7e]+$")]
    api_secret: Annotated[str, Field(min_length=8, max_length=512, pattern=r"^[\x21-\x7e]+$")]
    passphrase: Annotated[str | None, Field(max_length=128, pattern=r"^[\x21-\x7e]+$")] = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"venue": "binance", "label": "main", "api_key": "AbCd1234xyz", "api_secret": "s3cr3t-s3cr3t"}
            ]
        }
    )


class AccountOut(Out):
    id: int
    venue: Venue
    label: str
    api_key_hint: str = Field(description="last characters of the API key; the key itself is never returned")
    live_enabled: bool
    risk_disclosure_version: str | None
    risk_disclosure_accepted_at: dt.datetime | None
    created_at: dt.datetime


class LiveOptIn(In):
    accept_risk_disclosure: Literal[True]
    disclosure_version: Annotated[str, Field(min_length=1, max_length=32, examples=["2026-11"])]
    totp_code: TotpCode


# --- bots -----------------------------------------------------------------------------------------------
BotConfig = Annotated[GridBotFile | DcaBotFile, Field(discriminator="kind")]
GRID_EXAMPLE: dict[str, Any] = {
    "kind": "grid",
    "venue": "binance-spot",
    "symbol": "BTCUSDT",
    "instrument": {"tick_size": "0.01", "lot_step": "0.00001", "min_notional": "5"},
    "fee_rate": "0.001",
    "start_price": "100",
    "lower": "90",
    "upper": "110",
    "grids": 10,
    "investment": {"quote": "1000"},
}


class BotIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    account_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    mode: Literal["paper", "live"] = "paper"
    config: BotConfig = Field(description="the bot file (as `wisetrader plan` reads it), checked by the core")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "btc grid", "account_id": 1, "config": GRID_EXAMPLE}]}
    )


class BotUpdate(In):
    config: BotConfig
    apply_to_running_deals: bool = Field(
        default=False, description="running deals keep their settings unless this is true"
    )


BotStatus = Literal["stopped", "running", "paused"]


class BotOut(Out):
    id: int
    account_id: int
    name: str
    kind: Literal["grid", "dca"]
    symbol: str
    mode: Literal["paper", "live"]
    version: int
    kill_switch: bool
    status: BotStatus
    created_at: dt.datetime
    config: BotConfig


class BotCreated(BotOut):
    plan: dict[str, Any] = Field(
        description="the core's plan: budget (investment needed, minimum investment or max funds), "
        "coverage (levels or safety orders with prices) and profit per grid; warnings"
    )


class BotVersionOut(Out):
    version: int
    config: BotConfig
    apply_to_running_deals: bool
    created_at: dt.datetime


# --- risk -----------------------------------------------------------------------------------------------
class LimitsIn(In):
    max_position_notional: DecimalStr | None = None
    max_daily_loss: DecimalStr | None = None
    max_open_orders: Annotated[int, Field(ge=0, le=100_000)] | None = None


class LimitsOut(Out):
    account_id: int
    bot_id: int | None
    max_position_notional: str | None
    max_daily_loss: str | None
    max_open_orders: int | None
    updated_at: dt.datetime


class KillSwitchIn(In):
    engaged: bool


class KillSwitchOut(BaseModel):
    engaged: bool


class TradingStateIn(In):
    state: Annotated[
        TradingState,
        Field(description="ACTIVE trades normally, REDUCING only shrinks exposure, HALTED sends no orders"),
    ]


class TradingStateOut(BaseModel):
    state: TradingState


class AccountTradingStateOut(TradingStateOut):
    global_state: TradingState
    effective: TradingState = Field(description="the stricter of the account's state and the global one")


# --- audit and health -----------------------------------------------------------------------------------
class AuditOut(Out):
    id: int
    user_id: int | None
    action: str
    target: str
    ip: str
    detail: str
    at: dt.datetime


class RotateOut(BaseModel):
    current_master_key_id: str
    rewrapped: int


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


# --- reports --------------------------------------------------------------------------------------------
class BotPnl(BaseModel):
    bot_id: str | None
    quote: str
    fills: int
    trades: int
    volume: float = Field(description="traded notional in quote (a statistic, not a balance)")
    fees: str = Field(description="fees converted to quote (decimal string)")
    grid_profit: str = Field(description="realized P&L (decimal string)")
    floating: str = Field(description="unrealized P&L at the last fill price (decimal string)")
    total: str


class PnlSummary(BaseModel):
    quote: str
    fills: int
    starting_capital: float
    final_equity: float
    total_return: float
    max_drawdown: float = Field(description="largest peak-to-trough fall, as a fraction of the peak")
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    by_bot: list[BotPnl]


# --- market data ----------------------------------------------------------------------------------------
MarketVenue = Literal["binance-spot", "binance-usdm", "bybit-spot", "bybit-linear", "okx"]


class InstrumentOut(BaseModel):
    venue: MarketVenue
    symbol: str
    tick_size: str
    lot_step: str


class TopOfBook(BaseModel):
    venue: MarketVenue
    symbol: str
    state: str = Field(description="waiting_for_snapshot, synced or out_of_sync; prices only when synced")
    reason: str | None
    update_id: int
    bid_px: str | None
    bid_qty: str | None
    ask_px: str | None
    ask_qty: str | None
    mid: str | None
    spread: str | None


class Depth(BaseModel):
    venue: MarketVenue
    symbol: str
    state: str
    update_id: int
    bids: list[tuple[str, str]] = Field(description="(price, quantity), best first")
    asks: list[tuple[str, str]]


class SymbolHealth(BaseModel):
    symbol: str
    state: str
    reason: str | None
    update_id: int


class FeedHealth(BaseModel):
    venue: MarketVenue
    counters: dict[str, int]
    symbols: list[SymbolHealth]


# --- a bot's orders, fills, P&L and state (from the engine's events in the store) ----------------------
class BotOrderOut(BaseModel):
    client_order_id: str
    status: Literal["in_flight", "new", "partially_filled", "filled", "canceled", "rejected", "expired"]
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "market"]
    price: str | None = Field(description="limit price (decimal string); null for market orders")
    qty: str
    filled_qty: str
    created: dt.datetime
    updated: dt.datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_order_id": "b7G1L3C0", "status": "new", "side": "buy", "order_type": "limit",
                    "price": "29900", "qty": "0.0167", "filled_qty": "0",
                    "created": "2026-11-23T11:00:00Z", "updated": "2026-11-23T11:00:00Z",
                }
            ]
        }
    )  # fmt: skip


class BotFillOut(BaseModel):
    ts: dt.datetime
    trade_id: str
    client_order_id: str
    side: Literal["buy", "sell"]
    price: str
    qty: str
    base: str
    quote: str
    fee: str
    fee_currency: str
    liquidity: Literal["maker", "taker", "unknown"]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ts": "2026-11-23T11:00:01Z", "trade_id": "p17", "client_order_id": "b7G1L3C0",
                    "side": "buy", "price": "29900", "qty": "0.0167", "base": "BTC", "quote": "USDT",
                    "fee": "0.49933", "fee_currency": "USDT", "liquidity": "maker",
                }
            ]
        }
    )  # fmt: skip


class FillTotals(BaseModel):
    fills: int
    bought_qty: str
    sold_qty: str
    bought_quote: str = Field(description="sum of price x quantity of the buys")
    sold_quote: str
    fees_quote: str = Field(description="fees in the quote currency (base fees at their fill price)")


class BotPnlOut(BaseModel):
    bot_id: int
    as_of: dt.datetime | None = Field(description="time of the engine's latest P&L snapshot; null before one")
    quote: str | None
    mark_price: str | None
    position_qty: str | None
    realized: str | None = Field(description="realized P&L, fees included (the core's)")
    unrealized: str | None
    fees: str | None
    equity: str | None = Field(description="invested capital + realized + unrealized")
    totals: FillTotals = Field(description="the bot's fills summed: with a flat position, realized = "
                               "sold_quote - bought_quote - fees_quote")  # fmt: skip

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bot_id": 7, "as_of": "2026-11-23T11:05:00Z", "quote": "USDT", "mark_price": "30012.5",
                    "position_qty": "0", "realized": "1.84", "unrealized": "0", "fees": "4.02",
                    "equity": "2001.84",
                    "totals": {
                        "fills": 12, "bought_qty": "0.0668", "sold_qty": "0.0668", "bought_quote": "2003.1",
                        "sold_quote": "2008.96", "fees_quote": "4.02",
                    },
                }
            ]
        }
    )  # fmt: skip


class BotStateOut(BaseModel):
    bot_id: int
    status: Literal["stopped", "running", "paused"] = Field(description="what was asked (stored)")
    state: Literal["created", "running", "paused", "stopped", "error"] | None = Field(
        description="what the engine last reported; null before it reported"
    )
    as_of: dt.datetime | None
    position_qty: str | None
    avg_price: str | None
    open_orders: int | None
    detail: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bot_id": 7, "status": "running", "state": "running", "as_of": "2026-11-23T11:05:00Z",
                    "position_qty": "0.0334", "avg_price": "29950.25", "open_orders": 10, "detail": "",
                }
            ]
        }
    )  # fmt: skip
