"""Intents through the risk gate and the live executor to the simulator, with fills flowing back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from simutil import Rest, quiet_config
from wisetrader.engine import Market, OrderRouter
from wisetrader.execution import ExecutorConfig, Fill, LiveExecutor, OrderState, TrackedOrder, client_order_id
from wisetrader.risk import Decision, Instrument, Intent, Reason, RiskGate
from wisetrader.sim import SimExchange

BTC = Market("binance", "BTCUSDT", "BTC/USDT", Decimal("0.01"), Decimal("0.00001"))


class Listener:
    def __init__(self) -> None:
        self.decisions: list[tuple[str, Reason | None]] = []
        self.updates: list[tuple[str, OrderState]] = []
        self.fills: list[tuple[str, str, str | None]] = []

    def decision(self, intent: Intent, decision: Decision) -> None:
        self.decisions.append((intent.client_id, decision.reason))

    def order_update(self, order: TrackedOrder, intent: Intent | None) -> None:
        self.updates.append((order.client_id, order.state))

    def fill(self, fill: Fill, intent: Intent | None) -> None:
        self.fills.append((fill.client_id, fill.qty, intent.bot_id if intent else None))


@pytest.fixture
async def setup() -> AsyncIterator[tuple[SimExchange, OrderRouter, Listener]]:
    async with SimExchange(quiet_config()) as sim:
        gate = RiskGate()
        gate.add_instrument(
            Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size, min_notional=Decimal(5))
        )
        gate.add_account("a", "binance")
        gate.on_book("binance", "BTCUSDT", 2_999_900, 3_000_100)
        config = ExecutorConfig(
            venue="binance", account="a", api_key="keya", secret="secreta", rest_base=sim.rest_url
        )
        executor = LiveExecutor(config)
        await executor.start()
        listener = Listener()
        router = OrderRouter(gate, {"a": executor}, {("binance", "BTCUSDT"): BTC}, listener)
        try:
            yield sim, router, listener
        finally:
            await executor.close()


def intent(level: int, price: int, qty: int = 1000, side: str = "buy", bot: str = "grid1") -> Intent:
    return Intent("a", bot, "binance", "BTCUSDT", side, qty, price, client_order_id(bot, side[0], level, 0))


async def test_accepted_intents_reach_the_venue_as_exact_decimal_orders(
    setup: tuple[SimExchange, OrderRouter, Listener],
) -> None:
    sim, router, listener = setup
    ok = router.submit(intent(1, 2_990_000))
    fat_finger = router.submit(intent(2, 3_300_000))
    assert ok.accepted and fat_finger.reason is Reason.PRICE_BAND
    await router.drain()
    orders = list(sim.exchange.orders.values())
    assert [(o.client_id, o.price, o.book_order.qty) for o in orders] == [
        (intent(1, 0).client_id, "29900.00000000", 1000)
    ]
    assert listener.updates == [(intent(1, 0).client_id, OrderState.OPEN)]
    assert router.gate.accounts["a"].exposure.open_orders == 1


async def test_fills_update_the_gate_and_the_kill_switch_cancels_everything(
    setup: tuple[SimExchange, OrderRouter, Listener], http: None = None
) -> None:
    sim, router, listener = setup
    for level in range(3):
        assert router.submit(intent(level, 2_999_000 - level * 100)).accepted
    await router.drain()
    async with aiohttp.ClientSession() as session:  # someone sells into the top two levels
        await Rest(session, sim.rest_url, key="keyb", secret="secretb").order(
            side="SELL", type="MARKET", quantity="0.015"
        )
    report = await router.executors["a"].reconcile(["BTC/USDT"])  # type: ignore[attr-defined]
    assert report.new_fills == 2
    assert sorted(q for _, q, _ in listener.fills) == ["0.00500000", "0.01000000"]
    assert {bot for _, _, bot in listener.fills} == {"grid1"}
    assert router.gate.accounts["a"].exposure.position == {"BTCUSDT": 1500}
    assert router.gate.accounts["a"].exposure.open_orders == 2  # one filled, one partly, one untouched
    canceled = await router.kill()
    assert sorted(o.state.value for o in canceled) == ["canceled", "canceled"]
    assert router.submit(intent(9, 2_990_000)).reason is Reason.KILL_SWITCH
    assert router.gate.accounts["a"].exposure.open_orders == 0
    assert not sim.exchange.open_orders(sim.exchange.accounts["a"], "BTCUSDT")


@given(
    steps=st.integers(min_value=-(10**15), max_value=10**15),
    step=st.sampled_from(["0.01", "0.00001", "0.5", "1", "10", "0.05", "1E+2"]),
)
def test_market_formats_ticks_and_lots_exactly(steps: int, step: str) -> None:
    market = Market("binance", "X", "X/Y", Decimal(step), Decimal(step))
    assert Decimal(market.price(steps)) == steps * Decimal(step)
    assert "e" not in market.qty(steps).lower()
    if steps >= 0:
        assert market.lots(market.qty(steps)) == steps


async def test_router_news_goes_onto_the_bus_as_valid_events() -> None:
    from wisetrader.bus import InProcessBus
    from wisetrader.engine.publisher import BusPublisher
    from wisetrader.events import Family, decode, encode

    bus = InProcessBus(1024)
    await bus.start()
    consumer = await bus.consumer("test", [Family.ORDERS, Family.FILLS])
    async with SimExchange(quiet_config()) as sim, aiohttp.ClientSession() as session:
        gate = RiskGate()
        gate.add_instrument(Instrument("binance", "BTCUSDT", BTC.tick_size, BTC.step_size))
        gate.add_account("a", "binance")
        gate.on_book("binance", "BTCUSDT", 2_999_900, 3_000_100)
        executor = LiveExecutor(
            ExecutorConfig(
                venue="binance", account="a", api_key="keya", secret="secreta", rest_base=sim.rest_url
            )
        )
        await executor.start()
        publisher = BusPublisher(bus, {("binance", "BTCUSDT"): BTC})
        publisher.start()
        router = OrderRouter(gate, {"a": executor}, {("binance", "BTCUSDT"): BTC}, publisher)
        try:
            await Rest(session, sim.rest_url, key="keyb", secret="secretb").order(
                side="SELL", type="LIMIT", timeInForce="GTC", price="29990", quantity="0.01"
            )
            router.submit(intent(1, 2_999_000))  # crosses the resting sell: fills at once
            router.submit(intent(2, 3_500_000))  # refused by the price band
            await router.drain()
            await publisher.close()
        finally:
            await executor.close()
    events = [d.event for d in await consumer.poll(100, 1.0)]
    for event in events:
        assert decode(encode(event)) == event  # valid against the schema
    kinds = [(e.type, getattr(e, "rule", None) or getattr(e, "status", None)) for e in events]
    assert kinds.count(("order_intent", None)) == 2
    assert ("risk_decision", "ok") in kinds and ("risk_decision", "price_band") in kinds
    assert ("order_update", "filled") in kinds
    fills = [e for e in events if e.type == "fill"]
    assert len(fills) == 1
    fill = fills[0]
    assert (fill.venue, fill.price, fill.qty, fill.base, fill.quote, fill.liquidity) == (  # type: ignore[attr-defined]
        "binance-spot",
        Decimal("29990"),
        Decimal("0.01"),
        "BTC",
        "USDT",
        "taker",
    )
    assert fill.fee == Decimal("0.00001") and fill.fee_currency == "BTC"  # type: ignore[attr-defined]
    await bus.close()
