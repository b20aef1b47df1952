"""The analytics store: ClickHouse through clickhouse-connect, embedded (``chdb://PATH``) or a server.

``chdb://PATH`` runs the ClickHouse engine inside this process with its data under PATH (relative paths
are taken from the working directory; ``chdb://memory`` keeps nothing). chDB allows one data directory
per process, and one process per data directory. ``http://`` and ``https://`` DSNs
(``https://user:pass@host:8443/``) talk to a server or cluster with the same client API and schema.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, get_type_hints

import clickhouse_connect
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from wisetrader.events import (
    BookTop,
    BotState,
    Event,
    Fill,
    OrderIntent,
    OrderUpdate,
    PnlSnapshot,
    RiskDecision,
    Signal,
)
from wisetrader.events.schema import per_class
from wisetrader.store.migrations import MIGRATIONS

TABLE_OF: dict[type[Event], str] = {
    OrderIntent: "orders",
    OrderUpdate: "order_updates",
    Fill: "fills",
    BotState: "bot_states",
    PnlSnapshot: "pnl_snapshots",
    BookTop: "book_tops",
    Signal: "signals",
    RiskDecision: "risk_events",
}
# Event field -> column, where the column holds a DateTime64 rather than the wire's integer.
COLUMN_OF = {"id": "event_id", "ts_ns": "ts", "recv_ns": "recv_ts"}
DECIMAL = pa.decimal128(38, 18)
TIMESTAMP = pa.timestamp("ns", tz="UTC")
MAX_INTEGER_DIGITS = 20


@dataclass
class InsertResult:
    """What one :meth:`Store.insert_events` call did."""

    rows: Counter[str] = field(default_factory=Counter)  # inserted, per table
    duplicates: int = 0  # fills already stored (or repeated in the batch), not inserted again
    rejected: Counter[str] = field(default_factory=Counter)  # by reason: not storable, out of range
    inserted_events: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _arrow_type(name: str, hint: Any) -> pa.DataType:
    text = str(hint)
    if "Decimal" in text:
        return DECIMAL
    if name.endswith("_ns"):
        return TIMESTAMP
    if hint is bool:
        return pa.bool_()
    if hint is int:
        return pa.int64()
    return pa.string()


@per_class
def _layout(cls: type[Event]) -> tuple[tuple[str, str, pa.DataType], ...]:
    """(event field, column, arrow type) for every field of an event class."""
    hints = get_type_hints(cls)
    return tuple(
        (f.name, COLUMN_OF.get(f.name, f.name), _arrow_type(f.name, hints[f.name]))
        for f in dataclasses.fields(cls)
    )


def columns_of(cls: type[Event]) -> list[str]:
    """Column names the table of ``cls`` must have (tested against the migrations)."""
    return ["v", *(column for _, column, _ in _layout(cls))]


def _fits(value: Decimal) -> bool:
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # events only hold finite decimals
    return exponent >= -18 and len(digits) + exponent <= MAX_INTEGER_DIGITS


def _out_of_range(event: Event) -> bool:
    return any(
        isinstance(v, Decimal) and not _fits(v)
        for v in (getattr(event, f) for f, _, _ in _layout(type(event)))
    )


def to_arrow(cls: type[Event], events: Sequence[Event]) -> pa.Table:
    """Events of one class as an Arrow table with the store's column names and types."""
    arrays = {"v": pa.array([cls.version] * len(events), pa.uint16())}
    for name, column, arrow_type in _layout(cls):
        values = [getattr(e, name) for e in events]
        if arrow_type == TIMESTAMP:
            arrays[column] = pa.array(values, pa.int64()).cast(TIMESTAMP)
        else:
            arrays[column] = pa.array(values, arrow_type)
    return pa.table(arrays)


def connect(dsn: str) -> Client:
    """A clickhouse-connect client for a ``chdb://PATH`` or ``http(s)://`` DSN."""
    if dsn.startswith("chdb://"):
        location = dsn.removeprefix("chdb://")
        path = ":memory:" if location in ("", "memory", ":memory:") else os.path.abspath(location)
        if path != ":memory:":
            os.makedirs(path, exist_ok=True)
        return clickhouse_connect.get_client(interface="chdb", path=path)
    if dsn.startswith(("http://", "https://")):
        return clickhouse_connect.get_client(dsn=dsn)
    raise ValueError(f"store DSN must start with chdb://, http:// or https://, got {dsn!r}")


