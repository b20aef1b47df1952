"""The live executor (ccxt async) against the simulator over real HTTP: no order lost or duplicated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from simutil import Rest, place_limit, quiet_config
from wisetrader.execution import (
    AccountStopped,
    ExecutorConfig,
    Fill,
    LiveExecutor,
    OrderRequest,
    OrderState,
    TrackedOrder,
    client_order_id,
    is_valid_client_id,
)
from wisetrader.execution.ids import is_ours
from wisetrader.sim import SimExchange


def test_client_order_ids_are_deterministic_and_valid_everywhere() -> None:
    a = client_order_id("grid-btc-1", "b", 12, 3)
    assert a == client_order_id("grid-btc-1", "b", 12, 3)
    ids = {
        client_order_id(bot, leg, level, cycle)
        for bot in ("x", "y")
        for leg in "bs"
        for level in range(50)
        for cycle in range(5)
    }
    assert len(ids) == 2 * 2 * 50 * 5
    longest = client_order_id("b" * 100, "t", 36**6, 36**6)
    assert all(is_valid_client_id(i) and len(i) <= 32 for i in [*ids, longest])
    assert is_ours(a) and not is_ours("web_123") and not is_ours(None)
    with pytest.raises(ValueError):
        client_order_id("x", "bs", 1, 1)


VENUES = ["binance", "bybit", "okx"]


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(quiet_config()) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=VENUES)
def venue(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder:
    def __init__(self) -> None:
        self.updates: list[tuple[str, OrderState]] = []
        self.fills: list[Fill] = []

    def update(self, order: TrackedOrder) -> None:
        self.updates.append((order.client_id, order.state))


async def _executor(
    sim: SimExchange, rec: Recorder | None = None, venue: str = "binance", **kw: object
) -> LiveExecutor:
    config = ExecutorConfig(
        venue=venue,
        account="a",
        api_key="keya",
        secret="secreta",
        passphrase="passa",
        rest_base=sim.rest_url,
        retry_backoff_s=0.01,
        **kw,
    )  # type: ignore[arg-type]
    rec = rec or Recorder()
    ex = LiveExecutor(config, on_update=rec.update, on_fill=rec.fills.append)
    await ex.start()
    return ex


def _on_venue(sim: SimExchange, cid: str, venue: str = "binance") -> list[str]:
    return [o.status for o in sim.exchange.orders.values() if o.client_id == cid and o.venue == venue]


def buy(cid: str, price: str = "29000", qty: str = "0.01") -> OrderRequest:
    return OrderRequest(cid, "BTC/USDT", "buy", qty, price, bot_id="bot1")


async def test_place_is_idempotent_per_client_id(sim: SimExchange, venue: str) -> None:
    rec = Recorder()
    ex = await _executor(sim, rec, venue)
    try:
        order = await ex.place(buy("wtA1"))
        assert order.state is OrderState.OPEN and order.venue_id
        again = await ex.place(buy("wtA1"))
        assert again is order and _on_venue(sim, "wtA1", venue) == ["NEW"]
        assert rec.updates == [("wtA1", OrderState.OPEN)]
        with pytest.raises(ValueError):
            await ex.place(buy("bad-id_1"))
    finally:
        await ex.close()


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
async def test_lost_answer_after_accept_never_duplicates(sim: SimExchange, venue: str, mode: str) -> None:
    ex = await _executor(sim, venue=venue, request_timeout_s=0.5)
    sim.config.faults.fail_after_accept = 1
    sim.config.faults.fail_mode = mode  # type: ignore[assignment]
    sim.config.faults.timeout_s = 1.5
    try:
        order = await ex.place(buy("wtLost1"))
        assert order.state is OrderState.OPEN  # settled by a query by client id, not by resending
        assert order.attempts == 1 and (
            "RequestTimeout" in order.error or "ExchangeNotAvailable" in order.error
        )
        assert _on_venue(sim, "wtLost1", venue) == ["NEW"]
    finally:
        await ex.close()


async def test_an_order_stays_in_flight_until_reconciled(sim: SimExchange, venue: str) -> None:
    """Lost answer and no answer to the query either: in flight, never resent, settled by reconcile."""
    ex = await _executor(sim, venue=venue)
    sim.config.faults.fail_after_accept = 1
    sim.config.faults.outage_after_fail = 1  # the query by client id gets a 503 as well
    try:
        order = await ex.place(buy("wtFly1"))
        assert order.state is OrderState.IN_FLIGHT and order.attempts == 1
        assert _on_venue(sim, "wtFly1", venue) == ["NEW"]
        report = await ex.reconcile(["BTC/USDT"])
        assert report.settled == ["wtFly1"] and order.state is OrderState.OPEN
        assert _on_venue(sim, "wtFly1", venue) == ["NEW"]
    finally:
        await ex.close()


async def test_a_resend_of_an_order_placed_before_a_restart_adopts_it(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    await place_limit(http, sim.rest_url, venue, "buy", "29000", "0.01", "wtB1")
    ex = await _executor(sim, venue=venue)  # a new process that does not know the order yet
    try:
        order = await ex.place(buy("wtB1"))
        assert order.state is OrderState.OPEN and _on_venue(sim, "wtB1", venue) == ["NEW"]
    finally:
        await ex.close()


async def test_fills_flow_back_once_and_cancel_is_idempotent(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    rec = Recorder()
    ex = await _executor(sim, rec, venue)
    # The counterparty trades on Binance: every venue's orders meet in the simulator's one book.
    seller = Rest(http, sim.rest_url, key="keyb", secret="secretb")
    try:
        await seller.order(side="SELL", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.004")
        order = await ex.place(buy("wtF1", price="30000", qty="0.01"))
        assert order.state is OrderState.PARTIALLY_FILLED and Decimal(order.filled) == Decimal("0.004")
        # Binance's answer carries the fills; Bybit and OKX acknowledge with ids, fills come from the list.
        report = await ex.reconcile(["BTC/USDT"])
        assert report.new_fills == (0 if venue == "binance" else 1)
        assert [(f.client_id, Decimal(f.price), Decimal(f.qty), f.fee_asset, f.maker) for f in rec.fills] == [
            ("wtF1", Decimal(30000), Decimal("0.004"), "BTC", False)
        ]
        assert Decimal(rec.fills[0].fee) == Decimal("0.000004")
        assert (await ex.reconcile(["BTC/USDT"])).new_fills == 0  # listed again: counted once
        await seller.order(side="SELL", type="LIMIT", timeInForce="GTC", price="30000", quantity="0.006")
        await ex.reconcile(["BTC/USDT"])
        assert order.state is OrderState.FILLED and len(rec.fills) == 2  # the maker fill came via the list
        assert rec.fills[1].maker is True and Decimal(rec.fills[1].qty) == Decimal("0.006")
        requests = ex.requests
        assert (await ex.cancel("wtF1")).state is OrderState.FILLED and ex.requests == requests
        resting = await ex.place(buy("wtF2"))
        assert (await ex.cancel("wtF2")).state is OrderState.CANCELED
        requests = ex.requests
        assert (await ex.cancel("wtF2")) is resting and ex.requests == requests  # no second request
        assert _on_venue(sim, "wtF2", venue) == ["CANCELED"]
    finally:
        await ex.close()


async def test_cancel_after_a_partial_fill_keeps_the_filled_quantity(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    ex = await _executor(sim, venue=venue)
    try:
        await ex.place(buy("wtP1", price="30000"))
        await Rest(http, sim.rest_url, key="keyb", secret="secretb").order(
            side="SELL", type="MARKET", quantity="0.003"
        )
        order = await ex.cancel("wtP1")
        assert order.state is OrderState.CANCELED and Decimal(order.filled) == Decimal("0.003")
    finally:
        await ex.close()


async def test_a_cancel_asked_during_the_placement_waits_for_it(sim: SimExchange) -> None:
    import asyncio

    ex = await _executor(sim)
    sim.config.faults.ack_delay_s = 0.5  # the order is live at once, its answer comes late
    try:
        placing = asyncio.create_task(ex.place(buy("wtP1")))
        await asyncio.sleep(0)  # the placement is under way
        cancelling = asyncio.create_task(ex.cancel("wtP1"))
        await asyncio.sleep(0.25)
        # Sent now, the cancel could overtake the order on its way and miss it: it waits instead.
        assert not cancelling.done() and _on_venue(sim, "wtP1") == ["NEW"]
        order = await cancelling
        assert order.state is OrderState.CANCELED and _on_venue(sim, "wtP1") == ["CANCELED"]
        assert (await placing) is order and order.state is OrderState.CANCELED
    finally:
        await ex.close()


async def test_cancel_of_an_order_filled_meanwhile_settles_as_filled(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    ex = await _executor(sim, venue=venue)
    try:
        await ex.place(buy("wtG1", price="30000"))
        await Rest(http, sim.rest_url, key="keyb", secret="secretb").order(
            side="SELL", type="MARKET", quantity="0.01"
        )
        order = await ex.cancel("wtG1")  # the venue says unknown order; a query tells why
        assert order.state is OrderState.FILLED and Decimal(order.filled) == Decimal("0.01")
    finally:
        await ex.close()


async def test_market_orders_in_sandbox_mode_fill_against_the_shared_book(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    await Rest(http, sim.rest_url, key="keyb", secret="secretb").order(
        side="SELL", type="LIMIT", timeInForce="GTC", price="30000", quantity="1"
    )
    # Sandbox mode: testnet URLs (rebased onto the simulator); OKX sends x-simulated-trading: 1.
    ex = await _executor(sim, venue=venue, testnet=True)
    try:
        order = await ex.place(OrderRequest("wtM1", "BTC/USDT", "buy", "0.01", None))
        assert order.state is OrderState.FILLED and Decimal(order.filled) == Decimal("0.01")
        assert _on_venue(sim, "wtM1", venue) == ["FILLED"]
    finally:
        await ex.close()


async def test_429_backs_off_then_sends(sim: SimExchange, venue: str) -> None:
    ex = await _executor(sim, venue=venue, max_rate_wait_s=5.0)
    try:
        sim.config.limits.retry_after_s = 1
        sim.config.faults.force_429 = 1
        order = await ex.place(buy("wtR1"))
        assert order.state is OrderState.OPEN and ex.paused_until > 0
        assert _on_venue(sim, "wtR1", venue) == ["NEW"]
    finally:
        await ex.close()


async def test_418_stops_the_account(sim: SimExchange) -> None:
    ex = await _executor(sim)
    try:
        sim.config.faults.force_418 = 1
        stopped = await ex.place(buy("wtR2"))
        assert stopped.state is OrderState.REJECTED and "AccountStopped" in stopped.error
        requests = ex.requests
        again = await ex.place(buy("wtR3"))
        assert again.state is OrderState.REJECTED and ex.requests == requests  # nothing sent while banned
        with pytest.raises(AccountStopped):
            await ex.reconcile(["BTC/USDT"])
        assert _on_venue(sim, "wtR2") == [] and _on_venue(sim, "wtR3") == []
    finally:
        await ex.close()


@pytest.mark.parametrize("venue", ["binance", "bybit"])  # OKX's 429 carries no wait: backoff is ours
async def test_a_long_429_fails_the_order_instead_of_blocking(sim: SimExchange, venue: str) -> None:
    ex = await _executor(sim, venue=venue, max_rate_wait_s=0.5)
    try:
        sim.config.limits.retry_after_s = 30
        sim.config.faults.force_429 = 1
        order = await ex.place(buy("wtS1"))
        assert order.state is OrderState.REJECTED and "RateLimited" in order.error
        assert _on_venue(sim, "wtS1", venue) == []
    finally:
        await ex.close()


async def test_reconcile_adopts_cancels_owned_orphans_and_settles_in_flight(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    for cid in ("wtKeep1", "wtOrphan1", "manual1", "wtInflight1"):
        await place_limit(http, sim.rest_url, venue, "buy", "28000", "0.01", cid)
    await place_limit(
        http, sim.rest_url, "binance" if venue != "binance" else "okx", "buy", "28000", "0.01", "wtOther1"
    )
    ex = await _executor(sim, venue=venue)
    try:
        # Orders this process journaled before a crash: one reached the venue, one never did.
        for cid in ("wtInflight1", "wtNever1"):
            ex.orders[cid] = TrackedOrder(cid, "a", "BTC/USDT", "buy", "0.01", "28000")
        report = await ex.reconcile(["BTC/USDT"], expected=lambda cid: cid == "wtKeep1")
        assert report.adopted == ["wtKeep1"] and ex.orders["wtKeep1"].adopted
        assert Decimal(ex.orders["wtKeep1"].qty) == Decimal("0.01")
        assert Decimal(str(ex.orders["wtKeep1"].price)) == Decimal(28000)
        assert report.orphans_canceled == ["wtOrphan1"] and _on_venue(sim, "wtOrphan1", venue) == ["CANCELED"]
        assert report.foreign == ["manual1"] and _on_venue(sim, "manual1", venue) == ["NEW"]
        assert report.settled == ["wtInflight1"] and ex.orders["wtInflight1"].state is OrderState.OPEN
        assert report.lost == ["wtNever1"] and ex.orders["wtNever1"].state is OrderState.REJECTED
        assert "wtOther1" not in ex.orders  # another venue's order is not this venue's business
        # A lost order may be resent with its same id: it is placed exactly once.
        resent = await ex.place(OrderRequest("wtNever1", "BTC/USDT", "buy", "0.01", "28000"))
        assert resent.state is OrderState.OPEN and _on_venue(sim, "wtNever1", venue) == ["NEW"]
    finally:
        await ex.close()


def test_testnet_switch_and_base_url_override_build_the_right_urls() -> None:
    for venue, host in (("binance", "testnet.binance.vision"), ("bybit", "api-testnet.")):
        ex = LiveExecutor(ExecutorConfig(venue=venue, account="t", testnet=True)).build_client()
        assert host in str(ex.urls["api"])
    okx = LiveExecutor(ExecutorConfig(venue="okx", account="t", testnet=True)).build_client()
    assert okx.headers.get("x-simulated-trading") == "1"  # OKX demo trading is a header on the same host
    local = LiveExecutor(
        ExecutorConfig(venue="binance", account="t", rest_base="http://127.0.0.1:1")
    ).build_client()
    assert local.urls["api"]["private"] == "http://127.0.0.1:1/api/v3"
    assert all(v.startswith("http://127.0.0.1:1/") for v in local.urls["api"].values())
    with pytest.raises(ValueError):
        LiveExecutor(ExecutorConfig(venue="kraken", account="t")).build_client()
    secret = ExecutorConfig(
        venue="okx", account="t", api_key="k", secret="s3cr3tvalue", passphrase="pa55phrase"
    )
    assert "s3cr3tvalue" not in repr(secret) and "pa55phrase" not in repr(secret)  # never in a log line
    assert LiveExecutor(secret).build_client().password == "pa55phrase"


async def test_reconcile_loop_keeps_running_and_cancels_orphans(
    sim: SimExchange, http: aiohttp.ClientSession, venue: str
) -> None:
    import asyncio

    ex = await _executor(sim, venue=venue)
    task = asyncio.create_task(ex.reconcile_forever(["NOPE/USDT", "BTC/USDT"], 0.05))
    try:
        await place_limit(http, sim.rest_url, venue, "buy", "28000", "0.01", "wtLate1")
        for _ in range(200):  # the loop survives the unknown symbol and finds the orphan
            if _on_venue(sim, "wtLate1", venue) == ["CANCELED"]:
                break
            await asyncio.sleep(0.02)
        assert _on_venue(sim, "wtLate1", venue) == ["CANCELED"]
    finally:
        task.cancel()
        await ex.close()
