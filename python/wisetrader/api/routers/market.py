"""Instruments per venue, and top of book, depth and feed health from the market-data core's books."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from wisetrader._core import MarketData
from wisetrader.api.deps import CurrentUser, PageParams, Responses, State
from wisetrader.api.schemas import (
    Depth,
    FeedHealth,
    InstrumentOut,
    MarketVenue,
    Page,
    SymbolHealth,
    TopOfBook,
)
from wisetrader.marketdata.instruments import BUNDLED

router = APIRouter(tags=["market data"])
_errors: Responses = {404: {"description": "this API process follows no book for that venue and symbol"}}
MarketSymbol = Annotated[str, Path(pattern=r"^[A-Z0-9-]{2,32}$", examples=["BTCUSDT"])]


def _book(state: State, venue: str, symbol: str) -> MarketData:
    market = state.markets.get(venue)
    if market is None or symbol not in market.symbols:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no book of {symbol} on {venue} in this process")
    return market


@router.get("/instruments", response_model=Page[InstrumentOut])
async def instruments(
    user: CurrentUser,
    paging: PageParams,
    venue: Annotated[MarketVenue | None, Query()] = None,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Z0-9-]{1,32}$", description="symbol prefix")] = None,
) -> Page[InstrumentOut]:
    """Instruments with their tick size and lot step, filtered by venue and symbol prefix."""
    rows = [
        InstrumentOut(venue=v, symbol=s, tick_size=tick, lot_step=lot)  # type: ignore[arg-type]
        for v, table in sorted(BUNDLED.items())
        for s, (tick, lot) in sorted(table.items())
        if (venue is None or v == venue) and (symbol is None or s.startswith(symbol))
    ]
    items = rows[paging.offset : paging.offset + paging.limit]
    return Page(items=items, total=len(rows), limit=paging.limit, offset=paging.offset)


@router.get("/market/{venue}/{symbol}/top", response_model=TopOfBook, responses=_errors)
async def top_of_book(venue: MarketVenue, symbol: MarketSymbol, user: CurrentUser, state: State) -> TopOfBook:
    """Best bid and ask as exact decimal strings; null while the book is not in sync."""
    market = _book(state, venue, symbol)
    sync, reason = market.state(symbol)
    bid, ask = market.best_bid(symbol), market.best_ask(symbol)
    return TopOfBook(
        venue=venue, symbol=symbol, state=sync, reason=reason, update_id=market.update_id(symbol),
        bid_px=bid[0] if bid else None, bid_qty=bid[1] if bid else None,
        ask_px=ask[0] if ask else None, ask_qty=ask[1] if ask else None,
        mid=market.mid(symbol), spread=market.spread(symbol),
    )  # fmt: skip


@router.get("/market/{venue}/{symbol}/depth", response_model=Depth, responses=_errors)
async def depth(
    venue: MarketVenue,
    symbol: MarketSymbol,
    user: CurrentUser,
    state: State,
    levels: Annotated[int, Query(ge=1, le=1000, description="levels per side")] = 10,
) -> Depth:
    """Up to ``levels`` price levels per side, best first; empty while the book is not in sync."""
    market = _book(state, venue, symbol)
    bids, asks = market.top(symbol, levels)
    sync, _ = market.state(symbol)
    return Depth(
        venue=venue, symbol=symbol, state=sync, update_id=market.update_id(symbol), bids=bids, asks=asks
    )


@router.get("/market/health", response_model=list[FeedHealth])
async def feed_health(user: CurrentUser, state: State) -> list[FeedHealth]:
    """Per attached venue: the core's counters and each symbol's sync state (empty: no market data here)."""
    out = []
    for venue, market in sorted(state.markets.items()):
        symbols = [
            SymbolHealth(symbol=s, state=st, reason=r, update_id=market.update_id(s))
            for s in market.symbols
            for st, r in [market.state(s)]
        ]
        out.append(FeedHealth(venue=venue, counters=dict(market.counters()), symbols=symbols))  # type: ignore[arg-type]
    return out
