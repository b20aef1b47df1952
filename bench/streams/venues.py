"""Wire formats of the four diff-depth feeds: reading book messages and writing synthetic ones.

Message shapes follow the venues' published formats (Binance spot ``depthUpdate`` with ``U``/``u`` inside
the combined-stream wrapper plus the REST snapshot body; Binance USD-M with ``pu``; Bybit v5
``orderbook.{depth}`` snapshot/delta; OKX v5 ``books`` with ``seqId``/``prevSeqId``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

Level = tuple[int, int]  # (price ticks, quantity lots); lots == 0 deletes
Levels = Sequence[Level]


@dataclass(frozen=True)
class BookMessage:
    """A book message reduced to what the calibration needs: levels as the exchange's strings."""

    snapshot: bool
    bids: Sequence[tuple[str, str]]
    asks: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Instrument:
    """The synthetic instrument a stream is generated for: its price grid and how the venue prints it."""

    symbol: str
    price_decimals: int
    qty_decimals: int
    start_price_ticks: int
    fixed_decimals: bool  # Binance and Bybit print every decimal ("0.50000000"); OKX strips zeros

    def fmt(self, units: int, decimals: int) -> str:
        if decimals == 0:
            return str(units)
        scale = 10**decimals
        whole, frac = divmod(units, scale)
        text = f"{whole}.{frac:0{decimals}d}"
        if not self.fixed_decimals:
            text = text.rstrip("0").rstrip(".")
        return text

    def price(self, ticks: int) -> str:
        return self.fmt(ticks, self.price_decimals)

    def qty(self, lots: int) -> str:
        return self.fmt(lots, self.qty_decimals)


@dataclass
class SeqState:
    """Sequence numbers a venue puts on consecutive messages; advanced by the encoder."""

    last_id: int
    time_ms: int


Encoder = Callable[[Instrument, SeqState, Levels, Levels, bool], bytes]


def _levels(inst: Instrument, levels: Levels) -> list[list[str]]:
    return [[inst.price(p), inst.qty(q)] for p, q in levels]


def _binance_spot(inst: Instrument, st: SeqState, bids: Levels, asks: Levels, snap: bool) -> bytes:
    if snap:
        body: dict[str, Any] = {
            "lastUpdateId": st.last_id,
            "bids": _levels(inst, bids),
            "asks": _levels(inst, asks),
        }
        return orjson.dumps(body)
    first = st.last_id + 1
    st.last_id += len(bids) + len(asks)
    data = {
        "e": "depthUpdate",
        "E": st.time_ms,
        "s": inst.symbol,
        "U": first,
        "u": st.last_id,
        "b": _levels(inst, bids),
        "a": _levels(inst, asks),
    }
    return orjson.dumps({"stream": f"{inst.symbol.lower()}@depth@100ms", "data": data})


def _binance_usdm(inst: Instrument, st: SeqState, bids: Levels, asks: Levels, snap: bool) -> bytes:
    if snap:
        body: dict[str, Any] = {
            "lastUpdateId": st.last_id,
            "E": st.time_ms,
            "T": st.time_ms,
            "bids": _levels(inst, bids),
            "asks": _levels(inst, asks),
        }
        return orjson.dumps(body)
    # USD-M ids are global across symbols: the next event starts well after this symbol's last one.
    previous = st.last_id
    first = previous + 1 + (previous * 7919) % 97
    st.last_id = first + len(bids) + len(asks)
    data = {
        "e": "depthUpdate",
        "E": st.time_ms,
        "T": st.time_ms - 3,
        "s": inst.symbol,
        "U": first,
        "u": st.last_id,
        "pu": previous,
        "b": _levels(inst, bids),
        "a": _levels(inst, asks),
    }
    return orjson.dumps({"stream": f"{inst.symbol.lower()}@depth@100ms", "data": data})


def _bybit(inst: Instrument, st: SeqState, bids: Levels, asks: Levels, snap: bool) -> bytes:
    st.last_id += 1
    data = {"s": inst.symbol, "b": _levels(inst, bids), "a": _levels(inst, asks), "u": st.last_id}
    data["seq"] = st.last_id * 13 + 66544703342
    return orjson.dumps(
        {
            "topic": f"orderbook.200.{inst.symbol}",
            "type": "snapshot" if snap else "delta",
            "ts": st.time_ms,
            "data": data,
            "cts": st.time_ms - 2,
        }
    )


