"""OKX v5 public stream: ``books`` (snapshot + updates chained on seqId/prevSeqId), bbo-tbt, trades."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
from aiohttp import WSMsgType, web

from wisetrader.sim.config import SimConfig
from wisetrader.sim.conn import Conn
from wisetrader.sim.exchange import DepthEvent, Exchange, MarketEvent, TradeEvent, now_ms
from wisetrader.sim.views import BookView, Level

CHANNEL_DEPTH = {"books": 400, "bbo-tbt": 1}


@dataclass
class Channel:
    name: str
    inst_id: str
    view: BookView
    seq_id: int = 1000

    def message(self, action: str, bids: list[Level], asks: list[Level], prev: int) -> str:
        data = {
            "asks": [[p, q, "0", str(n)] for p, q, n in asks],
            "bids": [[p, q, "0", str(n)] for p, q, n in bids],
            "ts": str(now_ms()),
            "checksum": 0,  # deprecated: always 0 since 2026-06-23; chain on seqId instead
            "prevSeqId": prev,
            "seqId": self.seq_id,
        }
        arg = {"channel": self.name, "instId": self.inst_id}
        if self.name == "bbo-tbt":  # full 1-level snapshots, no action/prevSeqId
            del data["prevSeqId"], data["checksum"]
            return orjson.dumps({"arg": arg, "data": [data]}).decode()
        return orjson.dumps({"arg": arg, "action": action, "data": [data]}).decode()


@dataclass
class OkxFront:
    config: SimConfig
    exchange: Exchange
    conns: set[Conn] = field(default_factory=set)
    channels: dict[tuple[str, str], Channel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exchange.listeners.append(self.on_event)
        self.by_inst = {m.spec.okx_inst_id: m for m in self.exchange.markets.values()}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/ws/v5/public", self.ws_handler)

    def _channel(self, name: str, inst_id: str) -> Channel | None:
        market = self.by_inst.get(inst_id)
        if market is None or name not in (*CHANNEL_DEPTH, "trades"):
            return None
        if name == "trades":
            return Channel(name, inst_id, BookView(market, 0))
        key = (name, inst_id)
        if key not in self.channels:
            self.channels[key] = Channel(name, inst_id, BookView(market, CHANNEL_DEPTH[name]))
        return self.channels[key]

    def on_event(self, event: MarketEvent) -> None:
        if isinstance(event, DepthEvent):
            for (name, inst_id), ch in self.channels.items():
                if ch.view.market.spec.symbol != event.symbol:
                    continue
                bids, asks = ch.view.update()
                if not bids and not asks:
                    continue
                prev = ch.seq_id
                ch.seq_id += self.exchange.rng.randint(1, 12)  # steps are irregular: never check +1
                if name == "bbo-tbt":
                    bids, asks = ch.view.snapshot()
                frame = ch.message("update", bids, asks, prev)
                topic = f"{name}:{inst_id}"
                for conn in self.conns:
                    if topic in conn.topics:
                        conn.send(frame, diff=name == "books")
        elif isinstance(event, TradeEvent):
            inst_id = self.exchange.markets[event.symbol].spec.okx_inst_id
            topic = f"trades:{inst_id}"
            trade = {
                "instId": inst_id,
                "tradeId": str(event.trade_id),
                "px": event.price,
                "sz": event.qty,
                "side": "sell" if event.buyer_is_maker else "buy",
                "ts": str(event.time_ms),
                "count": "1",
                "source": "0",
                "seqId": event.trade_id,
            }
            frame = orjson.dumps({"arg": {"channel": "trades", "instId": inst_id}, "data": [trade]}).decode()
            for conn in self.conns:
                if topic in conn.topics:
                    conn.send(frame)

    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(ws, self.config.faults, self.exchange.rng)
        self.conns.add(conn)
        idle = self.config.limits.okx_idle_timeout_s
        last_heard = time.monotonic()
        try:
            while not ws.closed:
                try:
                    msg = await ws.receive(timeout=max(0.05, idle - (time.monotonic() - last_heard)))
                except TimeoutError:
                    break  # nothing from the client for 30 s: OKX drops the connection
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                        break
                    continue
                last_heard = time.monotonic()
                text = msg.data if isinstance(msg.data, str) else msg.data.decode(errors="replace")
                if text == "ping":
                    conn.send("pong")
                else:
                    self._control(conn, text)
        finally:
            self.conns.discard(conn)
            await conn.aclose()
        return ws

    def _error(self, conn: Conn, req_id: str, code: str, msg: str) -> None:
        body = (
            {"id": req_id, "event": "error", "code": code, "msg": msg, "connId": conn.conn_id}
            if req_id
            else {"event": "error", "code": code, "msg": msg, "connId": conn.conn_id}
        )
        conn.send(orjson.dumps(body).decode())

    def _control(self, conn: Conn, text: str) -> None:
        try:
            req = orjson.loads(text)
            op = req["op"]
            req_id = str(req.get("id", ""))
            args = [(a["channel"], a["instId"]) for a in req["args"]]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            self._error(conn, "", "60012", f"Invalid request: {text[:100]}")
            return
        if op not in ("subscribe", "unsubscribe"):
            self._error(conn, req_id, "60012", f"Invalid request: {text[:100]}")
            return
        for name, inst_id in args:
            ch = self._channel(name, inst_id)
            if ch is None:
                self._error(
                    conn, req_id, "60018", f"Wrong URL or channel:{name},instId:{inst_id} doesn't exist."
                )
                continue
            topic = f"{name}:{inst_id}"
            ack: dict[str, object] = {
                "event": op,
                "arg": {"channel": name, "instId": inst_id},
                "connId": conn.conn_id,
            }
            if req_id:
                ack = {"id": req_id, **ack}
            conn.send(orjson.dumps(ack).decode())
            if op == "unsubscribe":
                conn.topics.discard(topic)
                continue
            conn.topics.add(topic)
            if name != "trades":
                bids, asks = ch.view.snapshot()
                conn.send(ch.message("snapshot", bids, asks, -1))
