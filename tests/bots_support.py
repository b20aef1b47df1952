"""Consistency checks of paper fills against a bot's reported state (shared by the bot tests)."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wisetrader._core import _Fill as Fill

_ID = re.compile(r"^W(\d+)([A-Z])(\d+)C(\d+)$")


def parse_id(client_id: str) -> tuple[int, str, int, int]:
    """(bot, leg letter, level, cycle) of a deterministic client order id."""
    m = _ID.match(client_id)
    assert m, client_id
    return int(m[1]), m[2], int(m[3]), int(m[4])


def check_grid(
    fills: list[Fill], state: dict[str, Any], investment: Decimal, tick: Decimal, lot: Decimal
) -> int:
    """Every grid sell pairs with a buy one level below (same slot and cycle) or with the initial
    inventory, and the reported balances and grid profit add up to the fills. Returns the number
    of matched pairs."""
    cash = investment
    base = Decimal(0)
    buys: dict[tuple[int, int], list[Fill]] = defaultdict(list)
    sells: dict[tuple[int, int], list[Fill]] = defaultdict(list)
    for f in fills:
        _, leg, level, cycle = parse_id(f["client_id"])
        notional = f["price_ticks"] * tick * f["qty_lots"] * lot
        fee = Decimal(f["fee"])
        if f["side"] == "buy":
            cash -= notional + fee
            base += f["qty_lots"] * lot
        else:
            cash += notional - fee
            base -= f["qty_lots"] * lot
        if leg == "B":
            buys[(level, cycle)].append(f)
        elif leg == "S":
            sells[(level, cycle)].append(f)
    profit = Decimal(0)
    matched = 0
    for key, sold in sells.items():
        bought = buys.get(key, [])
        sold_qty = sum(f["qty_lots"] for f in sold)
        if not bought:
            # Only the base bought at start is sold without a grid buy, in the first cycle.
            assert key[1] == 0, f"sell {key} has no buy one level below"
            continue
        assert sum(f["qty_lots"] for f in bought) == sold_qty, key
        sell_px = {f["price_ticks"] for f in sold}
        buy_px = {f["price_ticks"] for f in bought}
        assert len(sell_px) == len(buy_px) == 1 and min(sell_px) > max(buy_px), key
        # One level apart: no other slot's buy price lies strictly between them.
        all_buy_levels = {f["price_ticks"] for fs in buys.values() for f in fs}
        assert not any(max(buy_px) < p < min(sell_px) for p in all_buy_levels), key
        matched += 1
        for f in sold:
            profit += f["price_ticks"] * tick * f["qty_lots"] * lot - Decimal(f["fee"])
        for f in bought:
            profit -= f["price_ticks"] * tick * f["qty_lots"] * lot + Decimal(f["fee"])
    assert Decimal(state["quote_balance"]) == cash
    assert Decimal(state["base_balance"]) == base
    assert Decimal(state["grid_profit"]) == profit
    assert state["matched_trades"] == matched
    assert Decimal(state["fees"].get("USDT", "0")) == sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    # Never more held than invested: the quote balance never went negative.
    assert cash >= 0
    return matched


def check_dca(fills: list[Fill], state: dict[str, Any], tick: Decimal, lot: Decimal) -> None:
    """Realized P&L is the cash flow of the closed deals; the open position is what the open deal
    bought minus what it sold."""
    by_deal: dict[int, list[Fill]] = defaultdict(list)
    for f in fills:
        by_deal[parse_id(f["client_id"])[3]].append(f)
    realized = Decimal(0)
    for deal, fs in sorted(by_deal.items()):
        flow = sum(
            (
                (1 if f["side"] == "sell" else -1) * f["price_ticks"] * tick * f["qty_lots"] * lot
                - Decimal(f["fee"])
                for f in fs
            ),
            Decimal(0),
        )
        held = sum(((1 if f["side"] == "buy" else -1) * f["qty_lots"] * lot for f in fs), Decimal(0))
        if deal < state["deal"]:
            assert held == 0, f"deal {deal} closed with {held} left"
            realized += flow
        else:
            assert Decimal(state["position"]) == held
            assert all(f["side"] == "buy" for f in fs), "an open deal has not sold yet"
    assert Decimal(state["realized_pnl"]) == realized
    assert state["deals_closed"] == state["deal"]
