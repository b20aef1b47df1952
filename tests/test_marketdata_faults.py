"""Faults injected into the real recordings: each is detected with the right reason, and no top of
book is published while a book is out of sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from marketdata_support import RECORDINGS, is_depth_diff, okx_books, read_lines
from wisetrader._core import Changes, MarketData
from wisetrader.marketdata.instruments import resolve_instruments

CASES = [
    ("binance-spot", RECORDINGS / "binance-spot" / "NKNUSDT.rec"),
    ("binance-usdm", RECORDINGS / "binance-usdm" / "SUSHIUSDT.rec"),
    ("okx", RECORDINGS / "okx" / "BTC-USDT.rec"),
]
IDS = [v for v, _ in CASES]


def run(venue: str, path: Path, frames: list[tuple[int, bytes]]) -> tuple[MarketData, Changes]:
    md = MarketData(venue)
    for spec in resolve_instruments(path, venue):
        md.add_instrument(spec.symbol, spec.tick_size, spec.lot_step)
    changes = md.feed_batch([f for _, f in frames], [t for t, _ in frames])
    return md, changes


def diff_positions(frames: list[tuple[int, bytes]]) -> list[int]:
    return [i for i, (_, p) in enumerate(frames) if is_depth_diff(p)]


def assert_out_of_sync_from(
    md: MarketData, changes: Changes, fault_ns: int, reason: str, request: str
) -> None:
    (symbol,) = md.symbols
    assert md.state(symbol) == ("out_of_sync", reason)
    assert changes.states[-1][2:] == ("out_of_sync", reason)
    assert changes.requests[-1][1:] == (symbol, request, reason)
    broke_at = changes.states[-1][0]
    assert broke_at >= fault_ns
    # Nothing published from the moment the book broke, and nothing readable now.
    assert all(t[0] < broke_at for t in changes.tops)
    assert md.best(symbol) is None and md.best_bid(symbol) is None and md.top(symbol) == ([], [])


@pytest.mark.parametrize(("venue", "path"), CASES, ids=IDS)
def test_dropped_diff_frame(venue: str, path: Path) -> None:
    frames = read_lines(path)
    at = diff_positions(frames)[len(diff_positions(frames)) // 2]
    md, ch = run(venue, path, frames[:at] + frames[at + 1 :])
    if venue == "okx":  # 2022 data has no seqId: the checksum catches the missing update
        assert md.counters()["checksum_failed"] == 1
        assert_out_of_sync_from(md, ch, frames[at][0], "checksum_mismatch", "resubscribe")
    else:
        assert md.counters()["gaps"] == 1
        assert_out_of_sync_from(md, ch, frames[at][0], "gap", "snapshot")


@pytest.mark.parametrize(("venue", "path"), CASES, ids=IDS)
def test_duplicated_frame(venue: str, path: Path) -> None:
    frames = read_lines(path)
    at = diff_positions(frames)[len(diff_positions(frames)) // 2]
    clean_md, clean = run(venue, path, frames)
    md, ch = run(venue, path, frames[: at + 1] + frames[at:])
    (symbol,) = md.symbols
    assert md.state(symbol) == ("synced", None)
    assert md.counters()["gaps"] == 0
    if venue == "okx":
        # Without seqId a repeated update re-sets the same absolute sizes: the book stays right,
        # which the checksum of every later message confirms.
        assert md.counters()["checksum_failed"] == 0
        assert md.counters()["checksum_ok"] == clean_md.counters()["checksum_ok"] + 1
    else:
        assert md.counters()["skipped_stale"] == clean_md.counters()["skipped_stale"] + 1
    assert md.book(symbol) == clean_md.book(symbol)
    assert ch.top_rows() == clean.top_rows()


def test_duplicated_okx_frame_with_seq_ids_is_a_gap() -> None:
    md = MarketData("okx")
    md.add_instrument("BTC-USDT", "0.1", "0.00000001")
    snap = okx_books("BTC-USDT", "snapshot", 10, -1, [["100.0", "1"]], [["100.5", "2"]])
    upd = okx_books("BTC-USDT", "update", 17, 10, [["100.1", "3"]], [])
    ch = md.feed_batch([snap, upd, upd], [1, 2, 3])
    assert md.state("BTC-USDT") == ("out_of_sync", "gap")
    assert ch.requests == [(3, "BTC-USDT", "resubscribe", "gap")]
    assert [t[0] for t in ch.tops] == [1, 2]


@pytest.mark.parametrize(("venue", "path"), CASES, ids=IDS)
def test_reordered_pair(venue: str, path: Path) -> None:
    frames = read_lines(path)
    diffs = diff_positions(frames)
    i, j = diffs[len(diffs) // 2], diffs[len(diffs) // 2 + 1]
    swapped = list(frames)
    swapped[i], swapped[j] = frames[j], frames[i]
    md, ch = run(venue, path, swapped)
    if venue == "okx":
        assert_out_of_sync_from(md, ch, min(frames[i][0], frames[j][0]), "checksum_mismatch", "resubscribe")
    else:
        assert md.counters()["gaps"] == 1
        assert_out_of_sync_from(md, ch, min(frames[i][0], frames[j][0]), "gap", "snapshot")


@pytest.mark.parametrize(("venue", "path"), CASES, ids=IDS)
def test_truncated_frame(venue: str, path: Path) -> None:
    frames = read_lines(path)
    at = diff_positions(frames)[len(diff_positions(frames)) // 2]
    cut = list(frames)
    cut[at] = (frames[at][0], frames[at][1][: len(frames[at][1]) // 2])
    md, ch = run(venue, path, cut)
    assert md.counters()["error.truncated"] == 1
    assert ch.errors == [(frames[at][0], "truncated")]
    # The lost update then breaks the chain (Binance) or the checksum (OKX 2022).
    if venue == "okx":
        assert_out_of_sync_from(md, ch, frames[at][0], "checksum_mismatch", "resubscribe")
    else:
        assert_out_of_sync_from(md, ch, frames[at][0], "gap", "snapshot")
