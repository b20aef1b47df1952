"""The fill ledger: every fill with its fee in quote, the P&L it realized and the position after it.

Definitions (all amounts in the fill's quote currency):

- **Fee in quote** (``fee_quote``): the fee as charged when ``fee_currency`` is the quote; ``fee * price``
  when it is the base; otherwise the producer's own conversion (``Fill.fee_quote``, e.g. BNB fees). A fee
  with neither is kept in its currency (``fee`` and ``fee_currency`` columns), counted as unconverted and
  left out of P&L. The traded quantity is the position change; a base fee is a quote cost, not a smaller
  position.
- **Position**: per (venue, symbol, bot, account, user), signed (short is negative). Buys add, sells
  subtract; a fill may close and then reopen in the other direction.
- **Lots**: each opening fill makes a lot (quantity, cost, fee). **FIFO** closes the oldest lots first;
  **average cost** keeps a single lot, whose price is the quantity-weighted average of what opened it.
- **Realized P&L of a fill** (``realized``) = Σ over the quantity it closes of (exit - entry) * side,
  minus the entry fees of the closed quantity, minus the share of its own fee that belongs to the closing
  part. Fees of the opening part stay with the open lot. So realized is net of every fee it relates to.
- **Unrealized P&L at a mark** = position * mark - open cost - open lots' fees.
- **Cash flow of a fill** = -price * qty for a buy, +price * qty for a sell, - fee in quote.

With these, for any fill sequence and mark: Σ realized + unrealized = Σ cash flow + position * mark (what
the tests check on generated sequences). Arithmetic is exact :class:`~decimal.Decimal` with 50
significant digits, rounded once to the store's 18 decimal places.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

import polars as pl
import pyarrow as pa

Method = Literal["fifo", "average"]
POSITION_KEY = ["venue", "symbol", "bot_id", "account_id", "user_id"]
MONEY = pl.Decimal(38, 18)
ZERO = Decimal(0)
Q18 = Decimal("1e-18")


@dataclass
class _Lot:
    qty: Decimal  # signed
    cost: Decimal  # signed: qty * entry price
    fee: Decimal  # entry fees still attached to this lot


class _Position:
    def __init__(self, method: Method) -> None:
        self.method = method
        self.lots: deque[_Lot] = deque()

    @property
    def qty(self) -> Decimal:
        return sum((lot.qty for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.cost for lot in self.lots), ZERO)

    @property
    def fee(self) -> Decimal:
        return sum((lot.fee for lot in self.lots), ZERO)

    def apply(self, signed_qty: Decimal, price: Decimal, fee: Decimal) -> tuple[Decimal, Decimal]:
        """Book one fill; returns (quantity closed, realized P&L net of the related fees)."""
        qty = abs(signed_qty)
        direction = 1 if signed_qty > 0 else -1
        remaining = qty
        realized = ZERO
        while remaining > 0 and self.lots and (self.lots[0].qty > 0) != (direction > 0):
            lot = self.lots[0]
            take = min(remaining, abs(lot.qty))
            share = take / abs(lot.qty)
            lot_sign = 1 if lot.qty > 0 else -1
            realized += lot_sign * take * price - lot.cost * share - lot.fee * share
            if take == abs(lot.qty):
                self.lots.popleft()
            else:
                lot.qty -= lot_sign * take
                lot.cost -= lot.cost * share
                lot.fee -= lot.fee * share
            remaining -= take
        closed = qty - remaining
        realized -= fee * closed / qty
        if remaining > 0:
            opened = _Lot(direction * remaining, direction * remaining * price, fee * remaining / qty)
            if self.method == "average" and self.lots:
                only = self.lots[0]
                only.qty, only.cost, only.fee = (
                    only.qty + opened.qty,
                    only.cost + opened.cost,
                    only.fee + opened.fee,
                )
            else:
                self.lots.append(opened)
        return closed, realized


def fee_in_quote(
    fee: Decimal, fee_currency: str, price: Decimal, base: str, quote: str, converted: Decimal | None
) -> Decimal | None:
    if fee_currency == quote:
        return fee
    if fee_currency == base:
        return fee * price
    return converted


def _q(value: Decimal) -> Decimal:
    return value.quantize(Q18)


def build_ledger(fills: pa.Table | pl.DataFrame, method: Method = "fifo") -> pl.DataFrame:
    """One row per fill (time order) with fee in quote, realized P&L, position and cash flow after it.

    ``fills`` has the store's ``fills`` columns (``Store.fills()``): at least ts, venue, symbol, bot_id,
    account_id, user_id, trade_id, side, price, qty, base, quote, fee, fee_currency, fee_quote.
    """
    df = fills if isinstance(fills, pl.DataFrame) else pl.from_arrow(fills)
    assert isinstance(df, pl.DataFrame)
    df = df.sort(["ts", "venue", "symbol", "trade_id"], maintain_order=True)
    positions: dict[tuple[object, ...], _Position] = {}
    out: dict[str, list[object]] = {
        k: []
        for k in ("fee_in_quote", "closed_qty", "realized", "position", "open_cost", "open_fees", "cash_flow")
    }
    keys = df.select(POSITION_KEY).rows()
    cols = df.select(["side", "price", "qty", "fee", "fee_currency", "fee_quote", "base", "quote"]).rows()
    with localcontext() as ctx:
        ctx.prec = 50
        for key, (side, price, qty, fee, fee_currency, converted, base, quote) in zip(
            keys, cols, strict=True
        ):
            position = positions.setdefault(key, _Position(method))
            fq = fee_in_quote(fee, fee_currency, price, base, quote, converted)
            fee_q = fq if fq is not None else ZERO
            signed = qty if side == "buy" else -qty
            if qty > 0:
                closed, realized = position.apply(signed, price, fee_q)
            else:
                closed, realized = ZERO, -fee_q  # a zero-quantity fill can only cost its fee
            out["fee_in_quote"].append(None if fq is None else _q(fq))
            out["closed_qty"].append(_q(closed))
            out["realized"].append(_q(realized))
            out["position"].append(_q(position.qty))
            out["open_cost"].append(_q(position.cost))
            out["open_fees"].append(_q(position.fee))
            out["cash_flow"].append(_q(-signed * price - fee_q))
    extra = pl.DataFrame({k: pl.Series(k, v, dtype=MONEY) for k, v in out.items()})
    return pl.concat([df, extra], how="horizontal")
