"""Bots: create, list, get, update (as a new version), versions, delete, start / pause / stop, and the
emergency close.

Start, pause and stop change the bot's stored status (the run the user asked for) along the allowed
transitions of ``TRANSITIONS``; the emergency close records its request and stops the bot. After the
commit a ``control`` event tells the engine (``engine.control``), which re-reads the database. The bot's
orders, fills, P&L and state are in ``routers.botdata``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from sqlalchemy import select

from wisetrader.api import control
from wisetrader.api.deps import (
    ClientIp,
    CurrentUser,
    Db,
    Id,
    PageParams,
    Responses,
    State,
    invalid,
    not_found,
)
from wisetrader.api.schemas import (
    BotConfig,
    BotCreated,
    BotIn,
    BotOut,
    BotStatus,
    BotUpdate,
    BotVersionOut,
    Page,
)
from wisetrader.bots.model import DcaBotFile, GridBotFile
from wisetrader.bots.plan import plan
from wisetrader.controlplane.models import Bot, BotVersion, ExchangeAccount
from wisetrader.controlplane.repositories import audit, owned, page
from wisetrader.marketdata.venues import VENUES

router = APIRouter(prefix="/bots", tags=["bots"])
_404: Responses = {404: {"description": "no such bot"}}
_config = TypeAdapter[Any](BotConfig)


async def _latest(session: Db, bot: Bot) -> BotVersion:
    row = await session.scalar(
        select(BotVersion).where(BotVersion.bot_id == bot.id, BotVersion.version == bot.version)
    )
    assert row is not None, "a bot always has its current version"
    return row


SYMBOL = re.compile(r"^[A-Za-z0-9._/-]{1,32}$")


def _checked(config: GridBotFile | DcaBotFile) -> dict[str, Any]:
    """The core's plan of ``config``; every validation error it finds becomes one 422 entry."""
    if not SYMBOL.match(config.symbol):
        raise invalid(("body", "config", "symbol"), "must be 1-32 of A-Z a-z 0-9 . _ / -", config.symbol)
    if config.venue not in VENUES:
        raise invalid(("body", "config", "venue"), f"must be one of {sorted(VENUES)}", config.venue)
    try:
        result = plan(config)
    except ValueError as exc:  # the core refuses an instrument it cannot build ("field: reason")
        field, sep, msg = str(exc).partition(": ")
        where = tuple(field.split(".")) if sep and " " not in field else ()
        raise invalid(("body", "config", *where), msg if where else str(exc), None) from None
    if result["errors"]:
        raise RequestValidationError(
            [
                {
                    "type": "core_validation",
                    "loc": ("body", "config", e["field"]),
                    "msg": e["message"],
                    "input": None,
                }
                for e in result["errors"]
            ]
        )
    return result


def _out(bot: Bot, version: BotVersion) -> BotOut:
    names = ("id", "account_id", "name", "kind", "symbol", "mode", "version", "status")
    fields = {c: getattr(bot, c) for c in names}
    return BotOut.model_validate(
        {**fields, "kill_switch": bot.kill_switch, "created_at": bot.created_at, "config": version.config}
    )


async def owned_bot(session: Db, bot_id: int, user_id: int) -> Bot:
    bot = await owned(session, Bot, bot_id, user_id)
    if bot is None:
        raise not_found("bot")
    return bot


