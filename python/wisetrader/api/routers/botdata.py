"""A bot's orders, fills, P&L and state, as the engine reported them (read from the analytics store).

Owner-checked like every bot route (another user's bot is a 404), paginated, and 503 when this API
process has no store attached.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from wisetrader.api.botdata import BotData
from wisetrader.api.deps import CurrentUser, Db, Id, PageParams, Responses, State
from wisetrader.api.routers.bots import owned_bot
from wisetrader.api.schemas import BotFillOut, BotOrderOut, BotPnlOut, BotStateOut, FillTotals, Page

router = APIRouter(prefix="/bots", tags=["bots"])
_RESPONSES: Responses = {
    404: {"description": "no such bot"},
    503: {"description": "no analytics store attached to this API process"},
}


def _source(state: State) -> BotData:
    if state.bot_data is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "bot data is not available: no store attached"
        )
    return state.bot_data


@router.get("/{bot_id}/orders", response_model=Page[BotOrderOut], responses=_RESPONSES)
async def bot_orders(
    bot_id: Id,
    user: CurrentUser,
    session: Db,
    state: State,
    paging: PageParams,
    open: Annotated[
        bool, Query(description="only orders still working (in flight, new, partly filled)")
    ] = False,
) -> Page[BotOrderOut]:
    """The bot's orders with their latest status, oldest first."""
    bot = await owned_bot(session, bot_id, user.id)
    source = _source(state)
    rows, total = await run_in_threadpool(source.orders, user.id, bot.id, open, paging.limit, paging.offset)
    items = [BotOrderOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{bot_id}/fills", response_model=Page[BotFillOut], responses=_RESPONSES)
async def bot_fills(
    bot_id: Id, user: CurrentUser, session: Db, state: State, paging: PageParams
) -> Page[BotFillOut]:
    """The bot's fills (partial fills included), oldest first; fees in the currency charged."""
    bot = await owned_bot(session, bot_id, user.id)
    source = _source(state)
    rows, total = await run_in_threadpool(source.fills, user.id, bot.id, paging.limit, paging.offset)
    items = [BotFillOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{bot_id}/pnl", response_model=BotPnlOut, responses=_RESPONSES)
async def bot_pnl(bot_id: Id, user: CurrentUser, session: Db, state: State) -> BotPnlOut:
    """The engine's latest P&L snapshot of the bot, with its fills summed beside it."""
    bot = await owned_bot(session, bot_id, user.id)
    source = _source(state)
    snap = await run_in_threadpool(source.latest, "pnl_snapshots", user.id, bot.id)
    totals = await run_in_threadpool(source.fill_totals, user.id, bot.id)
    fields = ("quote", "mark_price", "position_qty", "realized", "unrealized", "fees", "equity")
    return BotPnlOut(
        bot_id=bot.id,
        as_of=snap["ts"] if snap else None,
        **{f: (str(snap[f]) if snap else None) for f in fields},
        totals=FillTotals.model_validate({k: str(v) if k != "fills" else v for k, v in totals.items()}),
    )


@router.get("/{bot_id}/state", response_model=BotStateOut, responses=_RESPONSES)
async def bot_state(bot_id: Id, user: CurrentUser, session: Db, state: State) -> BotStateOut:
    """What was asked of the bot (its stored status) and what the engine last reported about it."""
    bot = await owned_bot(session, bot_id, user.id)
    source = _source(state)
    row: dict[str, Any] | None = await run_in_threadpool(source.latest, "bot_states", user.id, bot.id)
    return BotStateOut(
        bot_id=bot.id,
        status=bot.status,  # type: ignore[arg-type]
        state=row["state"] if row else None,
        as_of=row["ts"] if row else None,
        position_qty=row["position_qty"] if row else None,
        avg_price=row["avg_price"] if row else None,
        open_orders=row["open_orders"] if row else None,
        detail=row["detail"] if row else "",
    )