class Store:
    """The schema, inserts and reads, over one clickhouse-connect client."""

    def __init__(self, dsn: str, database: str = "wisetrader") -> None:
        if not database.isidentifier():
            raise ValueError(f"database name must be an identifier, got {database!r}")
        self.dsn = dsn
        self.database = database
        self.client = connect(dsn)
        # One client, used from worker threads (a writer's inserts beside an API's reads): one call at a time.
        self.lock = threading.RLock()

    def close(self) -> None:
        self.client.close()

    # -- schema -----------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.client.command(f"EXISTS TABLE {self.database}.schema_migrations")
        if not int(str(exists)):
            return 0
        return int(str(self.client.command(f"SELECT max(version) FROM {self.database}.schema_migrations")))

    def migrate(self) -> int:
        """Apply the migrations this database lacks; returns the schema version."""
        self.client.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self.client.command(
            f"CREATE TABLE IF NOT EXISTS {self.database}.schema_migrations "
            "(version UInt32, description String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            "ENGINE = ReplacingMergeTree ORDER BY version"
        )
        current = self.schema_version()
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                self.client.command(statement.format(db=self.database))
            self.client.insert(
                f"{self.database}.schema_migrations",
                [[migration.version, migration.description]],
                column_names=["version", "description"],
            )
            current = migration.version
        return current

    # -- writes -----------------------------------------------------------------------------------------

    def insert_events(self, events: Iterable[Event]) -> InsertResult:
        """Insert events into their tables (one Arrow insert per table). Fills already stored are skipped."""
        with self.lock:
            return self._insert_events(events)

    def _insert_events(self, events: Iterable[Event]) -> InsertResult:
        result = InsertResult()
        by_class: dict[type[Event], list[Event]] = defaultdict(list)
        for event in events:
            if type(event) in TABLE_OF:
                by_class[type(event)].append(event)
            else:
                result.rejected["not_stored"] += 1
        if Fill in by_class:
            by_class[Fill] = self._new_fills(by_class[Fill], result)
        for cls, batch in by_class.items():
            try:
                arrow = to_arrow(cls, batch)
            except (pa.ArrowInvalid, OverflowError):
                # Arrow refuses a decimal that does not fit Decimal(38, 18) rather than round it; only
                # then is the batch checked event by event, so the common path stays vectorized.
                fitting = [e for e in batch if not _out_of_range(e)]
                result.rejected["decimal_out_of_range"] += len(batch) - len(fitting)
                batch, arrow = fitting, to_arrow(cls, fitting)
            if not batch:
                continue
            table = TABLE_OF[cls]
            self.client.insert_arrow(f"{self.database}.{table}", arrow)
            result.rows[table] += len(batch)
            result.inserted_events += len(batch)
        return result

    def _new_fills(self, fills: list[Event], result: InsertResult) -> list[Event]:
        """Drop fills whose (venue, symbol, trade_id) is already stored or repeated in this batch.

        Binance trade ids are unique per symbol only, hence the symbol in the key. The batch's keys go
        into a session-local temporary table (one Arrow insert) and are matched with ``IN (subquery)``,
        which ClickHouse resolves through the fills table's primary key; a literal IN list of thousands
        of tuples would cost more to parse than the lookup itself.
        """
        unique: dict[tuple[str, str, str], Event] = {}
        for fill in fills:
            assert isinstance(fill, Fill)
            unique.setdefault((fill.venue, fill.symbol, fill.trade_id), fill)
        venues, symbols, trade_ids = (list(column) for column in zip(*unique, strict=True))
        self.client.command(
            "CREATE TEMPORARY TABLE IF NOT EXISTS wisetrader_batch_keys "
            "(venue String, symbol String, trade_id String) ENGINE = Memory"
        )
        self.client.command("TRUNCATE TABLE wisetrader_batch_keys")
        keys = pa.table({"venue": venues, "symbol": symbols, "trade_id": trade_ids})
        self.client.insert_arrow("wisetrader_batch_keys", keys)
        stored = self.client.query(
            f"SELECT venue, symbol, trade_id FROM {self.database}.fills WHERE (venue, symbol, trade_id) IN "
            "(SELECT venue, symbol, trade_id FROM wisetrader_batch_keys)"
        ).result_rows
        for row in stored:
            unique.pop((row[0], row[1], row[2]), None)
        result.duplicates += len(fills) - len(unique)
        return list(unique.values())

    # -- reads ------------------------------------------------------------------------------------------

    def query_arrow(self, sql: str, parameters: dict[str, Any] | None = None) -> pa.Table:
        with self.lock:
            return self.client.query_arrow(sql.format(db=self.database), parameters=parameters or {})

    def fills(self, start_ns: int | None = None, end_ns: int | None = None) -> pa.Table:
        """Every stored fill (deduplicated, ordered by time), optionally within [start_ns, end_ns)."""
        where = []
        if start_ns is not None:
            where.append(f"ts >= fromUnixTimestamp64Nano({int(start_ns)}, 'UTC')")
        if end_ns is not None:
            where.append(f"ts < fromUnixTimestamp64Nano({int(end_ns)}, 'UTC')")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.query_arrow(
            f"SELECT * FROM {{db}}.fills FINAL {clause} ORDER BY ts, venue, symbol, trade_id"
        )

    def count(self, table: str, *, final: bool = False) -> int:
        if table not in TABLE_OF.values():
            raise ValueError(f"unknown table {table!r}")
        return int(
            str(
                self.client.command(f"SELECT count() FROM {self.database}.{table}{' FINAL' if final else ''}")
            )
        )
