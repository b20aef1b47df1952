"""Instrument grids (tick size, lot step) for the market-data core.

A small bundled table covers common symbols; anything else (or anything the table gets wrong for an
older recording) is inferred from the recording itself: the finest decimal seen among its prices
and among its quantities. A finer grid than the venue's is always safe (every real value stays on
it); only a coarser one would refuse valid data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from wisetrader.marketdata.recording import Recording


@dataclass(frozen=True)
class InstrumentSpec:
    symbol: str
    tick_size: str
    lot_step: str
    source: str = "bundled"


# Venue filters for common symbols (tick size, lot step), as published by each venue.
BUNDLED: dict[str, dict[str, tuple[str, str]]] = {
    "binance-spot": {
        "BTCUSDT": ("0.01", "0.00001"),
        "ETHUSDT": ("0.01", "0.0001"),
        "BNBUSDT": ("0.01", "0.001"),
        "SOLUSDT": ("0.01", "0.001"),
        "XRPUSDT": ("0.0001", "0.1"),
    },
    "binance-usdm": {
        "BTCUSDT": ("0.10", "0.001"),
        "ETHUSDT": ("0.01", "0.001"),
        "SOLUSDT": ("0.0100", "1"),
    },
    "bybit-spot": {
        "BTCUSDT": ("0.01", "0.000001"),
        "ETHUSDT": ("0.01", "0.00001"),
    },
    "bybit-linear": {
        "BTCUSDT": ("0.10", "0.001"),
        "ETHUSDT": ("0.01", "0.01"),
    },
    "okx": {
        "BTC-USDT": ("0.1", "0.00000001"),
        "ETH-USDT": ("0.01", "0.000001"),
        "BTC-USDT-SWAP": ("0.1", "0.01"),
    },
}

_PRICE_KEYS = frozenset({"p", "px", "b", "a", "bidPx", "askPx"})
_QTY_KEYS = frozenset({"q", "sz", "v", "B", "A", "bidSz", "askSz"})


def bundled_instrument(venue: str, symbol: str) -> InstrumentSpec | None:
    steps = BUNDLED.get(venue, {}).get(symbol)
    return InstrumentSpec(symbol, *steps, source="bundled") if steps else None


def _digits(text: str) -> int | None:
    """Significant fractional digits of a decimal string, ``None`` if it is not one."""
    try:
        d = Decimal(text)
    except ArithmeticError:
        return None
    if not d.is_finite():
        return None
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else None


def _step(digits: int) -> str:
    return "1" if digits == 0 else "0." + "0" * (digits - 1) + "1"


def _symbol_of(venue: str, msg: Any) -> str | None:
    if not isinstance(msg, dict):
        return None
    if venue.startswith("binance"):
        data = msg.get("data", msg)
        return data.get("s") if isinstance(data, dict) else None
    if venue.startswith("bybit"):
        data = msg.get("data")
        if isinstance(data, dict):
            return data.get("s")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0].get("s")
        return None
    arg = msg.get("arg")
    return arg.get("instId") if isinstance(arg, dict) else None


def _decimals(node: Any) -> Iterator[tuple[str, str]]:
    """``("px" | "qty", text)`` for every price/quantity string in a message."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key in _PRICE_KEYS:
                    yield "px", value
                elif key in _QTY_KEYS:
                    yield "qty", value
            else:
                yield from _decimals(value)
    elif isinstance(node, list):
        if len(node) >= 2 and isinstance(node[0], str) and isinstance(node[1], str):
            yield "px", node[0]
            yield "qty", node[1]
        else:
            for item in node:
                yield from _decimals(item)


def infer_instruments(
    frames: Iterable[bytes], venue: str, default_symbol: str | None = None
) -> dict[str, InstrumentSpec]:
    """Finest price and quantity steps seen per symbol; bare snapshots count for ``default_symbol``."""
    digits: dict[str, dict[str, int]] = {}
    for payload in frames:
        try:
            msg = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        # A bare snapshot names no symbol: it belongs to `default_symbol`, or to the only symbol.
        symbol = _symbol_of(venue, msg) or default_symbol or ""
        seen = digits.setdefault(symbol, {"px": 0, "qty": 0})
        for kind, text in _decimals(msg):
            n = _digits(text)
            if n is not None and n > seen[kind]:
                seen[kind] = n
    unnamed = digits.pop("", None)
    if unnamed and len(digits) == 1:
        only = next(iter(digits.values()))
        for kind in ("px", "qty"):
            only[kind] = max(only[kind], unnamed[kind])
    return {
        s: InstrumentSpec(s, _step(d["px"]), _step(d["qty"]), source="inferred") for s, d in digits.items()
    }


def _finer(a: str, b: str) -> bool:
    """``a`` is a strictly finer step than ``b``."""
    return Decimal(a) < Decimal(b)


def resolve_instruments(
    path: Path,
    venue: str,
    symbol: str | None = None,
    tick_size: str | None = None,
    lot_step: str | None = None,
    scan_lines: int = 20_000,
) -> list[InstrumentSpec]:
    """Grids for every symbol of a recording (only ``symbol`` if given).

    Explicit ``tick_size``/``lot_step`` win; then the bundled table unless the recording holds finer
    decimals than it allows (e.g. an older recording); then the inferred grid. Inference reads the
    first ``scan_lines`` lines.
    """
    rec = Recording(path)
    head = (payload for _, payload in islice(rec.frames(), scan_lines))
    inferred = infer_instruments(head, venue, default_symbol=symbol)
    symbols = [symbol] if symbol else sorted(inferred)
    specs = []
    for s in symbols:
        guess = inferred.get(s, InstrumentSpec(s, "0.00000001", "0.00000001", source="default"))
        table = bundled_instrument(venue, s)
        if (
            table
            and not _finer(guess.tick_size, table.tick_size)
            and not _finer(guess.lot_step, table.lot_step)
        ):
            guess = table
        specs.append(
            InstrumentSpec(s, tick_size or guess.tick_size, lot_step or guess.lot_step, source=guess.source)
        )
    return specs