@router.post(
    "",
    status_code=201,
    response_model=BotCreated,
    responses={
        403: {"description": "live mode without the account's live opt-in"},
        404: {"description": "no such account"},
    },
)
async def create_bot(body: BotIn, user: CurrentUser, session: Db, ip: ClientIp) -> BotCreated:
    """Create a grid or DCA bot on one of your accounts, validated by the core; the answer carries its plan
    (budget, coverage, profit per grid). Live mode needs the account's live opt-in."""
    account = await owned(session, ExchangeAccount, body.account_id, user.id)
    if account is None:
        raise not_found("account")
    if body.mode == "live" and not account.live_enabled:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this account is not opted in to live trading")
    checked = _checked(body.config)
    bot = Bot(
        owner_id=user.id, account_id=account.id, name=body.name, kind=body.config.kind,
        symbol=body.config.symbol, mode=body.mode, version=1,
    )  # fmt: skip
    session.add(bot)
    await session.flush()
    version = BotVersion(
        bot_id=bot.id, version=1, config=body.config.model_dump(mode="json"), apply_to_running_deals=False
    )
    session.add(version)
    audit(session, user.id, "bot.create", f"bot:{bot.id}", ip, f"kind={bot.kind} mode={bot.mode}")
    await session.commit()
    return BotCreated(**_out(bot, version).model_dump(), plan=checked)


