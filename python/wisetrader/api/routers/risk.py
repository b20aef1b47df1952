"""Risk limits per account and per bot, the global and per-bot kill switches, and the trading state
(ACTIVE / REDUCING / HALTED) per account and platform-wide (stored; the engine's risk gate reads them)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from sqlalchemy import select

from wisetrader.api import control
from wisetrader.api.deps import AdminUser, ClientIp, CurrentUser, Db, Id, Responses, State, not_found
from wisetrader.api.routers.bots import owned_bot
from wisetrader.api.schemas import (
    AccountTradingStateOut,
    KillSwitchIn,
    KillSwitchOut,
    LimitsIn,
    LimitsOut,
    TradingStateIn,
    TradingStateOut,
)
from wisetrader.controlplane.models import ExchangeAccount, GlobalTradingState, RiskLimit, UserTradingState
from wisetrader.controlplane.repositories import audit, owned
from wisetrader.risk import TradingState

router = APIRouter(prefix="/risk", tags=["risk"])
_404: Responses = {404: {"description": "no such account or bot"}}


async def _limits(session: Db, owner_id: int, account_id: int, bot_id: int | None) -> RiskLimit:
    row = await session.scalar(
        select(RiskLimit).where(
            RiskLimit.account_id == account_id,
            RiskLimit.bot_id.is_(None) if bot_id is None else RiskLimit.bot_id == bot_id,
        )
    )
    if row is None:
        row = RiskLimit(
            owner_id=owner_id, account_id=account_id, bot_id=bot_id, updated_at=dt.datetime.now(dt.UTC)
        )
        session.add(row)
    return row


async def _set(session: Db, state: State, row: RiskLimit, body: LimitsIn, user_id: int, ip: str) -> LimitsOut:
    row.max_position_notional = body.max_position_notional
    row.max_daily_loss = body.max_daily_loss
    row.max_open_orders = body.max_open_orders
    row.updated_at = dt.datetime.now(dt.UTC)
    target = f"bot:{row.bot_id}" if row.bot_id is not None else f"account:{row.account_id}"
    audit(session, user_id, "risk.limits", target, ip, body.model_dump_json())
    await session.commit()
    await control.changed(
        state,
        "bot" if row.bot_id is not None else "account",
        user_id=user_id,
        account_id=row.account_id,
        bot_id=row.bot_id,
    )
    return LimitsOut.model_validate(row)


async def _account(session: Db, account_id: int, user_id: int) -> ExchangeAccount:
    account = await owned(session, ExchangeAccount, account_id, user_id)
    if account is None:
        raise not_found("account")
    return account


@router.get("/accounts/{account_id}/limits", response_model=LimitsOut, responses=_404)
async def get_account_limits(account_id: Id, user: CurrentUser, session: Db) -> LimitsOut:
    """Limits of an account (all null when none were set)."""
    account = await _account(session, account_id, user.id)
    return LimitsOut.model_validate(await _limits(session, user.id, account.id, None))


@router.put("/accounts/{account_id}/limits", response_model=LimitsOut, responses=_404)
async def put_account_limits(
    account_id: Id, body: LimitsIn, user: CurrentUser, session: Db, ip: ClientIp, state: State
) -> LimitsOut:
    """Replace the limits of an account; a null field means the engine's default."""
    account = await _account(session, account_id, user.id)
    return await _set(session, state, await _limits(session, user.id, account.id, None), body, user.id, ip)


@router.get("/bots/{bot_id}/limits", response_model=LimitsOut, responses=_404)
async def get_bot_limits(bot_id: Id, user: CurrentUser, session: Db) -> LimitsOut:
    bot = await owned_bot(session, bot_id, user.id)
    return LimitsOut.model_validate(await _limits(session, user.id, bot.account_id, bot.id))


@router.put("/bots/{bot_id}/limits", response_model=LimitsOut, responses=_404)
async def put_bot_limits(
    bot_id: Id, body: LimitsIn, user: CurrentUser, session: Db, ip: ClientIp, state: State
) -> LimitsOut:
    bot = await owned_bot(session, bot_id, user.id)
    row = await _limits(session, user.id, bot.account_id, bot.id)
    return await _set(session, state, row, body, user.id, ip)


