"""Simulator configuration: symbols, accounts, the market's price process, limits and injected faults.

Every field has a default, so ``SimConfig()`` is a working exchange; a YAML file can override any part
(``wisetrader sim-exchange --config sim.yaml``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class SymbolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str  # Binance / Bybit name, e.g. BTCUSDT (OKX: BASE-QUOTE)
    base: str
    quote: str
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    max_num_orders: int = 200
    start_price: Decimal = Decimal("30000")

    @property
    def okx_inst_id(self) -> str:
        return f"{self.base}-{self.quote}"


class AccountSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    api_key: str
    secret: str = Field(repr=False)
    balances: dict[str, Decimal] = Field(default_factory=dict)
    # OKX keys carry a passphrase (OK-ACCESS-PASSPHRASE); the other venues ignore it.
    passphrase: str = Field(default="", repr=False)
    # What the key may do, as each venue reports it: Binance GET /sapi/v1/account/apiRestrictions,
    # Bybit GET /v5/user/query-api (readOnly, permissions), OKX GET /api/v5/account/config (perm).
    enable_reading: bool = True
    enable_spot_and_margin_trading: bool = True
    enable_withdrawals: bool = False


class MarketSpec(BaseModel):
    """The liquidity provider: quotes around a seeded random-walk mid, plus random taker flow."""

    model_config = ConfigDict(extra="forbid")

    tick_interval_s: float = 0.1  # one diff-depth event per tick (the @depth@100ms cadence)
    levels: int = 25  # quoted levels per side
    half_spread_ticks: int = 1
    level_step_ticks: int = 1
    volatility_ticks: float = 1.5  # standard deviation of the mid's move per tick
    min_level_lots: int = 100
    max_level_lots: int = 50_000
    refresh_prob: float = 0.2  # chance per tick that a level's size is re-drawn
    taker_prob: float = 0.3  # chance per tick of a market order from the crowd
    taker_max_lots: int = 20_000
    replay: Path | None = None  # a Binance spot recording (<recv_ns> <payload> lines) to replay instead
    replay_symbol: str | None = None  # which configured symbol the recording drives


class FaultSpec(BaseModel):
    """Injected faults. Probabilities use the seeded generator; counters are consumed one by one."""

    model_config = ConfigDict(extra="forbid")

    drop_diff_prob: float = 0.0  # a diff-depth frame is not sent to a connection
    dup_diff_prob: float = 0.0  # a diff-depth frame is sent twice
    disconnect_after_frames: int = 0  # close each WebSocket after this many data frames (0: never)
    snapshot_delay_s: float = 0.0  # REST depth snapshots answer this late
    force_429: int = 0  # the next N REST requests get 429 with Retry-After
    force_418: int = 0  # the next N REST requests get 418 (IP banned)
    # Binance: force_429/force_418 wait until this many new orders were accepted (a mid-session limit).
    rest_faults_after_orders: int = 0
    fail_after_accept: int = 0  # the next N new orders are placed, then answered with a failure
    fail_mode: Literal["5xx", "timeout"] = "5xx"
    outage_after_fail: int = 0  # after each lost answer, the next N REST requests get a gateway 503 too
    timeout_s: float = 30.0  # how long a "timeout" answer hangs
    ack_delay_s: float = 0.0  # new orders are placed at once but acknowledged this late
    partial_fill_lots: int = 0  # resting user orders fill in trades of at most this many lots (0: no cap)


class LimitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    retry_after_s: int = 5
    requests_in_429_before_ban: int = 3  # requests sent during a 429 back-off before the IP is banned
    ban_s: int = 120
    ws_incoming_per_s: int = 5
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    okx_idle_timeout_s: float = 30.0
    bybit_idle_timeout_s: float = 600.0


def _default_symbols() -> list[SymbolSpec]:
    return [
        SymbolSpec(symbol="BTCUSDT", base="BTC", quote="USDT"),
        SymbolSpec(
            symbol="ETHUSDT",
            base="ETH",
            quote="USDT",
            step_size=Decimal("0.0001"),
            start_price=Decimal("2000"),
        ),
    ]


def _default_accounts() -> list[AccountSpec]:
    return [
        AccountSpec(
            name="demo",
            api_key="simkey",
            secret="simsecret",
            passphrase="simpassphrase",
            balances={"USDT": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("20")},
        )
    ]


class SimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks a free port
    seed: int = 7
    symbols: list[SymbolSpec] = Field(default_factory=_default_symbols)
    accounts: list[AccountSpec] = Field(default_factory=_default_accounts)
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    market: MarketSpec = Field(default_factory=MarketSpec)
    faults: FaultSpec = Field(default_factory=FaultSpec)
    limits: LimitSpec = Field(default_factory=LimitSpec)

    @classmethod
    def from_yaml(cls, path: Path) -> SimConfig:
        data = yaml.safe_load(path.read_text()) or {}
        return cls.model_validate(data)
