"""The bot file: one YAML document per bot, validated by pydantic (unknown keys are refused).

Prices, sizes and rates are decimals, written as strings (``"0.001"``); plain YAML numbers are
accepted and read through their decimal text, never used as binary floats. The semantics (levels,
ladders, budgets, venue minimums) are checked by the Rust core, the one place that does that maths.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)


def _to_decimal(v: object) -> Decimal:
    if isinstance(v, bool):
        raise ValueError("expected a decimal number, got a boolean")
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int | float | str):
        # A YAML float is read through its shortest decimal text ("0.001"), never as a binary value.
        try:
            d = Decimal(str(v).strip())
        except InvalidOperation:
            raise ValueError(f"{v!r} is not a decimal number") from None
        if not d.is_finite():
            raise ValueError(f"{v!r} is not a finite decimal number")
        return d
    raise ValueError(f"expected a decimal number as a string, got {type(v).__name__}")


Dec = Annotated[Decimal, BeforeValidator(_to_decimal), PlainSerializer(lambda d: str(d), return_type=str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstrumentRules(_Strict):
    """The venue's filters for the symbol."""

    tick_size: Dec
    lot_step: Dec
    min_qty: Dec | None = None
    min_notional: Dec | None = None
    base_asset: str = "BASE"
    quote_asset: str = "QUOTE"


class OrderSize(_Strict):
    """An order size in quote or in base (give exactly one)."""

    quote: Dec | None = None
    base: Dec | None = None


class Investment(_Strict):
    quote: Dec
    base: Dec = Decimal(0)


class TakeProfitStep(_Strict):
    amount_pct: Dec
    profit_pct: Dec


class _Common(_Strict):
    venue: str
    symbol: str
    instrument: InstrumentRules
    fee_rate: Dec
    placement: Literal["resting", "virtual"] = "resting"
    start_price: Dec | None = Field(default=None, description="price used by the plan")


class DcaBotFile(_Common):
    kind: Literal["dca"]
    side: Literal["long", "short"] = "long"
    base_order: OrderSize
    safety_order: OrderSize
    price_deviation_pct: Dec
    step_scale: Dec = Decimal(1)
    volume_scale: Dec = Decimal(1)
    max_safety_orders: int = Field(ge=0)
    max_active_safety_orders: int | None = Field(default=None, ge=0)
    take_profit_pct: Dec
    take_profit_type: Literal["total", "base"] = "total"
    take_profit_steps: list[TakeProfitStep] = Field(default_factory=list)
    trailing_deviation_pct: Dec | None = None
    stop_loss_pct: Dec | None = None
    sl_to_breakeven: bool = False
    cooldown_seconds: int = Field(default=0, ge=0)
    start: Literal["asap", "price", "signal"] = "asap"
    start_trigger_price: Dec | None = None
    start_order_type: Literal["market", "limit"] = "market"
    max_deals: int | None = Field(default=None, ge=1)
    budget: Dec | None = None


class GridBotFile(_Common):
    kind: Literal["grid"]
    lower: Dec
    upper: Dec
    grids: int = Field(ge=1)
    spacing: Literal["arithmetic", "geometric"] = "arithmetic"
    investment: Investment
    sizing: Literal["equal_base", "equal_quote"] = "equal_base"
    trigger_price: Dec | None = None
    take_profit_price: Dec | None = None
    stop_loss_price: Dec | None = None
    sell_base_on_stop: bool = False
    trailing_up: bool = False
    trailing_up_limit: Dec | None = None


BotFile = Annotated[DcaBotFile | GridBotFile, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[DcaBotFile | GridBotFile] = TypeAdapter(BotFile)
_NOT_CORE = {"kind", "venue", "symbol", "instrument"}


class BotFileError(ValueError):
    """A bot file that cannot be read; the message lists every problem, one per line."""


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("dca", "grid")) or "(file)"


def parse_bot(data: Any, source: str = "bot file") -> DcaBotFile | GridBotFile:
    """Validate a parsed document; every problem is named by its key."""
    if not isinstance(data, dict):
        raise BotFileError(f"{source}: expected a mapping of keys, got {type(data).__name__}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            if err["type"] == "extra_forbidden":
                lines.append(f"{_where(err['loc'])}: unknown key")
            else:
                lines.append(f"{_where(err['loc'])}: {err['msg']}")
        raise BotFileError(f"{source}:\n  " + "\n  ".join(lines)) from None


def load_bot_file(path: str | Path) -> DcaBotFile | GridBotFile:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise BotFileError(f"{p}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise BotFileError(f"{p}: not valid YAML: {e}") from None
    return parse_bot(data, str(p))


def core_args(bot: DcaBotFile | GridBotFile) -> tuple[str, str, str]:
    """(kind, instrument JSON, spec JSON) as the Rust core takes them."""
    spec = bot.model_dump(mode="json", exclude=_NOT_CORE, exclude_none=True)
    instrument = bot.instrument.model_dump(mode="json", exclude_none=True)
    return bot.kind, json.dumps(instrument), json.dumps(spec)
