"""Shared helpers for the market-data tests: recordings on disk and CONSTRUCTED venue frames.

Bybit has no real recording: ``bybit_*`` below build frames from the documented v5 message shapes
(reference/exchange-protocols.md section 2). They are constructed, not captured traffic.
"""

from __future__ import annotations

from pathlib import Path

import orjson

RECORDINGS = Path(__file__).parent / "data" / "recordings"
VENUE_OF_DIR = {"binance-spot": "binance-spot", "binance-usdm": "binance-usdm", "okx": "okx"}


def recording_files() -> list[tuple[str, Path]]:
    return [(VENUE_OF_DIR[p.parent.name], p) for p in sorted(RECORDINGS.glob("*/*.rec"))]


def read_lines(path: Path) -> list[tuple[int, bytes]]:
    out = []
    for line in path.read_bytes().splitlines():
        ts, _, payload = line.partition(b" ")
        out.append((int(ts), payload))
    return out


def is_depth_diff(payload: bytes) -> bool:
    return b'"depthUpdate"' in payload or (
        b'"channel":"books"' in payload and b'"action":"update"' in payload
    )


def bybit_book(symbol: str, kind: str, u: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    """CONSTRUCTED Bybit v5 ``orderbook.50.{symbol}`` snapshot or delta frame."""
    return orjson.dumps(
        {
            "topic": f"orderbook.50.{symbol}",
            "type": kind,
            "ts": 1687940967466 + u,
            "data": {"s": symbol, "b": bids, "a": asks, "u": u, "seq": 66544703342 + 7 * u},
            "cts": 1687940967464 + u,
        }
    )


def bybit_trade(symbol: str, trade_id: str, side: str, px: str, qty: str) -> bytes:
    """CONSTRUCTED Bybit v5 ``publicTrade.{symbol}`` frame with one trade."""
    return orjson.dumps(
        {
            "topic": f"publicTrade.{symbol}",
            "type": "snapshot",
            "ts": 1672304486868,
            "data": [
                {
                    "T": 1672304486865,
                    "s": symbol,
                    "S": side,
                    "v": qty,
                    "p": px,
                    "L": "PlusTick",
                    "i": trade_id,
                    "BT": False,
                    "RPI": False,
                    "seq": 1783284617,
                }
            ],
        }
    )


def binance_diff(symbol: str, first: int, last: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    """CONSTRUCTED Binance spot ``depthUpdate`` in the combined-stream wrapper."""
    data = {"e": "depthUpdate", "E": 1, "s": symbol, "U": first, "u": last, "b": bids, "a": asks}
    return orjson.dumps({"stream": f"{symbol.lower()}@depth@100ms", "data": data})


def binance_snapshot(last_update_id: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    """CONSTRUCTED Binance REST depth snapshot body."""
    return orjson.dumps({"lastUpdateId": last_update_id, "bids": bids, "asks": asks})


def okx_books(
    symbol: str, action: str, seq: int, prev: int, bids: list[list[str]], asks: list[list[str]]
) -> bytes:
    """CONSTRUCTED OKX v5 ``books`` frame with seqId/prevSeqId and checksum 0 (post-2026 shape)."""
    levels = {
        "asks": [[p, q, "0", "1"] for p, q in asks],
        "bids": [[p, q, "0", "1"] for p, q in bids],
    }
    data = {**levels, "ts": "1597026383085", "checksum": 0, "prevSeqId": prev, "seqId": seq}
    return orjson.dumps({"arg": {"channel": "books", "instId": symbol}, "action": action, "data": [data]})
