"""Binance spot front end: combined/raw WebSocket streams and the REST API, with signing and limits."""

from __future__ import annotations

import asyncio
import hmac
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from aiohttp import WSMsgType, web

from wisetrader.sim.config import SimConfig, SymbolSpec
from wisetrader.sim.conn import Conn
from wisetrader.sim.exchange import (
    Account,
    BookTickerEvent,
    DepthEvent,
    Exchange,
    ExchangeError,
    MarketEvent,
    TradeEvent,
    UserOrder,
    fmt,
    now_ms,
)
from wisetrader.sim.matching import Side
from wisetrader.sim.orderentry import outage
from wisetrader.venues.binance import sign

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STREAM_KINDS = ("depth@100ms", "bookTicker", "trade")
_BAN_MSG = (
    "Way too much request weight used; IP banned until {until}. "
    "Please use WebSocket Streams for live updates to avoid bans."
)
_429_MSG = (
    "Too many requests; current limit of IP(s) request weight is {limit} per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)
_UNKNOWN_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
)


def _depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _error(code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps({"code": code, "msg": msg}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _ok(data: object) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


def symbol_info(spec: SymbolSpec) -> dict[str, object]:
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": False,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": f"{spec.tick_size:.8f}",
                "maxPrice": "1000000.00000000",
                "tickSize": f"{spec.tick_size:.8f}",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": f"{spec.min_qty:.8f}",
                "maxQty": f"{spec.max_qty:.8f}",
                "stepSize": f"{spec.step_size:.8f}",
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": f"{spec.max_qty:.8f}",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": f"{spec.min_notional:.8f}",
                "applyMinToMarket": True,
                "maxNotional": f"{spec.max_notional:.8f}",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": spec.max_num_orders},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def order_json(user: UserOrder, spec: SymbolSpec, kind: str) -> dict[str, object]:
    """An order as Binance reports it: ``kind`` is ack, result, full (new order) or query."""
    o = user.book_order
    base: dict[str, object] = {
        "symbol": user.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": user.client_id,
    }
    if kind == "ack":
        return {**base, "transactTime": user.time_ms}
    body = {
        **base,
        "price": user.price if user.type != "MARKET" else "0.00000000",
        "origQty": fmt(o.qty, spec.step_size),
        "executedQty": fmt(o.filled, spec.step_size),
        "cummulativeQuoteQty": f"{user.cum_quote:.8f}",
        "status": user.status,
        "timeInForce": user.time_in_force or "GTC",
        "type": user.type,
        "side": o.side.value,
        "workingTime": user.time_ms,
        "selfTradePreventionMode": "NONE",
    }
    if kind == "query":
        return {
            **body,
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": user.time_ms,
            "updateTime": user.update_ms,
            "isWorking": True,
            "origQuoteOrderQty": "0.00000000",
        }
    body = {**body, "transactTime": user.time_ms, "origQuoteOrderQty": "0.00000000"}
    if kind == "full":
        body["fills"] = user.fills
    return body


@dataclass
class IpState:
    window: int = 0  # minute number of the weight window
    weight: int = 0
    retry_until: float = 0.0
    in_429: int = 0
    ban_until: float = 0.0


@dataclass
class AccountRate:
    window10s: int = 0
    count10s: int = 0
    day: int = 0
    count_day: int = 0


@dataclass
class RestStats:
    """What the REST API saw: the venue's view of its clients (what tests check a client against)."""

    requests: dict[str, int] = field(default_factory=dict)  # by "METHOD /path"
    new_orders: int = 0  # accepted into the book
    answered_429: int = 0
    answered_418: int = 0
    in_backoff: int = 0  # requests that arrived during a 429 back-off (a few of them earn a ban)
    in_ban: int = 0  # requests that arrived while the IP was banned


@dataclass
class BinanceFront:
    config: SimConfig
    exchange: Exchange
    conns: set[Conn] = field(default_factory=set)
    ips: dict[str, IpState] = field(default_factory=dict)
    rates: dict[str, AccountRate] = field(default_factory=dict)
    stats: RestStats = field(default_factory=RestStats)

    def __post_init__(self) -> None:
        self.exchange.listeners.append(self.on_event)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/stream", self.ws_handler)
        app.router.add_get("/ws", self.ws_handler)
        app.router.add_get("/ws/{streams:.*}", self.ws_handler)
        api: list[tuple[str, str, Handler]] = [
            ("GET", "/api/v3/ping", self.ping),
            ("GET", "/api/v3/time", self.time),
            ("GET", "/api/v3/exchangeInfo", self.exchange_info),
            ("GET", "/api/v3/depth", self.depth),
            ("POST", "/api/v3/order", self.new_order),
            ("GET", "/api/v3/order", self.query_order),
            ("DELETE", "/api/v3/order", self.cancel_order),
            ("GET", "/api/v3/openOrders", self.open_orders),
            ("DELETE", "/api/v3/openOrders", self.cancel_all),
            ("GET", "/api/v3/account", self.account),
            ("GET", "/api/v3/myTrades", self.my_trades),
            ("GET", "/sapi/v1/account/apiRestrictions", self.api_restrictions),
        ]
        for method, path, handler in api:
            app.router.add_route(method, path, handler)

    # ---- WebSocket streams ---------------------------------------------------------------------
    def on_event(self, event: MarketEvent) -> None:
        if isinstance(event, DepthEvent):
            topic = f"{event.symbol.lower()}@depth@100ms"
            data = {
                "e": "depthUpdate",
                "E": event.time_ms,
                "s": event.symbol,
                "U": event.first_id,
                "u": event.last_id,
                "b": event.bids,
                "a": event.asks,
            }
        elif isinstance(event, TradeEvent):
            topic = f"{event.symbol.lower()}@trade"
            data = {
                "e": "trade",
                "E": event.time_ms,
                "s": event.symbol,
                "t": event.trade_id,
                "p": event.price,
                "q": event.qty,
                "T": event.time_ms,
                "m": event.buyer_is_maker,
                "M": True,
            }
        else:
            assert isinstance(event, BookTickerEvent)
            topic = f"{event.symbol.lower()}@bookTicker"
            data = {
                "u": event.update_id,
                "s": event.symbol,
                "b": event.bid,
                "B": event.bid_qty,
                "a": event.ask,
                "A": event.ask_qty,
            }
        raw = orjson.dumps(data).decode()
        combined = None
        for conn in self.conns:
            if topic in conn.topics:
                if conn.combined:
                    combined = combined or f'{{"stream":"{topic}","data":{raw}}}'
                    conn.send(combined, diff=isinstance(event, DepthEvent))
                else:
                    conn.send(raw, diff=isinstance(event, DepthEvent))

    def _valid_stream(self, name: str) -> bool:
        sym, _, kind = name.partition("@")
        return kind in _STREAM_KINDS and sym.upper() in self.exchange.markets and sym == sym.lower()

    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/stream":
            streams = [s for s in request.query.get("streams", "").split("/") if s]
            combined = True
        else:
            streams = [s for s in request.match_info.get("streams", "").split("/") if s]
            combined = False
        if any(not self._valid_stream(s) for s in streams):
            return _error(-1121, "Invalid symbol or stream.", 400)
        limits = self.config.limits
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(ws, self.config.faults, self.exchange.rng)
        conn.combined = combined
        conn.topics.update(streams)
        self.conns.add(conn)
        last_pong = time.monotonic()
        window, count = 0, 0
        try:
            while not ws.closed:
                if time.monotonic() - last_pong > limits.pong_timeout_s:
                    break  # no pong within the window: the server drops the connection
                try:
                    msg = await ws.receive(timeout=limits.ping_interval_s)
                except TimeoutError:
                    await ws.ping(str(now_ms()).encode())
                    continue
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                second = int(time.monotonic())
                window, count = (second, 1) if second != window else (window, count + 1)
                if count > limits.ws_incoming_per_s:
                    break  # over 5 incoming messages per second: Binance disconnects
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    last_pong = time.monotonic()
                elif msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self._control(
                        conn, msg.data if isinstance(msg.data, str) else msg.data.decode(errors="replace")
                    )
        finally:
            self.conns.discard(conn)
            await conn.aclose()
        return ws

    def _control(self, conn: Conn, text: str) -> None:
        try:
            req = orjson.loads(text)
            req_id = req.get("id")
            method = req["method"]
            params = req.get("params", [])
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            conn.send(
                orjson.dumps(
                    {"error": {"code": 3, "msg": "Invalid JSON: expected a request object"}, "id": None}
                ).decode()
            )
            return
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or any(
                not isinstance(p, str) or not self._valid_stream(p) for p in params
            ):
                conn.send(
                    orjson.dumps(
                        {"error": {"code": 2, "msg": "Invalid request: invalid stream name"}, "id": req_id}
                    ).decode()
                )
                return
            if method == "SUBSCRIBE":
                conn.topics.update(params)
            else:
                conn.topics.difference_update(params)
            conn.send(orjson.dumps({"result": None, "id": req_id}).decode())
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send(orjson.dumps({"result": sorted(conn.topics), "id": req_id}).decode())
        else:
            conn.send(
                orjson.dumps(
                    {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": req_id}
                ).decode()
            )

    # ---- REST: limits, signing -----------------------------------------------------------------
    def _limit(self, request: web.Request, weight: int) -> tuple[web.Response | None, dict[str, str]]:
        """Count ``weight`` against the caller's IP; answer 429/418 when over (or when injected)."""
        ip = request.remote or "?"
        state = self.ips.setdefault(ip, IpState())
        now = time.time()
        minute = int(now // 60)
        if minute != state.window:
            state.window, state.weight = minute, 0
        limits, faults = self.config.limits, self.config.faults
        stats = self.stats
        name = f"{request.method} {request.path}"
        stats.requests[name] = stats.requests.get(name, 0) + 1

        def ban() -> web.Response:
            stats.answered_418 += 1
            state.ban_until = max(state.ban_until, now + limits.ban_s)
            until = int(state.ban_until * 1000)
            return _error(
                -1003, _BAN_MSG.format(until=until), 418, {"Retry-After": str(int(state.ban_until - now) + 1)}
            )

        def too_many() -> web.Response:
            stats.answered_429 += 1
            state.retry_until = now + limits.retry_after_s
            state.in_429 = 0
            return _error(
                -1003,
                _429_MSG.format(limit=limits.weight_per_minute),
                429,
                {"Retry-After": str(limits.retry_after_s)},
            )

        armed = stats.new_orders >= faults.rest_faults_after_orders
        if state.ban_until > now:
            stats.in_ban += 1
            return ban(), {}
        if armed and faults.force_418 > 0:
            faults.force_418 -= 1
            return ban(), {}
        if state.retry_until > now:
            stats.in_backoff += 1
            state.in_429 += 1
            if state.in_429 >= limits.requests_in_429_before_ban:
                return ban(), {}
            stats.answered_429 += 1
            return _error(
                -1003,
                _429_MSG.format(limit=limits.weight_per_minute),
                429,
                {"Retry-After": str(int(state.retry_until - now) + 1)},
            ), {}
        if armed and faults.force_429 > 0:
            faults.force_429 -= 1
            return too_many(), {}
        state.weight += weight
        headers = {"X-MBX-USED-WEIGHT-1M": str(state.weight)}
        if state.weight > limits.weight_per_minute:
            return too_many(), headers
        return None, headers

    async def _signed(self, request: web.Request) -> tuple[Account, dict[str, str]]:
        """Check the API key, signature and timestamp; return the account and all parameters."""
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise ExchangeError(-2014, "API-key format invalid.", 401)
        account = self.exchange.by_api_key.get(key)
        if account is None:
            raise ExchangeError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        body = (await request.text()) if request.can_read_body else ""
        query = request.query_string
        params: dict[str, str] = {}
        signature = None
        unsigned = []
        for raw in (query, body):
            kept = []
            for part in raw.split("&") if raw else []:
                name, _, value = part.partition("=")
                value = urllib.parse.unquote_plus(value)
                if name == "signature":
                    signature = value
                    continue
                kept.append(part)
                params[name] = value
            unsigned.append("&".join(kept))
        if signature is None:
            raise ExchangeError(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        if "timestamp" not in params:
            raise ExchangeError(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        expected = sign(account.spec.secret, unsigned[0] + unsigned[1])
        if not hmac.compare_digest(expected, signature.lower()):
            raise ExchangeError(-1022, "Signature for this request is not valid.")
        try:
            ts = int(params["timestamp"])
            recv_window = Decimal(params.get("recvWindow", "5000"))
        except (ValueError, ArithmeticError):
            raise ExchangeError(-1100, "Illegal characters found in parameter 'timestamp'.") from None
        if ts > 10**14:  # microseconds
            ts //= 1000
        if recv_window > 60000 or recv_window <= 0:
            raise ExchangeError(-1131, "recvWindow must be less than 60000")
        server = now_ms()
        if not (ts < server + 1000 and server - ts <= recv_window):
            raise ExchangeError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return account, params

    async def _api(
        self, request: web.Request, weight: int, action: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        down = outage(self.exchange)
        if down is not None:
            return down
        refused, headers = self._limit(request, weight)
        if refused is not None:
            return refused
        try:
            response = await action()
        except ExchangeError as e:
            response = _error(e.code, e.msg, e.http_status)
        response.headers.update(headers)
        return response

    # ---- REST endpoints ------------------------------------------------------------------------
    async def ping(self, request: web.Request) -> web.Response:
        return await self._api(request, 1, self._const({}))

    async def time(self, request: web.Request) -> web.Response:
        return await self._api(request, 1, self._const(None))

    def _const(self, data: object) -> Callable[[], Awaitable[web.Response]]:
        async def action() -> web.Response:
            return _ok({"serverTime": now_ms()} if data is None else data)

        return action

    async def exchange_info(self, request: web.Request) -> web.Response:
        limits = self.config.limits
        wanted = request.query.get("symbol")

        async def action() -> web.Response:
            specs = [m.spec for m in self.exchange.markets.values() if wanted in (None, m.spec.symbol)]
            if wanted and not specs:
                raise ExchangeError(-1121, "Invalid symbol.")
            return _ok(
                {
                    "timezone": "UTC",
                    "serverTime": now_ms(),
                    "rateLimits": [
                        {
                            "rateLimitType": "REQUEST_WEIGHT",
                            "interval": "MINUTE",
                            "intervalNum": 1,
                            "limit": limits.weight_per_minute,
                        },
                        {
                            "rateLimitType": "ORDERS",
                            "interval": "SECOND",
                            "intervalNum": 10,
                            "limit": limits.orders_per_10s,
                        },
                        {
                            "rateLimitType": "ORDERS",
                            "interval": "DAY",
                            "intervalNum": 1,
                            "limit": limits.orders_per_day,
                        },
                    ],
                    "exchangeFilters": [],
                    "symbols": [symbol_info(s) for s in specs],
                }
            )

        return await self._api(request, 20, action)

    async def depth(self, request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            limit = -1
        symbol = request.query.get("symbol", "")

        async def action() -> web.Response:
            if not 1 <= limit <= 5000:
                raise ExchangeError(
                    -1100, "Illegal characters found in parameter 'limit'; legal range is '1' to '5000'."
                )
            market = self.exchange.markets.get(symbol)
            if market is None:
                raise ExchangeError(-1121, "Invalid symbol.")
            spec = market.spec
            body = {
                "lastUpdateId": market.update_id,
                "bids": [
                    [fmt(p, spec.tick_size), fmt(q, spec.step_size)]
                    for p, q, _ in market.book.levels(Side.BUY, limit)
                ],
                "asks": [
                    [fmt(p, spec.tick_size), fmt(q, spec.step_size)]
                    for p, q, _ in market.book.levels(Side.SELL, limit)
                ],
            }
            # The snapshot is taken now and delivered late: the stream has moved on meanwhile.
            if self.config.faults.snapshot_delay_s:
                await asyncio.sleep(self.config.faults.snapshot_delay_s)
            return _ok(body)

        return await self._api(request, _depth_weight(max(limit, 1)), action)

    def _count_order(self, account: Account) -> dict[str, str]:
        rate = self.rates.setdefault(account.spec.name, AccountRate())
        now = time.time()
        w10, day = int(now // 10), int(now // 86400)
        if w10 != rate.window10s:
            rate.window10s, rate.count10s = w10, 0
        if day != rate.day:
            rate.day, rate.count_day = day, 0
        limits = self.config.limits
        if rate.count10s >= limits.orders_per_10s:
            raise ExchangeError(
                -1015,
                f"Too many new orders; current limit is {limits.orders_per_10s} orders per 10 SECOND.",
                429,
            )
        if rate.count_day >= limits.orders_per_day:
            raise ExchangeError(
                -1015, f"Too many new orders; current limit is {limits.orders_per_day} orders per DAY.", 429
            )
        rate.count10s += 1
        rate.count_day += 1
        return {"X-MBX-ORDER-COUNT-10S": str(rate.count10s), "X-MBX-ORDER-COUNT-1D": str(rate.count_day)}

    async def new_order(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, params = await self._signed(request)
            counts = self._count_order(account)
            user = self.exchange.place_order(account, params)
            self.stats.new_orders += 1
            spec = self.exchange.markets[user.symbol].spec
            faults = self.config.faults
            if faults.fail_after_accept > 0:
                # The order is in the book; the answer is lost: the client must not know the outcome.
                faults.fail_after_accept -= 1
                self.exchange.outage_left = faults.outage_after_fail
                if faults.fail_mode == "timeout":
                    await asyncio.sleep(faults.timeout_s)
                return _error(
                    -1007,
                    _UNKNOWN_MSG,
                    503,
                )
            if faults.ack_delay_s:
                await asyncio.sleep(faults.ack_delay_s)
            kind = params.get("newOrderRespType", "FULL").lower()
            response = _ok(order_json(user, spec, kind if kind in ("ack", "result", "full") else "full"))
            response.headers.update(counts)
            return response

        return await self._api(request, 1, action)

    async def query_order(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, params = await self._signed(request)
            user = self.exchange.find_order(account, params)
            return _ok(order_json(user, self.exchange.markets[user.symbol].spec, "query"))

        return await self._api(request, 4, action)

    async def cancel_order(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, params = await self._signed(request)
            user = self.exchange.cancel_order(account, params)
            body = order_json(user, self.exchange.markets[user.symbol].spec, "result")
            body["origClientOrderId"] = user.client_id
            body["clientOrderId"] = params.get("newClientOrderId", f"cancel{user.book_order.order_id}")
            return _ok(body)

        return await self._api(request, 1, action)

    async def open_orders(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")

        async def action() -> web.Response:
            account, _ = await self._signed(request)
            orders = self.exchange.open_orders(account, symbol)
            return _ok([order_json(o, self.exchange.markets[o.symbol].spec, "query") for o in orders])

        return await self._api(request, 6 if symbol else 80, action)

    async def cancel_all(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, params = await self._signed(request)
            if params.get("symbol") not in self.exchange.markets:
                raise ExchangeError(-1121, "Invalid symbol.")
            out = []
            for user in self.exchange.open_orders(account, params["symbol"]):
                self.exchange.cancel_order(
                    account, {"symbol": user.symbol, "orderId": str(user.book_order.order_id)}
                )
                out.append(order_json(user, self.exchange.markets[user.symbol].spec, "result"))
            return _ok(out)

        return await self._api(request, 1, action)

    async def account(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, _ = await self._signed(request)
            assets = sorted(set(account.free) | set(account.locked))
            fee = str(self.config.maker_fee)
            return _ok(
                {
                    "makerCommission": int(self.config.maker_fee * 10000),
                    "takerCommission": int(self.config.taker_fee * 10000),
                    "buyerCommission": 0,
                    "sellerCommission": 0,
                    "commissionRates": {
                        "maker": fee,
                        "taker": str(self.config.taker_fee),
                        "buyer": "0",
                        "seller": "0",
                    },
                    "canTrade": account.spec.enable_spot_and_margin_trading,
                    "canWithdraw": account.spec.enable_withdrawals,
                    "canDeposit": False,
                    "brokered": False,
                    "requireSelfTradePrevention": False,
                    "preventSor": False,
                    "updateTime": now_ms(),
                    "accountType": "SPOT",
                    "balances": [
                        {
                            "asset": a,
                            "free": f"{account.free.get(a, Decimal(0)):.8f}",
                            "locked": f"{account.locked.get(a, Decimal(0)):.8f}",
                        }
                        for a in assets
                    ],
                    "permissions": ["SPOT"],
                    "uid": abs(hash(account.spec.name)) % 10**9,
                }
            )

        return await self._api(request, 20, action)

    async def my_trades(self, request: web.Request) -> web.Response:
        async def action() -> web.Response:
            account, params = await self._signed(request)
            symbol = params.get("symbol")
            if symbol not in self.exchange.markets:
                raise ExchangeError(-1121, "Invalid symbol.")
            try:
                limit = min(int(params.get("limit", "500")), 1000)
                start = int(params.get("startTime", "0"))
                from_id = int(params.get("fromId", "0"))
            except ValueError:
                raise ExchangeError(-1100, "Illegal characters found in a parameter.") from None
            order_id = params.get("orderId")
            trades = [
                t
                for t in account.trades
                if t["symbol"] == symbol
                and self.exchange.orders[int(t["orderId"])].venue == "binance"  # type: ignore[call-overload]
                and int(t["time"]) >= start  # type: ignore[call-overload]
                and int(t["id"]) >= from_id  # type: ignore[call-overload]
                and (order_id is None or str(t["orderId"]) == order_id)
            ]
            return _ok(trades[-limit:] if not from_id else trades[:limit])

        return await self._api(request, 20, action)

    async def api_restrictions(self, request: web.Request) -> web.Response:
        """The key's permissions (what a control plane checks before accepting a key)."""

        async def action() -> web.Response:
            account, _ = await self._signed(request)
            spec = account.spec
            return _ok(
                {
                    "ipRestrict": False,
                    "createTime": 0,
                    "enableReading": spec.enable_reading,
                    "enableSpotAndMarginTrading": spec.enable_spot_and_margin_trading,
                    "enableWithdrawals": spec.enable_withdrawals,
                    "enableInternalTransfer": False,
                    "enableMargin": False,
                    "enableFutures": False,
                    "permitsUniversalTransfer": False,
                    "enableVanillaOptions": False,
                    "enablePortfolioMarginTrading": False,
                }
            )

        return await self._api(request, 1, action)
