"""The control-plane tables. Every row a user owns carries ``owner_id`` so that queries can be scoped."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wisetrader.risk import TradingState


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        # The risk gate's enum, stored by name in a plain VARCHAR(16) (no database enum type to migrate).
        TradingState: Enum(
            TradingState,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda e: [s.value for s in e],
        ),
    }


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """An issued refresh token (by JWT id). Rotation revokes it; reusing a revoked one revokes its family."""

    __tablename__ = "refresh_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A personal API token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ExchangeAccount(Base):
    """An exchange account with its API key, encrypted under an envelope (see ``crypto``)."""

    __tablename__ = "exchange_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    venue: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    api_key_hint: Mapped[str] = mapped_column(String(16))
    master_key_id: Mapped[str] = mapped_column(String(32))
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    secret_blob: Mapped[bytes] = mapped_column(LargeBinary)
    live_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_disclosure_version: Mapped[str | None] = mapped_column(String(32), default=None)
    risk_disclosure_accepted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # ACTIVE, REDUCING (only orders that shrink exposure) or HALTED (no new orders); see GlobalTradingState.
    trading_state: Mapped[TradingState] = mapped_column(default=TradingState.ACTIVE, server_default="ACTIVE")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bot(Base):
    __tablename__ = "bots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    symbol: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(8), default="paper")
    version: Mapped[int] = mapped_column(Integer, default=1)
    kill_switch: Mapped[bool] = mapped_column(Boolean, default=False)
    # stopped, running or paused: what the user asked for; the engine picks it up (see api.routers.bots).
    status: Mapped[str] = mapped_column(String(16), default="stopped", server_default="stopped")
    # Last emergency close asked for; the engine closes once per new value (a lost event cannot lose it).
    close_requested_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BotVersion(Base):
    """Every configuration a bot ever had; an update adds a version, nothing is overwritten."""

    __tablename__ = "bot_versions"
    __table_args__ = (UniqueConstraint("bot_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column()
    apply_to_running_deals: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RiskLimit(Base):
    """Risk limits for an account (``bot_id`` null) or for one bot. Amounts are decimal strings."""

    __tablename__ = "risk_limits"
    __table_args__ = (UniqueConstraint("account_id", "bot_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"))
    bot_id: Mapped[int | None] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), default=None)
    max_position_notional: Mapped[str | None] = mapped_column(String(40), default=None)
    max_daily_loss: Mapped[str | None] = mapped_column(String(40), default=None)
    max_open_orders: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserTradingState(Base):
    """The user's global kill switch: when on, the engine must not open exposure for any of their bots."""

    __tablename__ = "user_trading_state"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kill_switch: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GlobalTradingState(Base):
    """The platform-wide trading state (one row, id 1; absent means ACTIVE), set by an admin. The engine
    trades an account under the stricter of this and the account's own state."""

    __tablename__ = "global_trading_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[TradingState] = mapped_column(default=TradingState.ACTIVE)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what, when, from where. Written for every change and every manual action."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
