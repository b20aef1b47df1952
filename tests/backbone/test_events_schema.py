from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from wisetrader.events import (
    EVENT_TYPES,
    BookTop,
    BotCommand,
    BotState,
    ControlChanged,
    Event,
    EventDecodeError,
    Fill,
    Health,
    OrderIntent,
    OrderUpdate,
    PnlSnapshot,
    RiskDecision,
    Signal,
    Trade,
    decode,
    encode,
)
from wisetrader.events.doc import render

BASE = {"ts_ns": 1_700_000_000_123_456_789, "venue": "binance-spot", "symbol": "BTCUSDT", "bot_id": "grid1"}
D = Decimal

SAMPLES: list[Event] = [
    BookTop(
        **BASE,
        recv_ns=1_700_000_000_200_000_000,
        bid_px=D("37000.10"),
        bid_qty=D("0.5"),
        ask_px=D("37000.2"),
        ask_qty=D("1"),
    ),
    Trade(**BASE, recv_ns=1, trade_id="42", price=D("37000.1"), qty=D("0.00001"), side="sell"),
    OrderIntent(
        **BASE, client_order_id="g1L3C0", side="buy", order_type="limit", price=D("36000"), qty=D("0.01")
    ),
    RiskDecision(**BASE, client_order_id="g1L3C0", accepted=False, rule="max_open_orders", detail="10 open"),
    OrderUpdate(
        **BASE,
        client_order_id="g1L3C0",
        venue_order_id="889",
        status="partially_filled",
        side="buy",
        order_type="limit",
        price=D("36000"),
        qty=D("0.01"),
        filled_qty=D("0.004"),
    ),
    Fill(
        **BASE,
        trade_id="1001",
        client_order_id="g1L3C0",
        side="buy",
        price=D("36000"),
        qty=D("0.004"),
        base="BTC",
        quote="USDT",
        fee=D("0.000004"),
        fee_currency="BTC",
        liquidity="maker",
    ),
    BotState(**BASE, state="running", position_qty=D("0.004"), avg_price=D("36000"), open_orders=9),
    PnlSnapshot(
        **BASE,
        quote="USDT",
        mark_price=D("37000"),
        position_qty=D("0.004"),
        realized=D("1.5"),
        unrealized=D("4"),
        fees=D("0.144"),
        equity=D("1005.5"),
    ),
    Signal(**BASE, strategy="breakout", side="buy", price=None, text="BTC breaks 37k"),
    Health(ts_ns=1, venue="", symbol="", component="writer", status="ok"),
    BotCommand(**BASE, user_id="7", command="close"),
    ControlChanged(ts_ns=1, venue="", symbol="", scope="global"),
]


def test_every_event_type_has_a_sample() -> None:
    assert {type(e) for e in SAMPLES} == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_round_trip_is_exact(event: Event) -> None:
    wire = encode(event)
    body = orjson.loads(wire)
    assert body["type"] == event.type and body["v"] == 1
    assert decode(wire) == event


def test_money_travels_as_plain_decimal_strings_and_time_as_int_ns() -> None:
    fill = next(e for e in SAMPLES if isinstance(e, Fill))
    body = orjson.loads(encode(dataclasses.replace(fill, qty=D("1E-8"), price=D("1.2E+4"))))
    assert body["qty"] == "0.00000001"
    assert body["price"] == "12000"
    assert body["fee"] == "0.000004"
    assert body["ts_ns"] == 1_700_000_000_123_456_789
    assert body["id"] == fill.id and len(fill.id) == 32
    assert fill.key == "binance-spot:BTCUSDT"


def _mutated(**changes: object) -> bytes:
    body = orjson.loads(encode(SAMPLES[5]))
    body.update(changes)
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not_json"),
        (b"[1,2]", "not_object"),
        (_mutated(type="nope"), "unknown_type"),
        (_mutated(v=2), "newer_version"),
        (_mutated(v="1"), "bad_version"),
        (_mutated(price=...), "missing_field"),
        (_mutated(price=36000.5), "bad_field"),  # a float in a money field
        (_mutated(price="NaN"), "bad_field"),
        (_mutated(price="12abc"), "bad_field"),
        (_mutated(side="long"), "bad_field"),
        (_mutated(ts_ns=True), "bad_field"),
        (_mutated(ts_ns="1700"), "bad_field"),
        (_mutated(bot_id=7), "bad_field"),
    ],
)
def test_invalid_events_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(EventDecodeError) as info:
        decode(data)
    assert info.value.reason == reason


def test_optional_fields_may_be_omitted_or_null() -> None:
    body = orjson.loads(encode(SAMPLES[5]))
    del body["bot_id"]
    body["venue_order_id"] = None
    event = decode(orjson.dumps(body))
    assert isinstance(event, Fill) and event.bot_id is None and event.venue_order_id is None


def test_docs_are_generated_from_the_schema_and_current() -> None:
    docs = Path(__file__).parents[2] / "docs" / "events.md"
    assert docs.read_text() == render(), "run: python -m wisetrader.events.doc > docs/events.md"
    for name, cls in EVENT_TYPES.items():
        assert f"## `{name}` (v{cls.version}" in render()
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{name}.{f.name} has no documentation"
