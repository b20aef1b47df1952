"""Where the API reads fills for reports: a small protocol, and its implementation over the store."""

from __future__ import annotations

import threading
from typing import Protocol

import pyarrow as pa

from wisetrader.store import Store


class FillSource(Protocol):
    def user_fills(self, user_id: int, start_ns: int | None, end_ns: int | None) -> pa.Table:
        """The user's fills (deduplicated, ordered by time), optionally within [start_ns, end_ns)."""
        ...


class StoreFills:
    """Fills from the analytics store; calls are serialized (one client, used from worker threads)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()

    def user_fills(self, user_id: int, start_ns: int | None, end_ns: int | None) -> pa.Table:
        # Every value is an int, so inlining them cannot inject anything.
        where = [f"user_id = '{int(user_id)}'"]
        if start_ns is not None:
            where.append(f"ts >= fromUnixTimestamp64Nano({int(start_ns)}, 'UTC')")
        if end_ns is not None:
            where.append(f"ts < fromUnixTimestamp64Nano({int(end_ns)}, 'UTC')")
        order = "ORDER BY ts, venue, symbol, trade_id"
        sql = f"SELECT * FROM {{db}}.fills FINAL WHERE {' AND '.join(where)} {order}"
        with self._lock:
            return self.store.query_arrow(sql)
