"""Every real recording through the core: books sync, chain without gaps, never cross, agree with the
venue's own bookTicker at equal update ids, and every OKX books message passes its CRC32 checksum."""

from __future__ import annotations

from pathlib import Path

import pytest
from marketdata_support import read_lines, recording_files
from wisetrader.marketdata.replay import replay


@pytest.mark.parametrize(("venue", "path"), recording_files(), ids=lambda v: getattr(v, "name", v))
def test_recording_syncs_and_chains(venue: str, path: Path) -> None:
    result = replay(path, venue)
    c = result.counters
    md = result.market
    (symbol,) = md.symbols
    assert md.state(symbol) == ("synced", None)
    assert c["snapshots"] >= 1
    assert c["gaps"] == 0 and c["resyncs"] == 0 and c["skipped_not_synced"] == 0
    assert c["errors"] == 0, {k: v for k, v in c.items() if k.startswith("error.")}
    assert result.bad_lines == 0
    assert c["ticker_mismatch"] == 0
    # Every book message is accounted for: applied, or dropped as already covered by the book.
    frames = read_lines(path)
    book_msgs = sum(1 for _, p in frames if b"depthUpdate" in p or b"lastUpdateId" in p or b'"books"' in p)
    assert c["applied"] + c["skipped_stale"] == book_msgs
    tops = md.feed_batch([], []).tops  # nothing new
    assert tops == []
    bid, ask = md.best_bid(symbol), md.best_ask(symbol)
    assert bid is not None and ask is not None
    assert md.price_to_ticks(symbol, bid[0]) < md.price_to_ticks(symbol, ask[0])
    trade_frames = sum(1 for _, p in frames if b'"aggTrade"' in p or b'"channel":"trades"' in p)
    assert c["trades"] >= trade_frames
    if venue == "okx":
        books = sum(1 for _, p in read_lines(path) if b'"channel":"books"' in p)
        assert c["checksum_ok"] == books and c["checksum_failed"] == 0


@pytest.mark.parametrize(("venue", "path"), recording_files(), ids=lambda v: getattr(v, "name", v))
def test_top_of_book_never_crosses_and_ids_only_grow(venue: str, path: Path, tmp_path: Path) -> None:
    out = tmp_path / "tops.jsonl"
    result = replay(path, venue, out=out)
    import orjson

    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(rows) == result.counters["tops"] > 0
    md = result.market
    last_id = -1
    for r in rows:
        assert md.price_to_ticks(r["symbol"], r["bid_px"]) < md.price_to_ticks(r["symbol"], r["ask_px"])
        assert r["update_id"] >= last_id
        last_id = r["update_id"]


@pytest.mark.parametrize(
    ("venue", "path"), [r for r in recording_files() if r[0] != "okx"], ids=lambda v: getattr(v, "name", v)
)
def test_binance_top_of_book_agrees_with_every_book_ticker_at_the_same_id(venue: str, path: Path) -> None:
    import orjson

    depth_ids, ticker_ids = set(), []
    for _, payload in read_lines(path):
        msg = orjson.loads(payload)
        data = msg.get("data", msg)
        if data.get("e") == "depthUpdate":
            depth_ids.add(data["u"])
        elif "B" in data and "A" in data:
            ticker_ids.append(data["u"])
    expected = sum(1 for u in ticker_ids if u in depth_ids)
    c = replay(path, venue).counters
    # Each bookTicker whose id the book reaches is compared (level by level), and all agree.
    assert c["ticker_checked"] == expected
    assert c["ticker_mismatch"] == 0