@router.get("/kill-switch", response_model=KillSwitchOut)
async def get_kill_switch(user: CurrentUser, session: Db) -> KillSwitchOut:
    """Your global kill switch: when engaged, none of your bots may open exposure."""
    row = await session.get(UserTradingState, user.id)
    return KillSwitchOut(engaged=bool(row and row.kill_switch))


@router.put("/kill-switch", response_model=KillSwitchOut)
async def put_kill_switch(
    body: KillSwitchIn, user: CurrentUser, session: Db, ip: ClientIp, state: State
) -> KillSwitchOut:
    row = await session.get(UserTradingState, user.id)
    if row is None:
        row = UserTradingState(user_id=user.id)
        session.add(row)
    row.kill_switch = body.engaged
    row.updated_at = dt.datetime.now(dt.UTC)
    audit(session, user.id, "risk.kill_switch", f"user:{user.id}", ip, f"engaged={body.engaged}")
    await session.commit()
    await control.changed(state, "user", user_id=user.id)
    return KillSwitchOut(engaged=body.engaged)


@router.put("/bots/{bot_id}/kill-switch", response_model=KillSwitchOut, responses=_404)
async def put_bot_kill_switch(
    bot_id: Id, body: KillSwitchIn, user: CurrentUser, session: Db, ip: ClientIp, state: State
) -> KillSwitchOut:
    bot = await owned_bot(session, bot_id, user.id)
    bot.kill_switch = body.engaged
    audit(session, user.id, "risk.bot_kill_switch", f"bot:{bot.id}", ip, f"engaged={body.engaged}")
    await session.commit()
    await control.changed(state, "bot", user_id=user.id, account_id=bot.account_id, bot_id=bot.id)
    return KillSwitchOut(engaged=body.engaged)


_GLOBAL_ROW = 1


async def _global_state(session: Db) -> TradingState:
    row = await session.get(GlobalTradingState, _GLOBAL_ROW)
    return row.state if row else TradingState.ACTIVE


async def _account_state(session: Db, account: ExchangeAccount) -> AccountTradingStateOut:
    own, platform = account.trading_state, await _global_state(session)
    effective = TradingState.strictest(own, platform)
    return AccountTradingStateOut(state=own, global_state=platform, effective=effective)


@router.get("/trading-state", response_model=TradingStateOut)
async def get_global_trading_state(user: CurrentUser, session: Db) -> TradingStateOut:
    """The platform-wide trading state (any signed-in user may read it; only an admin sets it)."""
    return TradingStateOut(state=await _global_state(session))


@router.put("/trading-state", response_model=TradingStateOut)
async def put_global_trading_state(
    body: TradingStateIn, admin: AdminUser, session: Db, ip: ClientIp, state: State
) -> TradingStateOut:
    """Set the platform-wide trading state; it applies to every account on top of the account's own."""
    row = await session.get(GlobalTradingState, _GLOBAL_ROW)
    if row is None:
        row = GlobalTradingState(id=_GLOBAL_ROW)
        session.add(row)
    row.state = body.state
    row.updated_at = dt.datetime.now(dt.UTC)
    audit(session, admin.id, "risk.global_trading_state", "global", ip, f"state={body.state}")
    await session.commit()
    await control.changed(state, "global")
    return TradingStateOut(state=body.state)


@router.get("/accounts/{account_id}/trading-state", response_model=AccountTradingStateOut, responses=_404)
async def get_account_trading_state(account_id: Id, user: CurrentUser, session: Db) -> AccountTradingStateOut:
    """The account's own trading state, the global one, and the effective (stricter) of the two."""
    return await _account_state(session, await _account(session, account_id, user.id))


@router.put("/accounts/{account_id}/trading-state", response_model=AccountTradingStateOut, responses=_404)
async def put_account_trading_state(
    account_id: Id, body: TradingStateIn, user: CurrentUser, session: Db, ip: ClientIp, state: State
) -> AccountTradingStateOut:
    account = await _account(session, account_id, user.id)
    account.trading_state = body.state
    audit(session, user.id, "risk.trading_state", f"account:{account.id}", ip, f"state={body.state}")
    await session.commit()
    await control.changed(state, "account", user_id=user.id, account_id=account.id)
    return await _account_state(session, account)
