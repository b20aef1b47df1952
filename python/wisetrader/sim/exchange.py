"""The simulated exchange's state: one book per symbol, the moving market, accounts and their orders.

It is protocol-free: the Binance, Bybit and OKX front ends in this package turn its events and answers
into each venue's wire format. Amounts on accounts are ``Decimal`` (exact), book sizes integer lots.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from wisetrader.sim.config import AccountSpec, SimConfig, SymbolSpec
from wisetrader.sim.matching import MARKET_MAKER, Match, Order, OrderBook, Side


class ExchangeError(Exception):
    """A refused request, with the Binance error code and message; the Bybit and OKX fronts translate it."""

    def __init__(self, code: int, msg: str, http_status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.http_status = http_status


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_steps(value: str, step: Decimal, what: str) -> int:
    """An exact multiple of ``step`` as an integer count; anything else is a filter failure."""
    try:
        d = Decimal(value)
    except ArithmeticError:
        raise ExchangeError(
            -1100,
            f"Illegal characters found in parameter '{what}'; "
            "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ) from None
    if not d.is_finite() or d <= 0:
        raise ExchangeError(-1100, f"Illegal characters found in parameter '{what}'.")
    steps = d / step
    if steps != steps.to_integral_value():
        raise ExchangeError(-1013, f"Filter failure: {'PRICE_FILTER' if what == 'price' else 'LOT_SIZE'}")
    return int(steps)


def fmt(steps: int, step: Decimal) -> str:
    return f"{Decimal(steps) * step:.8f}"


@dataclass(frozen=True, slots=True)
class DepthEvent:
    symbol: str
    first_id: int  # U
    last_id: int  # u
    time_ms: int
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class TradeEvent:
    symbol: str
    trade_id: int
    price: str
    qty: str
    time_ms: int
    buyer_is_maker: bool


@dataclass(frozen=True, slots=True)
class BookTickerEvent:
    symbol: str
    update_id: int
    bid: str
    bid_qty: str
    ask: str
    ask_qty: str


MarketEvent = DepthEvent | TradeEvent | BookTickerEvent


@dataclass
class UserOrder:
    """A user's order as the venue reports it."""

    symbol: str
    account: str
    client_id: str
    type: str  # LIMIT, MARKET, LIMIT_MAKER
    time_in_force: str
    price: str
    book_order: Order
    time_ms: int
    update_ms: int
    status: str = "NEW"
    cum_quote: Decimal = Decimal(0)
    fills: list[dict[str, object]] = field(default_factory=list)
    venue: str = "binance"  # the front it was entered on: each venue lists and finds only its own orders
    cum_fee: Decimal = Decimal(0)


