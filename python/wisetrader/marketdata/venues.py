"""Names of the venues (and products) the market-data core decodes."""

from __future__ import annotations

from enum import StrEnum


class Venue(StrEnum):
    BINANCE_SPOT = "binance-spot"
    BINANCE_USDM = "binance-usdm"
    BYBIT_SPOT = "bybit-spot"
    BYBIT_LINEAR = "bybit-linear"
    OKX = "okx"


VENUES: tuple[str, ...] = tuple(v.value for v in Venue)
