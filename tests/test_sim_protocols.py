"""The simulator's wire protocols, checked with real WebSocket and HTTP clients over 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import pytest
import websockets
from simutil import Rest, apply_levels, busy_config
from wisetrader.sim import SimConfig, SimExchange, SymbolSpec
from wisetrader.sim.config import MarketSpec
from wisetrader.venues.binance import sign

RECORDINGS = Path(__file__).parent / "data" / "recordings"


def test_binance_signature_matches_the_documented_test_vector() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(secret, payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(busy_config()) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _recv(ws: websockets.ClientConnection, timeout: float = 5.0) -> dict:  # type: ignore[type-arg]
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def test_binance_diff_depth_chains_and_rebuilds_the_exact_book(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    rest = Rest(http, sim.rest_url)
    async with websockets.connect(f"{sim.ws_url}/stream?streams=btcusdt@depth@100ms") as ws:
        buffered = [await _recv(ws)]  # buffer first, then ask for the snapshot
        _, snap, headers = await rest.call("GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=1000)
        assert headers["X-MBX-USED-WEIGHT-1M"] == "50"
        assert snap["lastUpdateId"] >= buffered[0]["data"]["U"] - 1
        book: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        apply_levels(book, snap["bids"], snap["asks"])
        last = snap["lastUpdateId"]
        events = 0
        prev_u = None
        while events < 30:
            msg = buffered.pop(0) if buffered else await _recv(ws)
            assert msg["stream"] == "btcusdt@depth@100ms"
            ev = msg["data"]
            assert ev["e"] == "depthUpdate" and ev["s"] == "BTCUSDT" and ev["U"] <= ev["u"]
            if prev_u is not None:
                assert ev["U"] == prev_u + 1  # contiguous per-symbol ids
            prev_u = ev["u"]
            if ev["u"] <= last:
                continue
            assert ev["U"] <= last + 1
            apply_levels(book, ev["b"], ev["a"])
            last = ev["u"]
            events += 1
        sim.running = False  # freeze the market, then compare with a fresh snapshot
        _, snap2, _ = await rest.call("GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=5000)
        while last < snap2["lastUpdateId"]:
            ev = (await _recv(ws))["data"]
            assert ev["U"] == last + 1
            apply_levels(book, ev["b"], ev["a"])
            last = ev["u"]
        assert last == snap2["lastUpdateId"]
        expected: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        apply_levels(expected, snap2["bids"], snap2["asks"])
        assert book == expected
        assert max(book["b"]) < min(book["a"])


async def test_binance_trade_and_book_ticker_streams_and_live_subscribe(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(
            orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade", "btcusdt@bookTicker"], "id": 7})
        )
        seen: dict[str, dict] = {}  # type: ignore[type-arg]
        while len(seen) < 3:
            msg = await _recv(ws)
            if msg.get("id") == 7:
                assert msg == {"result": None, "id": 7}
                seen["ack"] = msg
            elif msg.get("e") == "trade":
                assert set(msg) >= {"E", "s", "t", "p", "q", "T", "m"} and isinstance(msg["m"], bool)
                seen["trade"] = msg
            elif "u" in msg and "B" in msg:
                assert Decimal(msg["b"]) < Decimal(msg["a"])
                seen["bbo"] = msg
        await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        while (msg := await _recv(ws)).get("id") != 8:
            pass
        assert msg["result"] == ["btcusdt@bookTicker", "btcusdt@trade"]
        await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": ["nosuch@trade"], "id": 9}))
        while (msg := await _recv(ws)).get("id") != 9:
            pass
        assert msg["error"]["code"] == 2


async def test_binance_server_pings_and_enforces_incoming_message_rate() -> None:
    config = busy_config()
    config.limits.ping_interval_s = 0.5  # its pings' pongs count too: stay under 5/s with them
    async with (
        SimExchange(config) as sim,
        websockets.connect(f"{sim.ws_url}/ws/btcusdt@trade", ping_interval=None) as ws,
    ):
        pong_waiter = await ws.ping()
        await asyncio.wait_for(pong_waiter, 2)  # the server answers our pings
        with pytest.raises(websockets.ConnectionClosed):
            for i in range(12):  # more than 5 in one second (even split over two): the venue disconnects
                await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            for _ in range(1000):
                await _recv(ws)


async def _bybit_book(
    ws: websockets.ClientConnection, topic: str
) -> tuple[dict[str, dict[Decimal, Decimal]], int]:
    await ws.send(orjson.dumps({"req_id": "r1", "op": "subscribe", "args": [topic]}))
    ack = await _recv(ws)
    assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == "r1"
    snap = await _recv(ws)
    assert snap["topic"] == topic and snap["type"] == "snapshot"
    book: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
    apply_levels(book, snap["data"]["b"], snap["data"]["a"])
    return book, snap["data"]["u"]


async def test_bybit_orderbook_snapshot_then_contiguous_deltas(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as ws:
        book, u = await _bybit_book(ws, "orderbook.50.BTCUSDT")
        for _ in range(20):
            msg = await _recv(ws)
            assert msg["type"] == "delta" and msg["data"]["u"] == u + 1
            u = msg["data"]["u"]
            apply_levels(book, msg["data"]["b"], msg["data"]["a"])
            assert len(book["b"]) <= 50 and len(book["a"]) <= 50
        sim.running = False
        await asyncio.sleep(0.1)
        while True:  # drain what was sent before the freeze
            try:
                msg = await _recv(ws, 0.2)
            except TimeoutError:
                break
            assert msg["data"]["u"] == u + 1
            u = msg["data"]["u"]
            apply_levels(book, msg["data"]["b"], msg["data"]["a"])
        _, snap, _ = await Rest(http, sim.rest_url).call(
            "GET", "/api/v3/depth", signed=False, symbol="BTCUSDT", limit=50
        )
        expected: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        apply_levels(expected, snap["bids"], snap["asks"])
        assert book == expected
        await ws.send('{"op":"ping","req_id":"p"}')
        pong = await _recv(ws)
        assert pong["ret_msg"] == "pong" and pong["op"] == "ping" and pong["success"] is True
        await ws.send(orjson.dumps({"req_id": "bad", "op": "subscribe", "args": ["orderbook.7.BTCUSDT"]}))
        err = await _recv(ws)
        assert err["success"] is False and err["req_id"] == "bad"
        await ws.send(
            orjson.dumps({"op": "subscribe", "args": [f"publicTrade.BTCUSDT{i}" for i in range(11)]})
        )
        assert (await _recv(ws))["success"] is False  # spot takes at most 10 args


async def test_okx_books_chain_on_prev_seq_id_and_trades_flow(
    sim: SimExchange, http: aiohttp.ClientSession
) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/v5/public") as ws:
        await ws.send(
            orjson.dumps(
                {
                    "id": "s1",
                    "op": "subscribe",
                    "args": [
                        {"channel": "books", "instId": "BTC-USDT"},
                        {"channel": "trades", "instId": "BTC-USDT"},
                    ],
                }
            )
        )
        ack = await _recv(ws)
        assert ack == {
            "id": "s1",
            "event": "subscribe",
            "arg": {"channel": "books", "instId": "BTC-USDT"},
            "connId": ack["connId"],
        }
        snap = await _recv(ws)  # the book's snapshot follows its ack
        assert snap["action"] == "snapshot" and snap["data"][0]["prevSeqId"] == -1
        ack = await _recv(ws)
        assert ack["event"] == "subscribe" and ack["arg"]["channel"] == "trades"
        book: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        apply_levels(book, snap["data"][0]["bids"], snap["data"][0]["asks"])
        seq = snap["data"][0]["seqId"]
        trades = updates = 0
        while updates < 20 or trades == 0:
            msg = await _recv(ws)
            if msg["arg"]["channel"] == "trades":
                t = msg["data"][0]
                assert t["side"] in ("buy", "sell") and Decimal(t["sz"]) > 0
                trades += 1
                continue
            d = msg["data"][0]
            assert msg["action"] == "update" and d["prevSeqId"] == seq and d["checksum"] == 0
            seq = d["seqId"]
            apply_levels(book, d["bids"], d["asks"])
            updates += 1
        assert max(book["b"]) < min(book["a"])
        await ws.send("ping")
        while (reply := await asyncio.wait_for(ws.recv(), 5)) != "pong":
            assert reply.startswith('{"arg"')
        await ws.send(
            orjson.dumps(
                {"id": "s2", "op": "subscribe", "args": [{"channel": "books", "instId": "NOPE-USDT"}]}
            )
        )
        while (msg := await _recv(ws)).get("id") != "s2":
            pass
        assert msg["event"] == "error" and msg["code"] == "60018"


async def test_okx_drops_a_silent_client() -> None:
    config = busy_config()
    config.limits.okx_idle_timeout_s = 0.3
    async with SimExchange(config) as sim, websockets.connect(f"{sim.ws_url}/ws/v5/public") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_replay_drives_the_book_from_a_recording(http: aiohttp.ClientSession) -> None:
    path = RECORDINGS / "binance-spot" / "NKNUSDT.rec"
    spec = SymbolSpec(
        symbol="NKNUSDT",
        base="NKN",
        quote="USDT",
        tick_size=Decimal("0.00001"),
        step_size=Decimal("0.1"),
        min_qty=Decimal(1),
        min_notional=Decimal(1),
    )
    config = SimConfig(symbols=[spec], market=MarketSpec(replay=path, tick_interval_s=3600, taker_prob=0.0))
    async with SimExchange(config) as sim:
        rest = Rest(http, sim.rest_url)
        _, snap, _ = await rest.call("GET", "/api/v3/depth", signed=False, symbol="NKNUSDT", limit=5)
        assert snap["bids"][0] == ["0.35210000", "672.00000000"]  # the recording's own snapshot
        recorded: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        lines = path.read_text().splitlines()
        rec_snap = next(orjson.loads(line.partition(" ")[2]) for line in lines if "lastUpdateId" in line)
        apply_levels(recorded, rec_snap["bids"], rec_snap["asks"])
        diffs = [orjson.loads(line.partition(" ")[2])["data"] for line in lines if "@depth@100ms" in line]
        diffs = [d for d in diffs if d["u"] > rec_snap["lastUpdateId"]][:5]
        for d in diffs:
            apply_levels(recorded, d["b"], d["a"])
            sim.exchange.tick()
        _, snap, _ = await rest.call("GET", "/api/v3/depth", signed=False, symbol="NKNUSDT", limit=5000)
        mine: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        apply_levels(mine, snap["bids"], snap["asks"])
        assert mine == recorded
        assert sim.exchange.bad_replay_levels == 0


def test_sim_exchange_command_serves_with_a_yaml_config(tmp_path: Path) -> None:
    import subprocess
    import sys
    import urllib.request

    config = tmp_path / "sim.yaml"
    config.write_text("seed: 3\nmarket: {tick_interval_s: 0.05}\nfaults: {snapshot_delay_s: 0.0}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wisetrader", "sim-exchange", "--config", str(config), "--duration", "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("sim-exchange listening: REST http://127.0.0.1:")
        base = line.split()[3]
        with urllib.request.urlopen(f"{base}/api/v3/exchangeInfo", timeout=5) as r:
            info = orjson.loads(r.read())
        assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_sim_config_is_a_clear_error(tmp_path: Path) -> None:
    from pydantic import ValidationError

    bad = tmp_path / "bad.yaml"
    bad.write_text("faults: {drop_diff_prob: lots}\n")
    with pytest.raises(ValidationError, match="drop_diff_prob"):
        SimConfig.from_yaml(bad)


async def test_bybit_and_okx_streams_show_dropped_frames_as_sequence_gaps() -> None:
    config = busy_config()
    config.faults.drop_diff_prob = 0.3
    async with SimExchange(config) as sim:
        async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as ws:
            _, u = await _bybit_book(ws, "orderbook.50.BTCUSDT")
            steps = []
            for _ in range(20):
                nxt = (await _recv(ws))["data"]["u"]
                steps.append(nxt - u)
                u = nxt
            assert min(steps) >= 1 and max(steps) > 1
        async with websockets.connect(f"{sim.ws_url}/ws/v5/public") as ws:
            await ws.send('{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}')
            await _recv(ws)
            seq = (await _recv(ws))["data"][0]["seqId"]
            breaks = 0
            for _ in range(20):
                d = (await _recv(ws))["data"][0]
                breaks += d["prevSeqId"] != seq
                seq = d["seqId"]
            assert breaks > 0
