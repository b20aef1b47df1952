"""``wisetrader plan BOT.yaml``: what a bot will do and what it needs, before it runs."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from wisetrader import _core
from wisetrader.bots.model import DcaBotFile, GridBotFile, core_args


def plan(bot: DcaBotFile | GridBotFile) -> dict[str, Any]:
    """The plan as one JSON-ready object; numbers are decimal strings."""
    kind, instrument, spec = core_args(bot)
    out: dict[str, Any] = json.loads(_core.plan_bot(kind, instrument, spec))
    out = {"venue": bot.venue, "symbol": bot.symbol, **out}
    out["valid"] = not out["errors"]
    return out


def _decimals(x: str) -> int:
    return len(x.partition(".")[2])


def _dp(x: str, n: int) -> str:
    """``x`` rounded half-up to at most ``n`` decimals, trailing zeros kept to ``n``."""
    return str(Decimal(x).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP))


def render(p: dict[str, Any], console: Console) -> None:
    """Rich tables for a terminal."""
    title = f"{p['kind'].upper()} bot on {p['venue']} {p['symbol']} (start price {p['start_price']})"
    if p["kind"] == "dca":
        t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for col in ("#", "dev %", "price", "qty", "quote", "total", "avg", "TP", "bounce %"):
            t.add_column(col, justify="right")
        # The table rounds for reading (prices to the tick plus two digits, quote to cents);
        # --json has the exact values.
        pdp = _decimals(p["orders"][-1]["price"]) + 2 if p["orders"] else 2
        for o in p["orders"]:
            t.add_row(
                "base" if o["number"] == 0 else str(o["number"]),
                _dp(o["deviation_pct"], 4),
                o["price"],
                o["qty"],
                _dp(o["quote"], 2),
                _dp(o["cum_quote"], 2),
                _dp(o["avg_entry"], pdp),
                _dp(o["take_profit"], pdp),
                _dp(o["bounce_pct"], 2),
            )
        console.print(t)
        console.print(
            f"max funds: [bold]{p['max_funds']}[/]   max price deviation: {p['max_deviation_pct']} %"
        )
    else:
        t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("level", "price", "buy at", "sell at", "qty", "at start"):
            t.add_column(col, justify="right")
        for lv in p["level_detail"]:
            t.add_row(
                str(lv["index"]), lv["price"], lv["buy_price"], lv["sell_price"], lv["qty"], lv["at_start"]
            )
        console.print(t)
        g, n = p["gross_profit_per_grid_pct"], p["net_profit_per_grid_pct"]
        console.print(
            f"profit per grid: gross {g['min']} to {g['max']} %, net of fees {n['min']} to {n['max']} %\n"
            f"minimum investment: [bold]{p['min_investment']}[/]   investment: {p['investment']}"
            f"   needed at start: {p['investment_needed']}   initial buy: {p['initial_buy_qty']}"
        )
    for w in p["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    for e in p["errors"]:
        console.print(f"[red]error:[/] {e['field']}: {e['message']}")
