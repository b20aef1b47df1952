"""The ClickHouse store on the embedded engine (chDB): schema, migrations, inserts, deduplication."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from wisetrader.events import Fill, Health, OrderUpdate
from wisetrader.store import TABLE_OF, Store, columns_of
from wisetrader.store.migrations import MIGRATIONS

from .support import make_fill, make_top
from .test_events_schema import SAMPLES


def test_migrations_are_idempotent_and_tables_match_the_events(store: Store) -> None:
    assert store.schema_version() == MIGRATIONS[-1].version
    assert store.migrate() == MIGRATIONS[-1].version  # second run changes nothing
    versions = store.client.query(f"SELECT version FROM {store.database}.schema_migrations FINAL").result_rows
    assert versions == [(m.version,) for m in MIGRATIONS]
    for cls, table in TABLE_OF.items():
        described = store.client.query(f"DESCRIBE TABLE {store.database}.{table}").result_rows
        names = [row[0] for row in described]
        assert sorted(names) == sorted(columns_of(cls)), table
        types = {row[0]: row[1] for row in described}
        assert types["ts"] == "DateTime64(9, 'UTC')"
        assert types["venue"] == "LowCardinality(String)"
        for f in dataclasses.fields(cls):
            if "Decimal" in str(f.type):
                assert "Decimal(38, 18)" in types[f.name], (table, f.name)


def test_every_storable_event_round_trips_exactly(store: Store) -> None:
    result = store.insert_events(SAMPLES)
    # Public trades, health and the control events (bot commands, control changes) are not stored.
    assert result.rejected == {"not_stored": 4}
    assert result.total_rows == len(SAMPLES) - 4
    fill = next(e for e in SAMPLES if isinstance(e, Fill))
    row = store.fills().to_pylist()[0]
    assert row["event_id"] == fill.id and row["trade_id"] == fill.trade_id
    assert row["price"] == fill.price and row["fee"] == Decimal("0.000004") and row["qty"] == fill.qty
    assert row["ts"].value == fill.ts_ns  # nanoseconds survive
    update = next(e for e in SAMPLES if isinstance(e, OrderUpdate))
    stored = store.query_arrow("SELECT status, filled_qty, price FROM {db}.order_updates").to_pylist()
    assert stored == [{"status": update.status, "filled_qty": update.filled_qty, "price": update.price}]


def test_fills_are_stored_once_per_venue_symbol_and_trade_id(store: Store) -> None:
    fills = [make_fill(i) for i in range(10)]
    assert store.insert_events(fills).rows == {"fills": 10}
    # A redelivery (same ids), a repeat inside one batch, and a re-sent fill with a fresh event id.
    again = [*fills[5:], fills[9], dataclasses.replace(fills[0], id="other-id"), make_fill(10)]
    result = store.insert_events(again)
    assert result.rows == {"fills": 1} and result.duplicates == 7
    # Same trade id on another symbol or venue is another trade (Binance trade ids are per symbol).
    result = store.insert_events([make_fill(3, symbol="ETHUSDT"), make_fill(3, venue="okx")])
    assert result.rows == {"fills": 2}
    assert store.count("fills") == 13 == store.count("fills", final=True)


def test_out_of_range_money_is_rejected_and_counted_not_truncated(store: Store) -> None:
    too_fine = make_fill(1, price=Decimal("1.0000000000000000001"))  # 19 fractional digits
    too_big = make_fill(2, qty=Decimal("1" + "0" * 20))
    result = store.insert_events([too_fine, too_big, make_fill(3), make_top(1, "BTCUSDT")])
    assert result.rejected == {"decimal_out_of_range": 2}
    assert result.rows == {"fills": 1, "book_tops": 1}


def test_time_range_reads(store: Store) -> None:
    fills = [make_fill(i) for i in range(10)]
    store.insert_events(fills)
    start, end = fills[2].ts_ns, fills[5].ts_ns
    assert [r["trade_id"] for r in store.fills(start, end).to_pylist()] == ["2", "3", "4"]


def test_bad_dsn_and_database_names_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="chdb://"):
        Store("postgres://x")
    with pytest.raises(ValueError, match="identifier"):
        Store("chdb://memory", "x; DROP")
    assert Health(ts_ns=1, venue="", symbol="", component="c", status="ok").key == ":"
