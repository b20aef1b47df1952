"""Risk limits with safe defaults, per account and per bot; amounts are decimal quote-currency values."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class BotLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_order_notional: Decimal = Decimal("1000")  # one order
    max_notional: Decimal = Decimal("5000")  # open orders + position value of the bot
    max_open_orders: int = 50


class AccountLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_order_notional: Decimal = Decimal("5000")
    max_notional: Decimal = Decimal("25000")  # open orders + position value on the account
    max_open_orders: int = 200
    daily_loss_limit: Decimal = Decimal("500")  # realized loss in one UTC day: the account goes REDUCING
    max_drawdown: Decimal = Decimal("0.10")  # from the equity peak: the account HALTS for the cooldown
    drawdown_cooldown_s: float = 3600.0
    # Order-rate budget: this fraction of the venue's published limit (headroom for cancels and retries).
    rate_budget_fraction: Decimal = Decimal("0.8")


class RiskLimits(BaseModel):
    """Defaults for every account and bot, plus overrides by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price_band: Decimal = Decimal("0.05")  # an order's price may deviate this much from the book's mid
    account: AccountLimits = Field(default_factory=AccountLimits)
    bot: BotLimits = Field(default_factory=BotLimits)
    accounts: dict[str, AccountLimits] = Field(default_factory=dict)
    bots: dict[str, BotLimits] = Field(default_factory=dict)

    def for_account(self, name: str) -> AccountLimits:
        return self.accounts.get(name, self.account)

    def for_bot(self, bot_id: str) -> BotLimits:
        return self.bots.get(bot_id, self.bot)
