"""A price-time priority limit order book in integer ticks and lots.

Both the simulated market (its liquidity provider) and the users' orders live in the same book, so a
user's resting order is filled exactly when a counter order reaches its price and its turn in the queue.
The book records which price levels changed, so depth diffs carry absolute quantities per level.
"""

from __future__ import annotations

import bisect
import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field


class Side(enum.Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


@dataclass(slots=True)
class Order:
    order_id: int
    owner: str  # account name; MARKET_MAKER for the simulated liquidity
    side: Side
    price: int  # ticks
    qty: int  # lots
    filled: int = 0
    max_fill_per_match: int = 0  # > 0 caps each trade against it (fault injection: partial fills)

    @property
    def remaining(self) -> int:
        return self.qty - self.filled


@dataclass(frozen=True, slots=True)
class Match:
    maker: Order
    taker: Order
    price: int
    qty: int


MARKET_MAKER = ""


class Ladder(dict[int, deque[Order]]):
    """Price ticks to FIFO queues, with the prices also kept sorted ascending for best-price lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.prices: list[int] = []

    def queue(self, price: int) -> deque[Order]:
        queue = self.get(price)
        if queue is None:
            queue = self[price] = deque()
            bisect.insort(self.prices, price)
        return queue

    def drop(self, price: int) -> None:
        del self[price]
        del self.prices[bisect.bisect_left(self.prices, price)]

    def keys_best_first(self, side: Side) -> Iterator[int]:
        return reversed(self.prices) if side is Side.BUY else iter(self.prices)


@dataclass
class OrderBook:
    """One symbol's book. ``bids``/``asks`` map price ticks to FIFO queues of orders."""

    bids: Ladder = field(default_factory=Ladder)
    asks: Ladder = field(default_factory=Ladder)
    orders: dict[int, Order] = field(default_factory=dict)
    touched: set[tuple[Side, int]] = field(default_factory=set)

    def _side(self, side: Side) -> Ladder:
        return self.bids if side is Side.BUY else self.asks

    def best(self, side: Side) -> int | None:
        prices = self._side(side).prices
        if not prices:
            return None
        return prices[-1] if side is Side.BUY else prices[0]

    def level_qty(self, side: Side, price: int) -> int:
        queue = self._side(side).get(price)
        return sum(o.remaining for o in queue) if queue else 0

    def levels(self, side: Side, depth: int) -> list[tuple[int, int, int]]:
        """Top ``depth`` levels of a side, best first, as (price ticks, total lots, order count)."""
        book = self._side(side)
        out: list[tuple[int, int, int]] = []
        for price in book.keys_best_first(side):
            if len(out) >= depth:
                break
            queue = book[price]
            out.append((price, sum(o.remaining for o in queue), len(queue)))
        return out

    def crosses(self, side: Side, price: int | None, best: int) -> bool:
        return price is None or (best <= price if side is Side.BUY else best >= price)

    def available(self, side: Side, price: int | None) -> int:
        """Lots a taker on ``side`` could fill up to ``price`` (None: any price); for FOK checks."""
        book = self._side(side.opposite)
        total = 0
        for p in book.keys_best_first(side.opposite):
            if not self.crosses(side, price, p):
                break
            total += sum(o.remaining for o in book[p])
        return total

    def match(self, taker: Order, limit: int | None) -> list[Match]:
        """Fill ``taker`` against the opposite side up to ``limit`` ticks (None: market order)."""
        book = self._side(taker.side.opposite)
        matches: list[Match] = []
        while taker.remaining > 0 and book:
            price = self.best(taker.side.opposite)
            assert price is not None
            if not self.crosses(taker.side, limit, price):
                break
            queue: deque[Order] = book[price]
            maker = queue[0]
            qty = min(taker.remaining, maker.remaining)
            if maker.max_fill_per_match > 0:
                qty = min(qty, maker.max_fill_per_match)
            maker.filled += qty
            taker.filled += qty
            matches.append(Match(maker=maker, taker=taker, price=price, qty=qty))
            self.touched.add((maker.side, price))
            # A capped maker stays at the head of its queue: the taker goes on with it trade by trade
            # (several fills of one order), and never rests across it (the book never crosses).
            if maker.remaining == 0:
                queue.popleft()
                del self.orders[maker.order_id]
                if not queue:
                    book.drop(price)
        return matches

    def rest(self, order: Order) -> None:
        self._side(order.side).queue(order.price).append(order)
        self.orders[order.order_id] = order
        self.touched.add((order.side, order.price))

    def cancel(self, order_id: int) -> Order | None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        book = self._side(order.side)
        queue = book[order.price]
        queue.remove(order)
        if not queue:
            book.drop(order.price)
        self.touched.add((order.side, order.price))
        return order

    def take_changes(self) -> Iterator[tuple[Side, int, int]]:
        """Changed levels since the last call, with their absolute quantity now (0: gone)."""
        touched, self.touched = self.touched, set()
        for side, price in sorted(touched, key=lambda t: (t[0].value, t[1])):
            yield side, price, self.level_qty(side, price)