@dataclass
class Account:
    spec: AccountSpec
    free: dict[str, Decimal]
    locked: dict[str, Decimal] = field(default_factory=dict)
    trades: list[dict[str, object]] = field(default_factory=list)

    def move(self, asset: str, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        self.free[asset] = self.free.get(asset, Decimal(0)) + free
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + locked

    def balances(self, wanted: set[str] | None = None) -> list[tuple[str, Decimal, Decimal]]:
        """(asset, free, locked) for every asset held (or only ``wanted``), by name."""
        assets = sorted(set(self.free) | set(self.locked))
        zero = Decimal(0)
        return [
            (a, self.free.get(a, zero), self.locked.get(a, zero)) for a in assets if not wanted or a in wanted
        ]


@dataclass
class Market:
    spec: SymbolSpec
    book: OrderBook = field(default_factory=OrderBook)
    update_id: int = 1_000_000
    trade_id: int = 0
    mid: int = 0  # ticks
    mm_orders: dict[tuple[Side, int], Order] = field(default_factory=dict)
    mm_sizes: dict[tuple[Side, int], int] = field(default_factory=dict)
    last_top: tuple[int | None, int, int | None, int] = (None, 0, None, 0)
    replaying: bool = False  # driven by a recording instead of the price process
    replay: list[dict[str, object]] = field(default_factory=list)
    replay_levels: dict[tuple[Side, int], int] = field(default_factory=dict)


class Exchange:
    """All markets and accounts. ``tick()`` moves the market and publishes events to listeners."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.markets = {s.symbol: Market(spec=s) for s in config.symbols}
        self.accounts = {a.name: Account(spec=a, free=dict(a.balances)) for a in config.accounts}
        self.by_api_key = {a.spec.api_key: a for a in self.accounts.values()}
        self.orders: dict[int, UserOrder] = {}  # by order id (global, unique)
        self.next_order_id = 1
        self.listeners: list[Callable[[MarketEvent], None]] = []
        self.bad_replay_levels = 0
        self.outage_left = 0  # REST requests still to be answered 503 (FaultSpec.outage_after_fail)
        for market in self.markets.values():
            market.mid = int(market.spec.start_price / market.spec.tick_size)
        if config.market.replay is not None:
            self._load_replay(config.market.replay, config.market.replay_symbol or config.symbols[0].symbol)
        for market in self.markets.values():
            self._requote(market)
            market.book.take_changes()  # the opening book is the snapshot's, not a diff
            market.last_top = self._top(market)

    # ---- the moving market -------------------------------------------------------------------
    def tick(self) -> None:
        for market in self.markets.values():
            if market.replaying:
                if market.replay:  # one recorded diff per tick
                    ev = market.replay.pop(0)
                    self._replay_apply(market, ev["b"], ev["a"])  # type: ignore[arg-type]
            else:
                step = round(self.rng.gauss(0.0, self.config.market.volatility_ticks))
                market.mid = max(self.config.market.levels * 2 + 10, market.mid + step)
            self._requote(market)
            if self.rng.random() < self.config.market.taker_prob:
                side = Side.BUY if self.rng.random() < 0.5 else Side.SELL
                qty = self.rng.randint(1, self.config.market.taker_max_lots)
                self._execute(market, Order(self._new_id(), MARKET_MAKER, side, 0, qty), None)
            self._publish_changes(market)

    def _load_replay(self, path: Path, symbol: str) -> None:
        market = self.markets[symbol]
        market.replaying = True
        snapshot: dict[str, object] | None = None
        for line in path.read_text().splitlines():
            _, _, payload = line.partition(" ")
            msg = orjson.loads(payload)
            if "lastUpdateId" in msg and snapshot is None:
                snapshot = msg
            elif msg.get("stream", "").endswith("@depth@100ms"):
                market.replay.append(msg["data"])
        if snapshot is None:
            raise ValueError(f"{path}: no REST depth snapshot in the recording")
        self._replay_apply(market, snapshot["bids"], snapshot["asks"])  # type: ignore[arg-type]
        last = int(snapshot["lastUpdateId"])  # type: ignore[call-overload]
        market.replay = [d for d in market.replay if int(d["u"]) > last]  # type: ignore[call-overload]

    def _replay_apply(self, market: Market, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            for price_s, qty_s in levels:
                try:
                    price = to_steps(price_s, market.spec.tick_size, "price")
                    lots = Decimal(qty_s) / market.spec.step_size
                    if lots != lots.to_integral_value():
                        raise ArithmeticError(qty_s)
                    qty = int(lots)
                except (ExchangeError, ArithmeticError):
                    self.bad_replay_levels += 1
                    continue
                if qty:
                    market.replay_levels[(side, price)] = qty
                else:
                    market.replay_levels.pop((side, price), None)

    def _targets(self, market: Market) -> dict[tuple[Side, int], int]:
        if market.replaying:
            return dict(market.replay_levels)
        m = self.config.market
        targets = {}
        for i in range(m.levels):
            offset = m.half_spread_ticks + i * m.level_step_ticks
            for key in ((Side.BUY, market.mid - offset), (Side.SELL, market.mid + offset)):
                size = market.mm_sizes.get(key)
                if size is None or self.rng.random() < m.refresh_prob:
                    size = market.mm_sizes[key] = self.rng.randint(m.min_level_lots, m.max_level_lots)
                targets[key] = size
        return targets

    def _requote(self, market: Market) -> None:
        targets = self._targets(market)
        for key, order in list(market.mm_orders.items()):
            if targets.get(key) != order.remaining:
                market.book.cancel(order.order_id)
                del market.mm_orders[key]
        for (side, price), qty in sorted(targets.items(), key=lambda kv: kv[0][1]):
            if (side, price) not in market.mm_orders:
                order = Order(self._new_id(), MARKET_MAKER, side, price, qty)
                if self._execute(market, order, price):
                    market.mm_orders[(side, price)] = order
        market.mm_sizes = {k: v for k, v in market.mm_sizes.items() if k in targets}

    def _top(self, market: Market) -> tuple[int | None, int, int | None, int]:
        bid, ask = market.book.best(Side.BUY), market.book.best(Side.SELL)
        return (
            bid,
            market.book.level_qty(Side.BUY, bid) if bid is not None else 0,
            ask,
            market.book.level_qty(Side.SELL, ask) if ask is not None else 0,
        )

    def _publish_changes(self, market: Market) -> None:
        spec = market.spec
        changes = list(market.book.take_changes())
        if changes:
            first = market.update_id + 1
            market.update_id += len(changes)
            bids = [(fmt(p, spec.tick_size), fmt(q, spec.step_size)) for s, p, q in changes if s is Side.BUY]
            asks = [(fmt(p, spec.tick_size), fmt(q, spec.step_size)) for s, p, q in changes if s is Side.SELL]
            bids.reverse()  # best first, as the venue sends them
            self._emit(DepthEvent(spec.symbol, first, market.update_id, now_ms(), bids, asks))
        top = self._top(market)
        if top != market.last_top and top[0] is not None and top[2] is not None:
            market.last_top = top
            self._emit(
                BookTickerEvent(
                    spec.symbol,
                    market.update_id,
                    fmt(top[0], spec.tick_size),
                    fmt(top[1], spec.step_size),
                    fmt(top[2], spec.tick_size),
                    fmt(top[3], spec.step_size),
                )
            )

    def _emit(self, event: MarketEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def _new_id(self) -> int:
        oid = self.next_order_id
        self.next_order_id += 1
        return oid

    # ---- matching with accounting ------------------------------------------------------------
    def _execute(self, market: Market, order: Order, limit: int | None, rest: bool = True) -> bool:
        """Match ``order`` up to ``limit``; rest what is left if asked to. True if something rests."""
        for match in market.book.match(order, limit):
            self._settle(market, match)
        if rest and limit is not None and order.remaining > 0:
            market.book.rest(order)
            return True
        return False

    def _settle(self, market: Market, match: Match) -> None:
        spec = market.spec
        market.trade_id += 1
        price = Decimal(match.price) * spec.tick_size
        qty = Decimal(match.qty) * spec.step_size
        ts = now_ms()
        buyer = match.maker if match.maker.side is Side.BUY else match.taker
        self._emit(
            TradeEvent(
                spec.symbol,
                market.trade_id,
                fmt(match.price, spec.tick_size),
                fmt(match.qty, spec.step_size),
                ts,
                buyer is match.maker,
            )
        )
        for order, is_maker in ((match.maker, True), (match.taker, False)):
            if order.owner == MARKET_MAKER:
                if order.remaining == 0:
                    market.mm_orders.pop((order.side, order.price), None)
                continue
            user = self.orders[order.order_id]
            account = self.accounts[order.owner]
            rate = self.config.maker_fee if is_maker else self.config.taker_fee
            quote = price * qty
            if order.side is Side.BUY:
                fee, fee_asset = qty * rate, spec.base
                if user.type == "MARKET":
                    account.move(spec.quote, free=-quote)
                else:
                    reserved = Decimal(user.price) * qty
                    account.move(spec.quote, free=reserved - quote, locked=-reserved)
                account.move(spec.base, free=qty - fee)
            else:
                fee, fee_asset = quote * rate, spec.quote
                if user.type == "MARKET":
                    account.move(spec.base, free=-qty)
                else:
                    account.move(spec.base, locked=-qty)
                account.move(spec.quote, free=quote - fee)
            user.cum_quote += quote
            user.cum_fee += fee
            user.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
            user.update_ms = ts
            fee_s = f"{fee:.8f}"
            user.fills.append(
                {
                    "price": f"{price:.8f}",
                    "qty": f"{qty:.8f}",
                    "commission": fee_s,
                    "commissionAsset": fee_asset,
                    "tradeId": market.trade_id,
                }
            )
            account.trades.append(
                {
                    "symbol": spec.symbol,
                    "id": market.trade_id,
                    "orderId": order.order_id,
                    "orderListId": -1,
                    "price": f"{price:.8f}",
                    "qty": f"{qty:.8f}",
                    "quoteQty": f"{quote:.8f}",
                    "commission": fee_s,
                    "commissionAsset": fee_asset,
                    "time": ts,
                    "isBuyer": order.side is Side.BUY,
                    "isMaker": is_maker,
                    "isBestMatch": True,
                }
            )

    # ---- order entry (Binance semantics) -----------------------------------------------------
    def place_order(
        self, account: Account, params: dict[str, str], venue: str = "binance", unique_ids: bool = False
    ) -> UserOrder:
        """Place an order given in Binance's parameter names (the other fronts translate theirs).

        ``unique_ids``: a client id may never be reused (Bybit), not only while its order is open.
        """
        symbol = params.get("symbol", "")
        market = self.markets.get(symbol)
        if market is None:
            raise ExchangeError(-1121, "Invalid symbol.")
        spec = market.spec
        try:
            side = Side(params.get("side", ""))
        except ValueError:
            raise ExchangeError(
                -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."
            ) from None
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise ExchangeError(-1116, "Invalid orderType.")
        client_id = params.get("newClientOrderId") or f"sim{self.next_order_id}"
        if any(
            o.client_id == client_id
            and o.account == account.spec.name
            and o.venue == venue
            and (unique_ids or o.status in ("NEW", "PARTIALLY_FILLED"))
            for o in self.orders.values()
        ):
            raise ExchangeError(-2010, "Duplicate order sent.")
        if "quantity" not in params:
            raise ExchangeError(
                -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
            )
        qty = to_steps(params["quantity"], spec.step_size, "quantity")
        qty_d = Decimal(qty) * spec.step_size
        if qty_d < spec.min_qty or qty_d > spec.max_qty:
            raise ExchangeError(-1013, "Filter failure: LOT_SIZE")
        tif = params.get("timeInForce", "GTC" if otype == "LIMIT" else "")
        limit: int | None = None
        if otype == "MARKET":
            ref = market.book.best(side.opposite)
            if ref is None:
                raise ExchangeError(-2010, "Market is closed.")
            price_d = Decimal(ref) * spec.tick_size
        else:
            if otype == "LIMIT" and tif not in ("GTC", "IOC", "FOK"):
                raise ExchangeError(-1115, "Invalid timeInForce.")
            if "price" not in params:
                raise ExchangeError(
                    -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
                )
            limit = to_steps(params["price"], spec.tick_size, "price")
            price_d = Decimal(limit) * spec.tick_size
        notional = price_d * qty_d
        if notional < spec.min_notional or notional > spec.max_notional:
            raise ExchangeError(-1013, "Filter failure: NOTIONAL")
        open_count = sum(
            1
            for o in self.orders.values()
            if o.symbol == symbol
            and o.account == account.spec.name
            and o.venue == venue
            and o.status in ("NEW", "PARTIALLY_FILLED")
        )
        if otype != "MARKET" and open_count >= spec.max_num_orders:
            raise ExchangeError(-1013, "Filter failure: MAX_NUM_ORDERS")
        book_order = Order(
            self._new_id(),
            account.spec.name,
            side,
            limit or 0,
            qty,
            max_fill_per_match=self.config.faults.partial_fill_lots,
        )
        if otype == "LIMIT_MAKER" and market.book.available(side, limit) > 0:
            raise ExchangeError(-2010, "Order would immediately match and take.")
        status = "EXPIRED" if tif == "FOK" and market.book.available(side, limit) < qty else "NEW"
        # Funds: a limit order reserves what it may spend; a market buy must afford the book it walks.
        if side is Side.BUY:
            need = notional if otype != "MARKET" else self._market_buy_cost(market, qty)
            asset = spec.quote
        else:
            need, asset = qty_d, spec.base
        if account.free.get(asset, Decimal(0)) < need:
            raise ExchangeError(-2010, "Account has insufficient balance for requested action.")
        ts = now_ms()
        user = UserOrder(
            symbol,
            account.spec.name,
            client_id,
            otype,
            tif,
            f"{price_d:.8f}" if otype != "MARKET" else "0",
            book_order,
            ts,
            ts,
            status,
            venue=venue,
        )
        self.orders[book_order.order_id] = user
        if status == "EXPIRED":
            return user
        if otype != "MARKET":
            account.move(asset, free=-need, locked=need)
        rests = self._execute(market, book_order, limit, rest=otype == "LIMIT_MAKER" or tif == "GTC")
        if not rests and book_order.remaining > 0:
            # What an IOC, FOK or market order could not fill expires and releases its reservation.
            if otype != "MARKET":
                self._release(account, user)
            user.status = "EXPIRED"
        self._publish_changes(market)
        return user

    def _market_buy_cost(self, market: Market, qty: int) -> Decimal:
        cost, left = Decimal(0), qty
        for price, lots, _ in market.book.levels(Side.SELL, 10_000):
            take = min(left, lots)
            cost += Decimal(price) * market.spec.tick_size * Decimal(take) * market.spec.step_size
            left -= take
            if left == 0:
                break
        return cost

    def _release(self, account: Account, user: UserOrder) -> None:
        spec = self.markets[user.symbol].spec
        left = Decimal(user.book_order.remaining) * spec.step_size
        if user.book_order.side is Side.BUY:
            amount = Decimal(user.price) * left
            account.move(spec.quote, free=amount, locked=-amount)
        else:
            account.move(spec.base, free=left, locked=-left)

    def find_order(self, account: Account, params: dict[str, str], venue: str = "binance") -> UserOrder:
        symbol = params.get("symbol", "")
        if symbol not in self.markets:
            raise ExchangeError(-1121, "Invalid symbol.")
        if "orderId" in params:
            try:
                user = self.orders.get(int(params["orderId"]))
            except ValueError:
                raise ExchangeError(-1100, "Illegal characters found in parameter 'orderId'.") from None
        elif "origClientOrderId" in params:
            candidates = [
                o
                for o in self.orders.values()
                if o.account == account.spec.name
                and o.venue == venue
                and o.symbol == symbol
                and o.client_id == params["origClientOrderId"]
            ]
            user = candidates[-1] if candidates else None
        else:
            raise ExchangeError(
                -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        if user is None or user.account != account.spec.name or user.symbol != symbol or user.venue != venue:
            raise ExchangeError(-2013, "Order does not exist.")
        return user

    def cancel_order(self, account: Account, params: dict[str, str], venue: str = "binance") -> UserOrder:
        try:
            user = self.find_order(account, params, venue)
        except ExchangeError as e:
            if e.code == -2013:
                raise ExchangeError(-2011, "Unknown order sent.") from None
            raise
        if user.status not in ("NEW", "PARTIALLY_FILLED"):
            raise ExchangeError(-2011, "Unknown order sent.")
        market = self.markets[user.symbol]
        market.book.cancel(user.book_order.order_id)
        self._release(account, user)
        user.status = "CANCELED"
        user.update_ms = now_ms()
        self._publish_changes(market)
        return user

    def open_orders(self, account: Account, symbol: str | None, venue: str = "binance") -> list[UserOrder]:
        return [
            o
            for o in self.orders.values()
            if o.account == account.spec.name
            and o.venue == venue
            and (symbol is None or o.symbol == symbol)
            and o.status in ("NEW", "PARTIALLY_FILLED")
        ]
