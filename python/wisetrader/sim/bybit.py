"""Bybit v5 public spot stream: ``orderbook.{depth}.{symbol}`` (snapshot + deltas on ``u``) and trades."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
from aiohttp import WSMsgType, web

from wisetrader.sim.config import SimConfig
from wisetrader.sim.conn import Conn
from wisetrader.sim.exchange import DepthEvent, Exchange, MarketEvent, TradeEvent, now_ms
from wisetrader.sim.views import BookView

DEPTHS = (1, 50, 200, 1000)
MAX_ARGS = 10


@dataclass
class Topic:
    view: BookView
    u: int = 0
    seq: int = 0

    def message(self, name: str, kind: str) -> str:
        if kind == "snapshot":
            bids, asks = self.view.snapshot()
        else:
            bids, asks = self.view.update()
        data = {
            "s": self.view.market.spec.symbol,
            "b": [[p, q] for p, q, _ in bids],
            "a": [[p, q] for p, q, _ in asks],
            "u": self.u,
            "seq": self.seq,
        }
        ts = now_ms()
        return orjson.dumps({"topic": name, "ts": ts, "type": kind, "data": data, "cts": ts}).decode()


@dataclass
class BybitFront:
    config: SimConfig
    exchange: Exchange
    conns: set[Conn] = field(default_factory=set)
    topics: dict[str, Topic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exchange.listeners.append(self.on_event)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v5/public/spot", self.ws_handler)

    def _topic(self, name: str) -> Topic | None:
        """The shared book topic for ``orderbook.{depth}.{symbol}`` (None for unknown names)."""
        parts = name.split(".")
        if (
            len(parts) != 3
            or parts[0] != "orderbook"
            or not parts[1].isdigit()
            or int(parts[1]) not in DEPTHS
        ):
            return None
        market = self.exchange.markets.get(parts[2])
        if market is None:
            return None
        topic = self.topics.get(name)
        if topic is None:
            topic = self.topics[name] = Topic(BookView(market, int(parts[1])), u=1, seq=market.update_id)
        return topic

    def _valid(self, name: str) -> bool:
        if name.startswith("publicTrade."):
            return name.removeprefix("publicTrade.") in self.exchange.markets
        return self._topic(name) is not None

    def on_event(self, event: MarketEvent) -> None:
        if isinstance(event, DepthEvent):
            for name, topic in self.topics.items():
                if topic.view.market.spec.symbol != event.symbol:
                    continue
                listeners = [c for c in self.conns if name in c.topics]
                topic.seq = event.last_id
                if topic.view.depth == 1:  # level-1 books only ever send snapshots
                    bids, asks = topic.view.update()
                    if not bids and not asks:
                        continue
                    topic.u += 1
                    frame = topic.message(name, "snapshot")
                else:
                    before = topic.u
                    topic.u += 1
                    frame = topic.message(name, "delta")
                    if '"b":[],"a":[]' in frame:
                        topic.u = before
                        continue
                for conn in listeners:
                    conn.send(frame, diff=True)
        elif isinstance(event, TradeEvent):
            name = f"publicTrade.{event.symbol}"
            trade = {
                "T": event.time_ms,
                "s": event.symbol,
                "S": "Sell" if event.buyer_is_maker else "Buy",
                "v": event.qty,
                "p": event.price,
                "i": str(event.trade_id),
                "BT": False,
                "RPI": False,
                "seq": event.trade_id,
            }
            frame = orjson.dumps(
                {"topic": name, "ts": event.time_ms, "type": "snapshot", "data": [trade]}
            ).decode()
            for conn in self.conns:
                if name in conn.topics:
                    conn.send(frame)

    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(ws, self.config.faults, self.exchange.rng)
        self.conns.add(conn)
        idle = self.config.limits.bybit_idle_timeout_s
        last_heard = time.monotonic()
        try:
            while not ws.closed:
                try:
                    msg = await ws.receive(timeout=max(0.05, idle - (time.monotonic() - last_heard)))
                except TimeoutError:
                    break  # silent client: Bybit drops it
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                        break
                    continue
                last_heard = time.monotonic()
                text = msg.data if isinstance(msg.data, str) else msg.data.decode(errors="replace")
                self._control(conn, text)
        finally:
            self.conns.discard(conn)
            await conn.aclose()
        return ws

    def _reply(self, conn: Conn, ok: bool, ret_msg: str, req_id: str, op: str) -> None:
        conn.send(
            orjson.dumps(
                {"success": ok, "ret_msg": ret_msg, "conn_id": conn.conn_id, "req_id": req_id, "op": op}
            ).decode()
        )

    def _control(self, conn: Conn, text: str) -> None:
        try:
            req = orjson.loads(text)
            op = req["op"]
            req_id = str(req.get("req_id", ""))
            args = req.get("args", [])
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            self._reply(conn, False, "error:invalid request", "", "")
            return
        if op == "ping":
            self._reply(conn, True, "pong", req_id, "ping")
        elif op in ("subscribe", "unsubscribe"):
            if not isinstance(args, list) or len(args) > MAX_ARGS:
                self._reply(conn, False, f"error:args size >{MAX_ARGS}", req_id, op)
                return
            bad = [a for a in args if not isinstance(a, str) or not self._valid(a)]
            if bad:
                self._reply(conn, False, f"error:handler not found,topic:{bad[0]}", req_id, op)
                return
            if op == "subscribe":
                dup = [a for a in args if a in conn.topics]
                if dup:
                    self._reply(conn, False, f"error:already subscribed,topic:{dup[0]}", req_id, op)
                    return
                conn.topics.update(args)
                self._reply(conn, True, "", req_id, op)
                for name in args:
                    topic = self._topic(name)
                    if topic is not None:  # the first message after subscribing is a snapshot
                        conn.send(topic.message(name, "snapshot"))
            else:
                conn.topics.difference_update(args)
                self._reply(conn, True, "", req_id, op)
        else:
            self._reply(conn, False, f"error:unknown op {op}", req_id, str(op))