def _okx(inst: Instrument, st: SeqState, bids: Levels, asks: Levels, snap: bool) -> bytes:
    previous = -1 if snap else st.last_id
    # OKX seqIds step irregularly; never by a fixed amount.
    st.last_id += 1 + (st.last_id * 7919) % 50
    counts = [[inst.price(p), inst.qty(q), "0", str(1 + (p + q) % 9 if q else 0)] for p, q in asks]
    bid_counts = [[inst.price(p), inst.qty(q), "0", str(1 + (p + q) % 9 if q else 0)] for p, q in bids]
    return orjson.dumps(
        {
            "arg": {"channel": "books", "instId": inst.symbol},
            "action": "snapshot" if snap else "update",
            "data": [
                {
                    "asks": counts,
                    "bids": bid_counts,
                    "ts": str(st.time_ms),
                    "checksum": 0,  # the field is fixed at 0 since 2026-06-23
                    "prevSeqId": previous,
                    "seqId": st.last_id,
                }
            ],
        }
    )


def _pairs(raw: Any) -> list[tuple[str, str]]:
    return [(str(level[0]), str(level[1])) for level in raw]


def _parse_binance(obj: Any) -> BookMessage | None:
    if not isinstance(obj, dict):
        return None
    if "lastUpdateId" in obj:
        return BookMessage(True, _pairs(obj["bids"]), _pairs(obj["asks"]))
    data = obj.get("data", obj)
    if isinstance(data, dict) and data.get("e") == "depthUpdate":
        return BookMessage(False, _pairs(data["b"]), _pairs(data["a"]))
    return None


def _parse_bybit(obj: Any) -> BookMessage | None:
    if isinstance(obj, dict) and str(obj.get("topic", "")).startswith("orderbook."):
        data = obj["data"]
        return BookMessage(obj.get("type") == "snapshot", _pairs(data["b"]), _pairs(data["a"]))
    return None


def _parse_okx(obj: Any) -> BookMessage | None:
    if isinstance(obj, dict) and obj.get("arg", {}).get("channel") == "books" and obj.get("data"):
        data = obj["data"][0]
        return BookMessage(obj.get("action") == "snapshot", _pairs(data["bids"]), _pairs(data["asks"]))
    return None


@dataclass(frozen=True)
class Venue:
    name: str
    recording_folder: str
    calibrated_on: str  # the venue whose recordings calibrate this one's generator
    instrument: Instrument
    snapshot_depth: int
    start_id: int
    encode: Encoder
    parse: Callable[[Any], BookMessage | None]


VENUES: dict[str, Venue] = {
    v.name: v
    for v in (
        Venue(
            "binance-spot",
            "binance-spot",
            "binance-spot",
            Instrument("BTCUSDT", 2, 8, 3_000_000, True),
            1000,
            281_916_627,
            _binance_spot,
            _parse_binance,
        ),
        Venue(
            "binance-usdm",
            "binance-usdm",
            "binance-usdm",
            Instrument("BTCUSDT", 1, 3, 300_000, True),
            1000,
            600_859_602_414,
            _binance_usdm,
            _parse_binance,
        ),
        # No Bybit capture exists; its 100 ms derivatives deltas are calibrated on Binance USD-M's.
        Venue(
            "bybit",
            "bybit",
            "binance-usdm",
            Instrument("BTCUSDT", 2, 3, 3_000_000, True),
            200,
            177_400_507,
            _bybit,
            _parse_bybit,
        ),
        Venue(
            "okx",
            "okx",
            "okx",
            Instrument("BTC-USDT", 1, 8, 300_000, False),
            400,
            3_394_851_470,
            _okx,
            _parse_okx,
        ),
    )
}


def parse_book_message(venue: str, obj: Any) -> BookMessage | None:
    """The book message in a decoded frame of ``venue``, or None for any other kind of frame."""
    return VENUES[venue].parse(obj)
