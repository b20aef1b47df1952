"""What the Bybit v5 and OKX v5 order-entry fronts share: decimal formatting, the answer faults and the
per-venue view of an account's orders and trades.

Both fronts translate their venue's parameters into the engine's (Binance-named) ones, so every venue's
orders meet in the one matching engine; each venue lists and finds only the orders entered through it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import orjson
from aiohttp import web

from wisetrader.sim.config import FaultSpec
from wisetrader.sim.exchange import Account, Exchange, UserOrder

OPEN = ("NEW", "PARTIALLY_FILLED")
RECENT_CLOSED = 500  # Bybit keeps the last 500 closed orders queryable; the sim does the same for OKX

# What a load balancer in front of the venue sends when the backend does not answer in time: no JSON, so
# the client cannot tell whether the order was placed (it must ask by client id).
_GATEWAY_503 = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"


def plain(value: Decimal | str | int) -> str:
    """A decimal as Bybit and OKX write it: no exponent, no trailing zeros ("0.004", "30000")."""
    d = Decimal(value)
    if d == 0:
        return "0"
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def gateway_503() -> web.Response:
    return web.Response(status=503, text=_GATEWAY_503, content_type="text/html")


def outage(exchange: Exchange) -> web.Response | None:
    """A 503 while the venue is down after a lost answer (``FaultSpec.outage_after_fail``)."""
    if exchange.outage_left > 0:
        exchange.outage_left -= 1
        return gateway_503()
    return None


async def answer_faults(exchange: Exchange, faults: FaultSpec) -> web.Response | None:
    """After an order is placed: lose its answer (a 503 or a hang) or acknowledge it late, as configured."""
    if faults.fail_after_accept > 0:
        faults.fail_after_accept -= 1
        exchange.outage_left = faults.outage_after_fail
        if faults.fail_mode == "timeout":
            await asyncio.sleep(faults.timeout_s)
        return gateway_503()
    if faults.ack_delay_s:
        await asyncio.sleep(faults.ack_delay_s)
    return None


def json_object(body: str) -> dict[str, object]:
    """A POST body as a JSON object (empty body: no parameters); ``ValueError`` for anything else."""
    if not body.strip():
        return {}
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def text(value: object) -> str:
    """A JSON parameter as the string the engine reads (clients send numbers as strings or numbers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One of the account's fills on one venue, with the order it belongs to."""

    trade: dict[str, object]
    order: UserOrder


def venue_orders(exchange: Exchange, account: Account, venue: str, symbol: str | None) -> list[UserOrder]:
    """The account's orders on ``venue`` (optionally one symbol), newest first."""
    orders = [
        o
        for o in exchange.orders.values()
        if o.account == account.spec.name and o.venue == venue and symbol in (None, o.symbol)
    ]
    orders.reverse()  # order ids grow with time
    return orders


def venue_trades(exchange: Exchange, account: Account, venue: str, symbol: str | None) -> list[VenueTrade]:
    """The account's fills on ``venue`` (optionally one symbol), newest first."""
    out = []
    for trade in reversed(account.trades):
        order = exchange.orders[int(trade["orderId"])]  # type: ignore[call-overload]
        if order.venue == venue and symbol in (None, order.symbol):
            out.append(VenueTrade(trade, order))
    return out
