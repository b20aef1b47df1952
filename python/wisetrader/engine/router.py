"""Intent -> risk gate -> executor, and executor news (order updates, fills) -> risk gate and listeners.

The router is the single place where an order intent (integer ticks and lots, from the bots) becomes an
order request (decimal strings, for the venue), and where order lifecycle and fills keep the risk
gate's exposure in step with the venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from wisetrader.execution import Fill, OrderRequest, TrackedOrder
from wisetrader.risk import Decision, Intent, RiskGate


class Executor(Protocol):
    """What the router needs of an executor; it reports order changes and fills via the two callbacks."""

    on_update: Callable[[TrackedOrder], None] | None
    on_fill: Callable[[Fill], None] | None
    orders: dict[str, TrackedOrder]  # by client order id

    async def place(self, req: OrderRequest) -> TrackedOrder: ...
    async def cancel(self, client_id: str) -> TrackedOrder: ...


class RouterListener(Protocol):
    """Where the router reports (the bus publisher in the engine)."""

    def decision(self, intent: Intent, decision: Decision) -> None: ...
    def order_update(self, order: TrackedOrder, intent: Intent | None) -> None: ...
    def fill(self, fill: Fill, intent: Intent | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Market:
    """One routable instrument: venue symbol, ccxt symbol, grid, and the account that trades it."""

    venue: str
    symbol: str  # as the venue writes it (BTCUSDT, BTC-USDT)
    unified: str  # ccxt's (BTC/USDT)
    tick_size: Decimal
    step_size: Decimal
    _price: _Grid = field(init=False, repr=False, compare=False)
    _qty: _Grid = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_price", _Grid.of(self.tick_size))
        object.__setattr__(self, "_qty", _Grid.of(self.step_size))

    def price(self, ticks: int) -> str:
        return self._price.format(ticks)

    def qty(self, lots: int) -> str:
        return self._qty.format(lots)

    def lots(self, qty: str) -> int:
        lots = Decimal(qty) / self.step_size
        if lots != lots.to_integral_value():
            raise ValueError(f"{self.symbol}: quantity {qty} is off the lot grid")
        return int(lots)


@dataclass(frozen=True, slots=True)
class _Grid:
    """A step as ``mantissa x 10^-decimals``, to format ``steps x step`` in integer arithmetic only."""

    mantissa: int
    decimals: int

    @classmethod
    def of(cls, step: Decimal) -> _Grid:
        _, digits, exponent = step.normalize().as_tuple()
        assert isinstance(exponent, int)
        mantissa = int("".join(map(str, digits)))
        if exponent > 0:
            return cls(mantissa * 10**exponent, 0)
        return cls(mantissa, -exponent)

    def format(self, steps: int) -> str:
        units = steps * self.mantissa
        if not self.decimals:
            return str(units)
        text = str(abs(units)).rjust(self.decimals + 1, "0")
        return f"{'-' if units < 0 else ''}{text[: -self.decimals]}.{text[-self.decimals :]}"


class OrderRouter:
    def __init__(
        self,
        gate: RiskGate,
        executors: Mapping[str, Executor],
        markets: Mapping[tuple[str, str], Market],
        listener: RouterListener | None = None,
    ) -> None:
        self.gate = gate
        self.executors = executors
        self.markets = markets
        self.by_unified = {(m.venue, m.unified): m for m in markets.values()}
        self.listener = listener
        self.intents: dict[str, Intent] = {}  # by client order id
        self.tasks: set[asyncio.Task[TrackedOrder]] = set()  # placements and cancels not yet answered
        self.filled_lots: dict[str, int] = {}
        # Awaited before every order request leaves (the state persister: a request is only sent once
        # a restart would know of it).
        self.before_send: Callable[[], Awaitable[None]] | None = None
        for executor in executors.values():
            executor.on_update = self.order_update
            executor.on_fill = self.fill

    def submit(self, intent: Intent) -> Decision:
        """Check ``intent`` and, if accepted, hand it to its account's executor (without waiting)."""
        decision = self.gate.check(intent)
        if self.listener is not None:
            self.listener.decision(intent, decision)
        if not decision.accepted:
            return decision
        market = self.markets[(intent.venue, intent.symbol)]
        request = OrderRequest(
            intent.client_id,
            market.unified,
            intent.side,
            market.qty(intent.qty),
            None if intent.price is None else market.price(intent.price),
            bot_id=intent.bot_id,
        )
        self.track(intent)
        self._spawn(self._place(self.executors[intent.account], request))
        return decision

    def track(self, intent: Intent) -> None:
        """Count ``intent``'s order as open (on submit, or when a restart finds it on the venue)."""
        self.intents[intent.client_id] = intent
        if intent.client_id not in self.gate.open:  # a restart's retry must not count it twice
            self.gate.on_order_accepted(intent)

    async def _place(self, executor: Executor, request: OrderRequest) -> TrackedOrder:
        if self.before_send is not None:
            await self.before_send()
        return await executor.place(request)

    async def cancel(self, client_id: str) -> TrackedOrder:
        if self.before_send is not None:
            await self.before_send()
        return await self.executors[self.intents[client_id].account].cancel(client_id)

    def cancel_soon(self, client_id: str, then: Callable[[TrackedOrder], None] | None = None) -> None:
        """Cancel without waiting (from synchronous code), then ``then(order)``; :meth:`drain` waits."""

        async def cancel() -> TrackedOrder:
            order = await self.cancel(client_id)
            if then is not None:
                then(order)
            return order

        self._spawn(cancel())

    def _spawn(self, work: Coroutine[Any, Any, TrackedOrder]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        """Wait for every placement and cancel handed out so far."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # ---- news from the executors ---------------------------------------------------------------------
    def order_update(self, order: TrackedOrder) -> None:
        if order.state.terminal:
            self.gate.on_order_closed(order.client_id)
        if self.listener is not None:
            self.listener.order_update(order, self.intents.get(order.client_id))

    def fill(self, fill: Fill) -> None:
        intent = self.intents.get(fill.client_id)
        if intent is not None:
            market = self.markets[(intent.venue, intent.symbol)]
            lots = market.lots(fill.qty)
            self.gate.on_fill(intent.account, intent.bot_id, intent.symbol, intent.side, lots)
            self.filled_lots[fill.client_id] = self.filled_lots.get(fill.client_id, 0) + lots
        if self.listener is not None:
            self.listener.fill(fill, intent)

    # ---- controls ------------------------------------------------------------------------------------
    async def kill(self) -> list[TrackedOrder]:
        """Global kill switch: refuse every new order at once, then cancel every open order."""
        self.gate.kill()
        await self.drain()
        open_ids = [cid for cid in self.intents if cid in self.gate.open]
        return list(await asyncio.gather(*(self.cancel(cid) for cid in open_ids)))
