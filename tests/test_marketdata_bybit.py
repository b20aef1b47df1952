"""Bybit v5 sync on CONSTRUCTED frames (no real Bybit recording exists; shapes from the v5 docs)."""

from __future__ import annotations

import pytest
from marketdata_support import bybit_book, bybit_trade
from wisetrader._core import MarketData


@pytest.fixture(params=["bybit-spot", "bybit-linear"])
def md(request: pytest.FixtureRequest) -> MarketData:
    m = MarketData(request.param)
    m.add_instrument("BTCUSDT", "0.10", "0.001")
    return m


def test_snapshot_then_contiguous_deltas(md: MarketData) -> None:
    ch = md.feed_batch(
        [
            bybit_book(
                "BTCUSDT", "snapshot", 100, [["30247.20", "30.028"], ["30240.00", "1"]], [["30248.70", "2"]]
            ),
            bybit_book("BTCUSDT", "delta", 101, [["30247.20", "0"]], [["30248.10", "0.5"]]),
            bybit_book("BTCUSDT", "delta", 102, [["30230.00", "4"]], []),  # below the touch: no top change
        ],
        [1, 2, 3],
    )
    assert md.state("BTCUSDT") == ("synced", None)
    assert ch.top_rows() == [
        (1, "BTCUSDT", 100, "30247.2", "30.028", "30248.7", "2.000"),
        (2, "BTCUSDT", 101, "30240.0", "1.000", "30248.1", "0.500"),
    ]
    assert md.top("BTCUSDT", 5) == (
        [("30240.0", "1.000"), ("30230.0", "4.000")],
        [("30248.1", "0.500"), ("30248.7", "2.000")],
    )
    assert md.update_id("BTCUSDT") == 102


@pytest.mark.parametrize("bad_u", [103, 101, 50], ids=["skipped", "repeated", "older"])
def test_delta_off_by_anything_is_a_gap_and_asks_to_resubscribe(md: MarketData, bad_u: int) -> None:
    md.feed(bybit_book("BTCUSDT", "snapshot", 100, [["1.0", "1"]], [["2.0", "1"]]), 1)
    md.feed(bybit_book("BTCUSDT", "delta", 101, [["1.1", "1"]], []), 2)
    ch = md.feed(bybit_book("BTCUSDT", "delta", bad_u, [["1.2", "1"]], []), 3)
    assert md.state("BTCUSDT") == ("out_of_sync", "gap")
    assert ch.requests == [(3, "BTCUSDT", "resubscribe", "gap")]
    assert ch.tops == [] and md.best("BTCUSDT") is None
    # Deltas are ignored until a snapshot (any u, even a lower one) resets the book.
    assert md.feed(bybit_book("BTCUSDT", "delta", 102, [["1.3", "1"]], []), 4).tops == []
    ch = md.feed(bybit_book("BTCUSDT", "snapshot", 7, [["1.5", "2"]], [["1.6", "3"]]), 5)
    assert ch.states == [(5, "BTCUSDT", "synced", None)]
    assert ch.tops == [(5, "BTCUSDT", 7, 15, 2000, 16, 3000)]
    assert md.counters()["resyncs"] == 1 and md.counters()["skipped_not_synced"] == 1


def test_snapshot_with_u_1_after_a_restart_overwrites_the_book(md: MarketData) -> None:
    md.feed(bybit_book("BTCUSDT", "snapshot", 500, [["1.0", "1"], ["0.9", "1"]], [["2.0", "1"]]), 1)
    md.feed(bybit_book("BTCUSDT", "snapshot", 1, [["1.1", "5"]], [["1.9", "5"]]), 2)
    assert md.book("BTCUSDT") == (1, [("1.1", "5.000")], [("1.9", "5.000")])
    md.feed(bybit_book("BTCUSDT", "delta", 2, [], [["1.9", "0"]]), 3)
    assert md.state("BTCUSDT") == ("synced", None) and md.best_ask("BTCUSDT") is None


def test_delta_before_any_snapshot_asks_to_resubscribe(md: MarketData) -> None:
    ch = md.feed(bybit_book("BTCUSDT", "delta", 9, [["1.0", "1"]], []), 1)
    assert ch.requests == [(1, "BTCUSDT", "resubscribe", "no_snapshot")]
    assert md.state("BTCUSDT") == ("waiting_for_snapshot", None)


def test_trades_and_control_messages(md: MarketData) -> None:
    ch = md.feed_batch(
        [
            bybit_trade("BTCUSDT", "20f43950-d8dd-5b31-9112-a178eb6023af", "Buy", "16578.50", "0.001"),
            bybit_trade("BTCUSDT", "x-2", "Sell", "16578.40", "1.5"),
            b'{"success":true,"ret_msg":"","conn_id":"c1","req_id":"1","op":"subscribe"}',
            b'{"success":true,"ret_msg":"pong","conn_id":"c1","op":"ping"}',
            b'{"success":false,"ret_msg":"error:handler not found","conn_id":"c1","op":"subscribe"}',
        ],
        [1, 2, 3, 4, 5],
    )
    assert ch.trades == [
        (1, "BTCUSDT", "20f43950-d8dd-5b31-9112-a178eb6023af", 165785, 1, True, 1672304486865000000),
        (2, "BTCUSDT", "x-2", 165784, 1500, False, 1672304486865000000),
    ]
    assert [c[1] for c in ch.controls] == ["ack", "pong", "error"]
    assert ch.controls[2][2] == "error:handler not found"
    assert ch.tops == [] and ch.errors == []
