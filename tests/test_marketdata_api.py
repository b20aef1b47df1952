"""The Python market-data API: Binance resync flow, control messages, bad input, and hypothesis
properties (random level sequences vs a reference model; decimal round trips)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marketdata_support import binance_diff, binance_snapshot, okx_books
from wisetrader._core import MarketData


def spot() -> MarketData:
    md = MarketData("binance-spot")
    md.add_instrument("BTCUSDT", "0.01", "0.00001")
    return md


def test_binance_flow_buffer_snapshot_gap_resync() -> None:
    md = spot()
    ch = md.feed(binance_diff("BTCUSDT", 101, 103, [["100.00", "1"]], []), 1)
    assert ch.requests == [(1, "BTCUSDT", "snapshot", "initial")]
    md.feed(binance_diff("BTCUSDT", 104, 105, [["100.01", "2"]], [["100.05", "1"]]), 2)
    # Too old for the first buffered event (lastUpdateId < U): ask again.
    ch = md.feed_snapshot("BTCUSDT", binance_snapshot(99, [["99.00", "1"]], [["101.00", "1"]]), 3)
    assert ch.requests == [(3, "BTCUSDT", "snapshot", "snapshot_too_old")]
    assert md.counters()["snapshots_too_old"] == 1
    ch = md.feed_snapshot("BTCUSDT", binance_snapshot(102, [["99.00", "1"]], [["101.00", "1"]]), 4)
    assert ch.states == [(4, "BTCUSDT", "synced", None)]
    # Buffered events replayed: 101..103 spans 103 = 102 + 1, then 104..105.
    assert ch.tops == [(4, "BTCUSDT", 105, 10001, 200000, 10005, 100000)]
    assert ch.count("tops") == 1 and ch.count("requests") == 0 and bool(ch)
    with pytest.raises(ValueError, match="unknown kind"):
        ch.count("nope")
    assert md.mid("BTCUSDT") == "100.030" and md.spread("BTCUSDT") == "0.04"
    ch = md.feed(binance_diff("BTCUSDT", 107, 108, [["100.02", "1"]], []), 5)  # 106 missing
    assert ch.states == [(5, "BTCUSDT", "out_of_sync", "gap")]
    assert ch.requests == [(5, "BTCUSDT", "snapshot", "gap")]
    assert ch.tops == [] and md.best("BTCUSDT") is None
    md.feed(binance_diff("BTCUSDT", 109, 110, [], [["100.04", "3"]]), 6)  # buffered for the resync
    ch = md.feed_snapshot("BTCUSDT", binance_snapshot(108, [["100.02", "1"]], [["100.05", "1"]]), 7)
    assert ch.states == [(7, "BTCUSDT", "synced", None)]
    assert ch.top_rows() == [(7, "BTCUSDT", 110, "100.02", "1.00000", "100.04", "3.00000")]
    assert md.counters()["resyncs"] == 1 and md.counters()["gaps"] == 1


def test_control_messages_are_reported_not_data() -> None:
    md = spot()
    ch = md.feed_batch(
        [
            b'{"result":null,"id":1}',
            b'{"e":"serverShutdown","E":1}',
            b'{"error":{"code":2,"msg":"bad"},"id":2}',
        ],
        [1, 2, 3],
    )
    assert [c[1] for c in ch.controls] == ["ack", "server_shutdown", "error"]
    assert md.counters()["applied"] == 0 and ch.errors == []
    okx = MarketData("okx")
    ch = okx.feed_batch(
        [b"pong", b'{"event":"error","code":"60012","msg":"Invalid request","connId":"a"}'], [1, 2]
    )
    assert ch.controls == [(1, "pong", "pong"), (2, "error", "Invalid request")]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "truncated"),
        (b"\xff\xfe garbage", "bad_json"),
        (b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1.00"]],"a":[]}', "bad_type"),
        (b'{"e":"depthUpdate","s":"BTCUSDT","u":2,"b":[],"a":[]}', "missing_field"),
        (b'{"e":"depthUpdate","s":"ETHUSDT","U":1,"u":2,"b":[],"a":[]}', "unknown_symbol"),
        (b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1.001","1"]],"a":[]}', "decimal_off_grid"),
        (b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1e5","1"]],"a":[]}', "decimal_not_decimal"),
        (b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["-1.00","1"]],"a":[]}', "non_positive"),
        (
            b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1' + b"9" * 40 + b'","1"]],"a":[]}',
            "decimal_overflow",
        ),
        (b'{"hello":"world"}', "unknown_message"),
    ],
)
def test_bad_frames_are_counted_by_reason(frame: bytes, reason: str) -> None:
    md = spot()
    ch = md.feed(frame, 42)
    assert ch.errors == [(42, reason)]
    assert md.counters()[f"error.{reason}"] == 1


def test_bad_diff_on_a_synced_book_forces_a_resync() -> None:
    md = spot()
    md.feed_snapshot("BTCUSDT", binance_snapshot(10, [["1.00", "1"]], [["2.00", "1"]]), 1)
    ch = md.feed(binance_diff("BTCUSDT", 11, 11, [["1.005", "1"]], []), 2)
    assert ch.errors == [(2, "decimal_off_grid")]
    assert md.state("BTCUSDT") == ("out_of_sync", "bad_message")
    assert ch.requests == [(2, "BTCUSDT", "snapshot", "bad_message")]


def test_api_errors() -> None:
    with pytest.raises(ValueError, match="unknown venue"):
        MarketData("kraken")
    md = spot()
    with pytest.raises(ValueError, match="tick size"):
        md.add_instrument("X", "0", "1")
    with pytest.raises(KeyError):
        md.best_bid("NOPE")
    with pytest.raises(ValueError, match="receive times"):
        md.feed_batch([b"{}"], [])
    with pytest.raises(ValueError, match="multiple of"):
        md.price_to_ticks("BTCUSDT", "1.001")


levels = st.lists(
    st.tuples(
        st.booleans(), st.integers(1, 40), st.integers(0, 3)
    ),  # (is_bid, price ticks, qty lots; 0 deletes)
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(snapshot=levels, updates=st.lists(levels, max_size=12))
def test_random_level_sequences_match_a_reference_model(
    snapshot: list[tuple[bool, int, int]], updates: list[list[tuple[bool, int, int]]]
) -> None:
    md = MarketData("binance-spot")
    md.add_instrument("X", "0.5", "0.25")

    def side(ls: list[tuple[bool, int, int]], bid: bool) -> list[list[str]]:
        return [[str(Decimal(p) / 2), str(Decimal(q) / 4)] for b, p, q in ls if b == bid]

    model: dict[bool, dict[int, int]] = {True: {}, False: {}}

    def apply(ls: list[tuple[bool, int, int]]) -> None:
        for b, p, q in ls:
            if q:
                model[b][p] = q
            else:
                model[b].pop(p, None)

    md.feed_snapshot("X", binance_snapshot(1, side(snapshot, True), side(snapshot, False)), 0)
    apply(snapshot)
    for n, ls in enumerate(updates, start=2):
        md.feed(binance_diff("X", n, n, side(ls, True), side(ls, False)), n)
        apply(ls)
        bids = sorted(model[True].items(), reverse=True)
        asks = sorted(model[False].items())
        assert md.top_ticks("X", 5) == (bids[:5], asks[:5])
        assert md.best("X") == (
            bids[0][0] if bids else None,
            bids[0][1] if bids else None,
            asks[0][0] if asks else None,
            asks[0][1] if asks else None,
        )
    assert md.state("X") == ("synced", None)
    _, bid_rows, ask_rows = md.book("X")
    assert [(Decimal(p) * 2, Decimal(q) * 4) for p, q in bid_rows] == sorted(
        model[True].items(), reverse=True
    )
    assert [(Decimal(p) * 2, Decimal(q) * 4) for p, q in ask_rows] == sorted(model[False].items())


@settings(max_examples=300, deadline=None)
@given(
    ticks=st.integers(-(10**15), 10**15),
    step=st.sampled_from(["0.01", "0.00000001", "0.5", "1", "25", "0.0025"]),
)
def test_decimal_round_trips(ticks: int, step: str) -> None:
    md = MarketData("okx")
    md.add_instrument("X", step, step)
    text = md.format_price("X", ticks)
    assert Decimal(text) == ticks * Decimal(step)
    assert md.price_to_ticks("X", text) == ticks
    assert md.qty_to_lots("X", md.format_qty("X", ticks)) == ticks
    # Extra trailing zeros are the same value.
    assert md.price_to_ticks("X", text + ("0" if "." in text else ".000")) == ticks


def test_okx_books5_replaces_the_book_and_bbo_tbt_is_a_ticker() -> None:
    md = MarketData("okx")
    md.add_instrument("BTC-USDT", "0.1", "0.00000001")
    books5 = (
        b'{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["30243.5","1.5","0","6"]],'
        b'"bids":[["30243.4","0.5","0","2"],["30243","1","0","1"]],"instId":"BTC-USDT","ts":"1","seqId":9}]}'
    )
    bbo = (
        b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["30243.6","2","0","1"]],'
        b'"bids":[["30243.4","0.5","0","2"]],"ts":"2","seqId":10}]}'
    )
    ch = md.feed_batch([books5, bbo], [1, 2])
    assert md.state("BTC-USDT") == ("synced", None)
    assert ch.top_rows() == [(1, "BTC-USDT", 9, "30243.4", "0.50000000", "30243.5", "1.50000000")]
    assert ch.tickers == [(2, "BTC-USDT", 10, 302434, 50000000, 302436, 200000000)]
    assert md.top("BTC-USDT")[0] == [("30243.4", "0.50000000"), ("30243.0", "1.00000000")]


def test_trades_from_every_venue_shape() -> None:
    spot_md = spot()
    ch = spot_md.feed_batch(
        [
            b'{"e":"trade","E":1,"s":"BTCUSDT","t":12345,"p":"30000.01","q":"0.5","T":7,"m":true,"M":true}',
            b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":26129,'
            b'"p":"30000.02","q":"0.00001","f":1,"l":2,"T":8,"m":false,"M":true}}',
        ],
        [1, 2],
    )
    assert ch.trades == [
        (1, "BTCUSDT", "12345", 3000001, 50000, False, 7_000_000),
        (2, "BTCUSDT", "26129", 3000002, 1, True, 8_000_000),
    ]


def test_pre_snapshot_buffer_is_bounded() -> None:
    md = MarketData("binance-spot", buffer_limit=2)
    md.add_instrument("BTCUSDT", "0.01", "0.00001")
    ch = md.feed_batch([binance_diff("BTCUSDT", n, n, [["1.00", str(n)]], []) for n in (5, 6, 7)], [1, 2, 3])
    assert ch.requests == [(1, "BTCUSDT", "snapshot", "initial")]
    assert md.counters()["buffered"] == 3 and md.counters()["buffer_overflow"] == 1
    # Event 5 was dropped: the first buffered is U=6, so (reference rule lastUpdateId < U) a
    # snapshot at 5 is too old; one at 6 drops event 6 and chains onto 7.
    assert md.feed_snapshot("BTCUSDT", binance_snapshot(5, [], []), 4).requests[0][3] == "snapshot_too_old"
    ch = md.feed_snapshot("BTCUSDT", binance_snapshot(6, [], [["2.00", "1"]]), 5)
    assert ch.top_rows() == [(5, "BTCUSDT", 7, "1.00", "7.00000", "2.00", "1.00000")]


def test_okx_snapshot_must_start_a_chain() -> None:
    md = MarketData("okx")
    md.add_instrument("BTC-USDT", "0.1", "0.00000001")
    ch = md.feed(okx_books("BTC-USDT", "snapshot", 10, 7, [["100.0", "1"]], [["100.5", "2"]]), 1)
    assert ch.errors == [(1, "snapshot_not_chain_start")]
    assert ch.requests == [(1, "BTC-USDT", "resubscribe", "bad_message")]
    assert md.state("BTC-USDT") == ("waiting_for_snapshot", None) and ch.tops == []