@router.get("", response_model=Page[BotOut])
async def list_bots(user: CurrentUser, session: Db, paging: PageParams) -> Page[BotOut]:
    stmt = (
        select(Bot, BotVersion)
        .join(BotVersion, (BotVersion.bot_id == Bot.id) & (BotVersion.version == Bot.version))
        .where(Bot.owner_id == user.id)
        .order_by(Bot.id)
    )
    total_stmt = select(Bot).where(Bot.owner_id == user.id)
    total = (await page(session, total_stmt, 1, 0)).total
    rows = (await session.execute(stmt.limit(paging.limit).offset(paging.offset))).all()
    return Page(items=[_out(b, v) for b, v in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{bot_id}", response_model=BotOut, responses=_404)
async def get_bot(bot_id: Id, user: CurrentUser, session: Db) -> BotOut:
    bot = await owned_bot(session, bot_id, user.id)
    return _out(bot, await _latest(session, bot))


@router.put(
    "/{bot_id}",
    response_model=BotOut,
    responses={**_404, 422: {"description": "invalid config, or a config of another bot kind"}},
)
async def update_bot(bot_id: Id, body: BotUpdate, user: CurrentUser, session: Db, ip: ClientIp) -> BotOut:
    """Store a new configuration as the next version; earlier versions are kept."""
    bot = await owned_bot(session, bot_id, user.id)
    if body.config.kind != bot.kind:
        raise invalid(("body", "config", "kind"), f"must stay {bot.kind!r}, the bot's kind", body.config.kind)
    if body.config.symbol != bot.symbol:
        raise invalid(("body", "config", "symbol"), f"must stay {bot.symbol!r}", body.config.symbol)
    _checked(body.config)
    bot.version += 1
    version = BotVersion(
        bot_id=bot.id,
        version=bot.version,
        config=body.config.model_dump(mode="json"),
        apply_to_running_deals=body.apply_to_running_deals,
    )
    session.add(version)
    audit(session, user.id, "bot.update", f"bot:{bot.id}", ip, f"version={bot.version}")
    await session.commit()
    return _out(bot, version)


@router.get("/{bot_id}/versions", response_model=Page[BotVersionOut], responses=_404)
async def list_versions(
    bot_id: Id, user: CurrentUser, session: Db, paging: PageParams
) -> Page[BotVersionOut]:
    bot = await owned_bot(session, bot_id, user.id)
    stmt = select(BotVersion).where(BotVersion.bot_id == bot.id).order_by(BotVersion.version)
    res = await page(session, stmt, paging.limit, paging.offset)
    items = [
        BotVersionOut(
            version=v.version,
            config=_config.validate_python(v.config),
            apply_to_running_deals=v.apply_to_running_deals,
            created_at=v.created_at,
        )
        for v in res.items
    ]
    return Page(items=items, total=res.total, limit=paging.limit, offset=paging.offset)


@router.delete(
    "/{bot_id}", status_code=204, responses={**_404, 409: {"description": "the bot is not stopped"}}
)
async def delete_bot(bot_id: Id, user: CurrentUser, session: Db, ip: ClientIp, state: State) -> Response:
    """Delete a stopped bot and its versions (a running or paused bot is a 409: stop it first, so that
    deleting never leaves orders or a position behind unseen; its orders and fills stay in the store)."""
    bot = await owned_bot(session, bot_id, user.id)
    if bot.status != "stopped":
        raise HTTPException(status.HTTP_409_CONFLICT, f"the bot is {bot.status}; stop it first")
    await session.delete(bot)
    audit(session, user.id, "bot.delete", f"bot:{bot_id}", ip)
    await session.commit()
    await control.bot_command(state, bot_id, user.id, "delete")
    return Response(status_code=204)


# action -> (statuses it is allowed from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[BotStatus], BotStatus]] = {
    "start": (frozenset({"stopped", "paused"}), "running"),
    "pause": (frozenset({"running"}), "paused"),
    "stop": (frozenset({"running", "paused"}), "stopped"),
}
_RUN: Responses = {
    **_404,
    403: {"description": "a live bot whose account is no longer opted in to live trading"},
    409: {"description": "not allowed from the bot's current status, or its kill switch is engaged"},
}


async def _transition(
    session: Db, state: State, bot_id: int, action: control.Command, user_id: int, ip: str
) -> BotOut:
    bot = await owned_bot(session, bot_id, user_id)
    allowed_from, to = TRANSITIONS[action]
    if bot.status not in allowed_from:
        raise HTTPException(status.HTTP_409_CONFLICT, f"cannot {action} a bot that is {bot.status}")
    if action == "start":
        if bot.kill_switch:
            raise HTTPException(status.HTTP_409_CONFLICT, "the bot's kill switch is engaged")
        account = await session.get(ExchangeAccount, bot.account_id)
        if bot.mode == "live" and not (account and account.live_enabled):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this account is not opted in to live trading")
    audit(session, user_id, f"bot.{action}", f"bot:{bot.id}", ip, f"{bot.status}->{to}")
    bot.status = to
    await session.commit()
    await control.bot_command(state, bot.id, user_id, action)
    return _out(bot, await _latest(session, bot))


@router.post("/{bot_id}/start", response_model=BotOut, responses=_RUN)
async def start_bot(bot_id: Id, user: CurrentUser, session: Db, ip: ClientIp, state: State) -> BotOut:
    """Ask for the bot to run (from stopped or paused)."""
    return await _transition(session, state, bot_id, "start", user.id, ip)


@router.post("/{bot_id}/pause", response_model=BotOut, responses=_RUN)
async def pause_bot(bot_id: Id, user: CurrentUser, session: Db, ip: ClientIp, state: State) -> BotOut:
    """Ask for a running bot to pause (from running)."""
    return await _transition(session, state, bot_id, "pause", user.id, ip)


@router.post("/{bot_id}/stop", response_model=BotOut, responses=_RUN)
async def stop_bot(bot_id: Id, user: CurrentUser, session: Db, ip: ClientIp, state: State) -> BotOut:
    """Ask for a running or paused bot to stop."""
    return await _transition(session, state, bot_id, "stop", user.id, ip)


@router.post("/{bot_id}/close", response_model=BotOut, responses=_404)
async def close_bot(bot_id: Id, user: CurrentUser, session: Db, ip: ClientIp, state: State) -> BotOut:
    """Emergency close, from any status: the engine cancels the bot's orders and sells (or buys back) its
    whole position at market, whatever the kill switches and trading states say; the bot ends stopped."""
    bot = await owned_bot(session, bot_id, user.id)
    audit(session, user.id, "bot.close", f"bot:{bot.id}", ip, f"{bot.status}->stopped")
    bot.status = "stopped"
    bot.close_requested_at = dt.datetime.now(dt.UTC)
    await session.commit()
    await control.bot_command(state, bot.id, user.id, "close")
    return _out(bot, await _latest(session, bot))
