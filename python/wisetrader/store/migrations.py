"""Versioned DDL. Migrations are append-only: never edit one that has shipped, add the next version.

Conventions: money is ``Decimal(38, 18)`` (20 integer digits, 18 fractional: every venue's steps fit);
time is ``DateTime64(9, 'UTC')``; repeated short strings are ``LowCardinality``. Tables are
``ReplacingMergeTree`` on the event's natural key, so a redelivered event collapses on merge (and
``FINAL`` reads are exact); fills are also checked at insert time by the writer, so they are never
stored twice, not even before a merge.
"""

from __future__ import annotations

from dataclasses import dataclass

_IDS = """
    event_id String,
    v UInt16,
    ts DateTime64(9, 'UTC'),
    venue LowCardinality(String),
    symbol LowCardinality(String),
    bot_id LowCardinality(Nullable(String)),
    account_id LowCardinality(Nullable(String)),
    user_id LowCardinality(Nullable(String)),"""

MONEY = "Decimal(38, 18)"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "orders, order updates, fills, bot states, P&L snapshots, top of book, signals, risk events",
        (
            f"""CREATE TABLE IF NOT EXISTS {{db}}.orders ({_IDS}
    client_order_id String,
    side LowCardinality(String),
    order_type LowCardinality(String),
    price Nullable({MONEY}),
    qty {MONEY},
    reason String
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, client_order_id, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.order_updates ({_IDS}
    client_order_id String,
    venue_order_id Nullable(String),
    status LowCardinality(String),
    side LowCardinality(String),
    order_type LowCardinality(String),
    price Nullable({MONEY}),
    qty {MONEY},
    filled_qty {MONEY},
    reason String
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, client_order_id, ts, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.fills ({_IDS}
    trade_id String,
    client_order_id String,
    venue_order_id Nullable(String),
    side LowCardinality(String),
    price {MONEY},
    qty {MONEY},
    base LowCardinality(String),
    quote LowCardinality(String),
    fee {MONEY},
    fee_currency LowCardinality(String),
    fee_quote Nullable({MONEY}),
    liquidity LowCardinality(String)
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, trade_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.bot_states ({_IDS}
    state LowCardinality(String),
    position_qty {MONEY},
    avg_price Nullable({MONEY}),
    open_orders UInt32,
    detail String
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, ts, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.pnl_snapshots ({_IDS}
    quote LowCardinality(String),
    mark_price {MONEY},
    position_qty {MONEY},
    realized {MONEY},
    unrealized {MONEY},
    fees {MONEY},
    equity {MONEY}
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, ts, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.book_tops ({_IDS}
    recv_ts DateTime64(9, 'UTC'),
    bid_px {MONEY},
    bid_qty {MONEY},
    ask_px {MONEY},
    ask_qty {MONEY}
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, ts, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.signals ({_IDS}
    strategy LowCardinality(String),
    side LowCardinality(String),
    price Nullable({MONEY}),
    text String
) ENGINE = ReplacingMergeTree ORDER BY (strategy, ts, event_id)""",
            f"""CREATE TABLE IF NOT EXISTS {{db}}.risk_events ({_IDS}
    client_order_id String,
    accepted Bool,
    rule LowCardinality(String),
    detail String
) ENGINE = ReplacingMergeTree ORDER BY (venue, symbol, ts, event_id)""",
        ),
    ),
)
