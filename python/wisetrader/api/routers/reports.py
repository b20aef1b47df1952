"""Reports from the analytics store: P&L summary over a range, and the caller's fills as CSV or Parquet."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from wisetrader.analytics.report import ReportError, build
from wisetrader.api.deps import CurrentUser, Responses, State, invalid
from wisetrader.api.reports import FillSource
from wisetrader.api.schemas import BotPnl, PnlSummary

router = APIRouter(prefix="/reports", tags=["reports"])
_unavailable: Responses = {503: {"description": "no analytics store attached to this API process"}}
Start = Annotated[dt.datetime | None, Query(description="inclusive, ISO 8601 (UTC if no offset)")]
End = Annotated[dt.datetime | None, Query(description="exclusive, ISO 8601 (UTC if no offset)")]


# Times are i64 ns since the epoch: the range they can express.
FIRST, LAST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(2262, 1, 1, tzinfo=dt.UTC)


def _ns(value: dt.datetime | None, name: str) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if not FIRST <= value < LAST:
        raise invalid(("query", name), "must be between 1970-01-01 and 2262-01-01", value.isoformat())
    return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1000


def _source(state: State) -> FillSource:
    if state.fills is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "reports are not available: no store attached"
        )
    return state.fills


def _range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[int | None, int | None]:
    start_ns, end_ns = _ns(start, "start"), _ns(end, "end")
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise invalid(("query", "end"), "must be after start", end.isoformat() if end else None)
    return start_ns, end_ns


async def _fills(state: State, user_id: int, start_ns: int | None, end_ns: int | None) -> pl.DataFrame:
    source = _source(state)
    table = await run_in_threadpool(source.user_fills, user_id, start_ns, end_ns)
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


@router.get(
    "/fills",
    responses={
        **_unavailable,
        200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}, "description": "your fills"},
    },
    response_class=Response,
)
async def export_fills(
    user: CurrentUser,
    state: State,
    start: Start = None,
    end: End = None,
    format: Annotated[Literal["csv", "parquet"], Query(description="file format")] = "csv",
) -> Response:
    """Your fills in [start, end), oldest first; money columns keep their full decimal precision."""
    start_ns, end_ns = _range(start, end)
    df = await _fills(state, user.id, start_ns, end_ns)
    buf = io.BytesIO()
    if format == "parquet":
        df.write_parquet(buf)
        media = "application/vnd.apache.parquet"
    else:
        df.write_csv(buf)
        media = "text/csv"
    disposition = f'attachment; filename="fills.{format}"'
    return Response(buf.getvalue(), media_type=media, headers={"Content-Disposition": disposition})


@router.get("/pnl", response_model=PnlSummary, responses={**_unavailable, 404: {"description": "no fills"}})
async def pnl_summary(
    user: CurrentUser,
    state: State,
    start: Start = None,
    end: End = None,
    capital: Annotated[float, Query(gt=0, le=1e15, description="starting capital in quote")] = 10_000.0,
    quote: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2,12}$", description="quote currency")] = None,
) -> PnlSummary:
    """P&L and risk metrics of your fills over [start, end) (positions opened before start count)."""
    start_ns, end_ns = _range(start, end)
    df = await _fills(state, user.id, None, end_ns)
    try:
        report = build(df, capital=capital, start_ns=start_ns, end_ns=end_ns, quote=quote)
    except ReportError as exc:
        if "no fills" in str(exc):
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        raise invalid(("query", "quote"), str(exc), quote) from None
    m = report.metrics
    money = ("fees", "grid_profit", "floating", "total")
    by_bot = [
        BotPnl.model_validate({**row, **{k: str(row[k]) for k in money}})
        for row in report.by_bot.iter_rows(named=True)
    ]
    return PnlSummary(
        quote=report.quote, fills=report.fills, starting_capital=m.starting_capital,
        final_equity=m.final_equity, total_return=m.total_return, max_drawdown=m.max_drawdown.relative,
        trades=m.trades, wins=m.wins, losses=m.losses, win_rate=m.win_rate, by_bot=by_bot,
    )  # fmt: skip
