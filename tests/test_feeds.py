"""The feed session against the simulator over real WebSockets: data, heartbeats, reconnects, watchdog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import orjson
import pytest
import uvloop
from simutil import busy_config
from wisetrader.feeds import BannedError, FeedConfig, FeedSession, Frame, SnapshotError, fetch_binance_depth
from wisetrader.sim import SimExchange
from wisetrader.sim.config import SimConfig
from wisetrader.venues import venue_protocol
from wisetrader.venues.base import FrameKind

# The feeds run on uvloop in production, so these tests do too (via the fixture pytest-asyncio 1.x still
# honours; its successor hook would apply to every test module of the repository).
pytestmark = pytest.mark.filterwarnings('ignore:Overriding the "event_loop_policy":DeprecationWarning')


@pytest.fixture(scope="module")
def event_loop_policy() -> uvloop.EventLoopPolicy:
    return uvloop.EventLoopPolicy()


async def _started(config: SimConfig) -> SimExchange:
    sim = SimExchange(config)
    await sim.start()
    return sim


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    sim = await _started(busy_config())
    yield sim
    await sim.stop()


class Collector:
    def __init__(self) -> None:
        self.batches: list[list[Frame]] = []

    def __call__(self, batch: list[Frame]) -> None:
        self.batches.append(batch)

    @property
    def frames(self) -> list[Frame]:
        return [f for b in self.batches for f in b]


async def _until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def _running(session: FeedSession) -> asyncio.Task[None]:
    return asyncio.create_task(session.run())


async def _stop(session: FeedSession, task: asyncio.Task[None]) -> None:
    session.stop()
    await asyncio.wait_for(task, 5)


def test_venue_protocols_build_real_subscribe_messages() -> None:
    bybit = venue_protocol("bybit")
    topics = bybit.topics("btcusdt", ["book", "trades"]) + [f"publicTrade.X{i}" for i in range(10)]
    messages = [orjson.loads(m) for m in bybit.subscribe_messages(topics, 1)]
    assert [len(m["args"]) for m in messages] == [10, 2]  # Bybit spot: at most 10 args per request
    assert messages[0]["args"][:2] == ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"]
    okx = venue_protocol("okx", network="testnet")
    assert okx.endpoints.ws == "wss://wspap.okx.com:8443/ws/v5/public"
    assert orjson.loads(okx.subscribe_messages(okx.topics("BTC-USDT", ["book"]), 5)[0]) == {
        "id": "5",
        "op": "subscribe",
        "args": [{"channel": "books", "instId": "BTC-USDT"}],
    }
    binance = venue_protocol("binance", ws_base="ws://127.0.0.1:1/")
    assert binance.ws_url(binance.topics("BTCUSDT", ["book", "bbo"])) == (
        "ws://127.0.0.1:1/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
    )
    assert binance.classify('{"result":null,"id":1}') is FrameKind.ACK
    assert okx.classify("pong") is FrameKind.PONG
    assert bybit.classify('{"success":false,"ret_msg":"error","op":"subscribe"}') is FrameKind.ERROR
    with pytest.raises(ValueError, match="unknown venue"):
        venue_protocol("kraken")


async def test_binance_frames_arrive_in_batches_with_receive_time(sim: SimExchange) -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
    protocol = venue_protocol("binance", ws_base=sim.ws_url)
    got = Collector()
    session = FeedSession(protocol, protocol.topics("BTCUSDT", ["book", "trades", "bbo"]), got)
    task = await _running(session)
    await _until(lambda: len(got.frames) >= 30)
    await _stop(session, task)
    streams = {orjson.loads(p)["stream"] for _, p in got.frames}
    assert streams == {"btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@bookTicker"}
    times = [t for t, _ in got.frames]
    assert times == sorted(times) and all(t > 1_600_000_000 * 10**9 for t in times)
    assert any(len(b) > 1 for b in got.batches)  # frames of one tick travel together
    assert session.health.data_frames == len(got.frames) and session.health.reconnects == {}


async def test_reconnects_with_backoff_when_the_venue_disconnects(sim: SimExchange) -> None:
    protocol = venue_protocol("bybit", ws_base=f"{sim.ws_url}/v5/public/spot")
    got = Collector()
    events: list[bool] = []
    session = FeedSession(
        protocol, protocol.topics("BTCUSDT", ["book"]), got, on_health=lambda h: events.append(h.connected)
    )
    task = await _running(session)
    await _until(lambda: session.health.data_frames > 3)
    sim.disconnect_all()
    await _until(lambda: session.health.connects == 2 and session.health.acks == 2)
    before = session.health.data_frames
    await _until(lambda: session.health.data_frames > before + 3)
    await _stop(session, task)
    assert session.health.reconnects == {"closed": 1}
    assert events[:3] == [True, False, True]
    snapshots = [p for _, p in got.frames if '"type":"snapshot"' in str(p)]
    assert len(snapshots) == 2  # each (re)subscription starts with a fresh snapshot


async def test_connect_failures_back_off_and_count() -> None:
    protocol = venue_protocol("okx", ws_base="ws://127.0.0.1:9/ws/v5/public")  # nothing listens there
    session = FeedSession(
        protocol, ["books:BTC-USDT"], Collector(), FeedConfig(backoff_initial_s=0.01, backoff_max_s=0.05)
    )
    task = await _running(session)
    await _until(lambda: session.health.connect_failures >= 3)
    await _stop(session, task)
    assert session.health.connects == 0 and session.health.reconnects["error"] >= 3
    assert "Error" in session.health.last_error


async def test_stale_feed_watchdog_reconnects(sim: SimExchange) -> None:
    protocol = venue_protocol("binance", ws_base=sim.ws_url)
    session = FeedSession(
        protocol, protocol.topics("BTCUSDT", ["book"]), Collector(), FeedConfig(stale_after_s=0.3)
    )
    task = await _running(session)
    await _until(lambda: session.health.data_frames > 2)
    sim.running = False  # the market goes silent; the socket stays open
    await _until(lambda: session.health.reconnects.get("stale", 0) >= 1)
    sim.running = True
    await _until(lambda: session.health.connected)
    await _stop(session, task)
    assert session.health.connects >= 2


async def test_proactive_reconnect_before_the_lifetime_cut(sim: SimExchange) -> None:
    protocol = venue_protocol("binance", ws_base=sim.ws_url)
    session = FeedSession(
        protocol, protocol.topics("BTCUSDT", ["trades"]), Collector(), FeedConfig(lifetime_s=0.3)
    )
    task = await _running(session)
    await _until(lambda: session.health.reconnects.get("lifetime", 0) >= 2)
    await _stop(session, task)
    assert session.health.connects >= 3 and "closed" not in session.health.reconnects


@pytest.mark.parametrize("venue,path", [("okx", "/ws/v5/public"), ("bybit", "/v5/public/spot")])
async def test_app_heartbeats_keep_a_quiet_connection_alive(venue: str, path: str) -> None:
    config = busy_config()
    config.limits.okx_idle_timeout_s = config.limits.bybit_idle_timeout_s = 0.4
    config.market.tick_interval_s = 3600  # no market data at all: only heartbeats keep it open
    sim = await _started(config)
    try:
        protocol = venue_protocol(venue, ws_base=f"{sim.ws_url}{path}")
        topics = protocol.topics("BTCUSDT", ["trades"])
        alive = FeedSession(
            protocol, topics, Collector(), FeedConfig(app_ping_interval_s=0.1, stale_after_s=60)
        )
        silent = FeedSession(
            protocol, topics, Collector(), FeedConfig(app_ping_interval_s=30, stale_after_s=60)
        )
        tasks = [await _running(alive), await _running(silent)]
        await _until(lambda: sum(silent.health.reconnects.values()) >= 1)
        await asyncio.sleep(0.5)
        for session, task in zip((alive, silent), tasks, strict=True):
            await _stop(session, task)
        assert alive.health.pongs >= 5 and alive.health.reconnects == {}
        assert silent.health.pongs == 0
    finally:
        await sim.stop()


async def test_binance_server_pings_are_answered() -> None:
    config = busy_config()
    config.limits.ping_interval_s = 0.25  # pongs count against the 5 messages/s limit
    config.limits.pong_timeout_s = 0.6
    config.market.tick_interval_s = 3600
    sim = await _started(config)
    try:
        protocol = venue_protocol("binance", ws_base=sim.ws_url)
        session = FeedSession(protocol, ["btcusdt@trade"], Collector(), FeedConfig(stale_after_s=60))
        task = await _running(session)
        await _until(lambda: session.health.connected)
        await asyncio.sleep(1.5)
        await _stop(session, task)
        assert session.health.connects == 1 and session.health.reconnects == {}
    finally:
        await sim.stop()


async def test_resubscribe_yields_a_new_snapshot_and_errors_are_counted(sim: SimExchange) -> None:
    protocol = venue_protocol("okx", ws_base=f"{sim.ws_url}/ws/v5/public")
    got = Collector()
    session = FeedSession(protocol, [*protocol.topics("BTC-USDT", ["book"]), "books:NOPE-USDT"], got)
    task = await _running(session)
    await _until(lambda: session.health.venue_errors == 1 and session.health.data_frames > 2)
    await session.resubscribe(protocol.topics("BTC-USDT", ["book"]))
    await _until(lambda: sum('"action":"snapshot"' in str(p) for _, p in got.frames) == 2)
    await _stop(session, task)
    assert session.health.acks == 3  # subscribe, unsubscribe, subscribe
    assert "60018" in session.health.last_error


async def test_depth_snapshot_retries_429_and_stops_on_418(sim: SimExchange) -> None:
    async with aiohttp.ClientSession() as http:
        sim.config.limits.retry_after_s = 0
        sim.config.faults.force_429 = 2
        recv_ns, body = await fetch_binance_depth(http, sim.rest_url, "btcusdt", limit=10)
        snap = orjson.loads(body)
        assert len(snap["bids"]) == 10 and snap["lastUpdateId"] > 0 and recv_ns > 0
        assert sim.config.faults.force_429 == 0
        with pytest.raises(SnapshotError, match="HTTP 400"):
            await fetch_binance_depth(http, sim.rest_url, "NOPE", limit=10)
        sim.config.faults.force_418 = 1
        with pytest.raises(BannedError):
            await fetch_binance_depth(http, sim.rest_url, "btcusdt", limit=10)
        with pytest.raises(SnapshotError, match="no snapshot after 2 attempts"):
            await fetch_binance_depth(http, "http://127.0.0.1:9", "btcusdt", attempts=2, backoff_s=0.01)


def test_bybit_and_okx_signers_agree_with_ccxt() -> None:
    import hashlib

    import ccxt
    from wisetrader.venues import bybit, okx

    hmac_ = ccxt.Exchange.hmac
    # Bybit's documented string to sign: timestamp + key + recvWindow + query string.
    expected = hmac_(
        b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C", b"s3cr3t", hashlib.sha256
    )
    assert (
        bybit.sign("s3cr3t", 1658384314791, "XXXXXXXXXX", 5000, "category=option&symbol=BTC-29JUL22-25000-C")
        == expected
    )
    auth = b'2020-12-08T09:08:57.715ZPOST/api/v5/trade/order{"instId":"BTC-USDT"}'
    assert okx.sign(
        "s3cr3t", "2020-12-08T09:08:57.715Z", "post", "/api/v5/trade/order", '{"instId":"BTC-USDT"}'
    ) == hmac_(auth, b"s3cr3t", hashlib.sha256, "base64")


async def test_binance_server_shutdown_is_announced_then_the_session_reconnects(sim: SimExchange) -> None:
    protocol = venue_protocol("binance", ws_base=sim.ws_url)
    session = FeedSession(protocol, protocol.topics("BTCUSDT", ["book"]), Collector())
    task = await _running(session)
    await _until(lambda: session.health.data_frames > 2)
    sim.disconnect_all()
    await _until(lambda: session.health.connects == 2)
    await _stop(session, task)
    assert session.health.other_frames == 1  # the serverShutdown event, not forwarded as data
