"""Where the API reads a bot's orders, fills, P&L and state: the analytics store, filtered by bot and owner.

The engine publishes every order update, fill, ``BotState`` and ``PnlSnapshot`` with the bot's and its
owner's ids; the store writer keeps them. Every query names the user as well as the bot, so even a wrong
bot id cannot read another user's rows. Calls run in worker threads (the store client serializes them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from wisetrader.store import Store

OPEN_STATUSES = ("in_flight", "new", "partially_filled")


class BotData(Protocol):
    def orders(
        self, user_id: int, bot_id: int, open_only: bool, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]: ...
    def fills(
        self, user_id: int, bot_id: int, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]: ...
    def fill_totals(self, user_id: int, bot_id: int) -> dict[str, Any]: ...
    def latest(self, table: str, user_id: int, bot_id: int) -> dict[str, Any] | None: ...


def text(value: Any) -> Any:
    """A stored decimal as a plain decimal string (``30000``, ``0.00001``); other values unchanged."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return value


class StoreBotData:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        return [{k: text(v) for k, v in row.items()} for row in self.store.query_arrow(sql).to_pylist()]

    @staticmethod
    def _where(user_id: int, bot_id: int) -> str:
        # Both are ints (path and caller), so inlining them cannot inject anything.
        return f"user_id = '{int(user_id)}' AND bot_id = '{int(bot_id)}'"

    def orders(
        self, user_id: int, bot_id: int, open_only: bool, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        having = f"HAVING status IN {OPEN_STATUSES}" if open_only else ""
        latest = (
            "SELECT client_order_id, argMax(status, ts) AS status, any(side) AS side, "
            "any(order_type) AS order_type, any(price) AS price, any(qty) AS qty, "
            "max(filled_qty) AS filled_qty, min(ts) AS created, max(ts) AS updated "
            f"FROM {{db}}.order_updates WHERE {self._where(user_id, bot_id)} "
            f"GROUP BY client_order_id {having}"
        )
        total = self._rows(f"SELECT count() AS n FROM ({latest})")[0]["n"]
        rows = self._rows(
            f"{latest} ORDER BY created, client_order_id LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        return rows, int(total)

    def fills(self, user_id: int, bot_id: int, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        where = self._where(user_id, bot_id)
        total = self._rows(f"SELECT count() AS n FROM {{db}}.fills FINAL WHERE {where}")[0]["n"]
        rows = self._rows(
            "SELECT ts, trade_id, client_order_id, side, price, qty, base, quote, fee, fee_currency, "
            f"liquidity FROM {{db}}.fills FINAL WHERE {where} ORDER BY ts, trade_id "
            f"LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        return rows, int(total)

    def fill_totals(self, user_id: int, bot_id: int) -> dict[str, Any]:
        """Sums over every fill: what was bought and sold, and the fees in the quote currency."""
        return self._rows(
            "SELECT count() AS fills, "
            "sumIf(qty, side = 'buy') AS bought_qty, sumIf(qty, side = 'sell') AS sold_qty, "
            "sumIf(multiplyDecimal(price, qty, 18), side = 'buy') AS bought_quote, "
            "sumIf(multiplyDecimal(price, qty, 18), side = 'sell') AS sold_quote, "
            "sumIf(fee, fee_currency = quote) + sumIf(multiplyDecimal(fee, price, 18), fee_currency = base) "
            "AS fees_quote "
            f"FROM {{db}}.fills FINAL WHERE {self._where(user_id, bot_id)}"
        )[0]

    def latest(self, table: str, user_id: int, bot_id: int) -> dict[str, Any] | None:
        """The newest row of ``bot_states`` or ``pnl_snapshots`` for the bot."""
        if table not in ("bot_states", "pnl_snapshots"):
            raise ValueError(f"not a bot table: {table!r}")
        rows = self._rows(
            f"SELECT * FROM {{db}}.{table} WHERE {self._where(user_id, bot_id)} "
            "ORDER BY ts DESC, event_id LIMIT 1"
        )
        return rows[0] if rows else None
