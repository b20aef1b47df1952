"""Bybit v5 REST for spot order entry: signed requests, orders, fills, balances and the key's permissions.

Answers are ``{retCode, retMsg, result, retExtInfo, time}``; a refused request is HTTP 200 with a non-zero
``retCode`` (authentication failures are HTTP 401), as on the venue.
"""

from __future__ import annotations

import hmac
import re
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import orjson
from aiohttp import web

from wisetrader.sim.config import SimConfig, SymbolSpec
from wisetrader.sim.exchange import Account, Exchange, ExchangeError, UserOrder, fmt, now_ms
from wisetrader.sim.orderentry import (
    OPEN,
    RECENT_CLOSED,
    answer_faults,
    json_object,
    outage,
    plain,
    text,
    venue_orders,
    venue_trades,
)
from wisetrader.venues.bybit import sign

VENUE = "bybit"
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_SIDES = {"Buy": "BUY", "Sell": "SELL"}
_TIF = ("GTC", "IOC", "FOK", "PostOnly")


class BybitError(Exception):
    def __init__(self, code: int, msg: str, http_status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.http_status = code, msg, http_status


def _params_error(what: str) -> BybitError:
    return BybitError(10001, f"params error: {what}")


def _translate(e: ExchangeError) -> BybitError:
    """The engine's refusal (Binance code) as Bybit's retCode and retMsg."""
    if e.code == -2010 and "Duplicate" in e.msg:
        return BybitError(110072, "OrderLinkedID is duplicate")
    if e.code == -2010 and "insufficient" in e.msg:
        return BybitError(170131, "Insufficient balance.")
    if e.code == -2010 and "immediately match" in e.msg:
        return BybitError(170218, "The LIMIT-MAKER order is rejected due to invalid price.")
    if e.code in (-2011, -2013):
        return BybitError(110001, "Order does not exist.")
    if e.code == -1121:
        return BybitError(170121, "Invalid symbol.")
    if e.code == -1013 and "PRICE" in e.msg:
        return BybitError(170134, "Order price decimal too long.")
    if e.code == -1013 and "LOT_SIZE" in e.msg:
        return BybitError(170137, "Order quantity has too many decimals.")
    if e.code == -1013 and "NOTIONAL" in e.msg:
        return BybitError(170140, "Order value exceeded lower limit.")
    return _params_error(e.msg)


def instrument(spec: SymbolSpec) -> dict[str, object]:
    return {
        "symbol": spec.symbol,
        "baseCoin": spec.base,
        "quoteCoin": spec.quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "none",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": plain(spec.step_size),
            "quotePrecision": "0.00000001",
            "minOrderQty": plain(spec.min_qty),
            "maxOrderQty": plain(spec.max_qty),
            "minOrderAmt": plain(spec.min_notional),
            "maxOrderAmt": plain(spec.max_notional),
        },
        "priceFilter": {"tickSize": plain(spec.tick_size)},
        "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
    }


def _status(user: UserOrder) -> str:
    filled = user.book_order.filled
    if user.status == "NEW":
        return "New"
    if user.status == "PARTIALLY_FILLED":
        return "PartiallyFilled"
    if user.status == "FILLED":
        return "Filled"
    return "PartiallyFilledCanceled" if filled else "Cancelled"  # CANCELED, EXPIRED


def order_json(user: UserOrder, spec: SymbolSpec) -> dict[str, object]:
    o = user.book_order
    filled = Decimal(o.filled) * spec.step_size
    tif = {"MARKET": "IOC", "LIMIT_MAKER": "PostOnly"}.get(user.type, user.time_in_force or "GTC")
    leaves = o.remaining if user.status in OPEN else 0
    return {
        "orderId": str(o.order_id),
        "orderLinkId": user.client_id,
        "blockTradeId": "",
        "symbol": user.symbol,
        "price": plain(user.price),
        "qty": plain(fmt(o.qty, spec.step_size)),
        "side": "Buy" if o.side.value == "BUY" else "Sell",
        "isLeverage": "0",
        "positionIdx": 0,
        "orderStatus": _status(user),
        "cancelType": "CancelByUser" if user.status == "CANCELED" else "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": plain(user.cum_quote / filled) if filled else "",
        "leavesQty": plain(fmt(leaves, spec.step_size)),
        "leavesValue": plain(Decimal(user.price) * Decimal(leaves) * spec.step_size),
        "cumExecQty": plain(filled),
        "cumExecValue": plain(user.cum_quote),
        "cumExecFee": plain(user.cum_fee),
        "timeInForce": tif,
        "orderType": "Market" if user.type == "MARKET" else "Limit",
        "stopOrderType": "",
        "orderIv": "",
        "triggerPrice": "0",
        "takeProfit": "0",
        "stopLoss": "0",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": "",
        "reduceOnly": False,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": str(user.time_ms),
        "updatedTime": str(user.update_ms),
        "marketUnit": "baseCoin" if user.type == "MARKET" else "",
    }


@dataclass
class BybitTrade:
    config: SimConfig
    exchange: Exchange

    def routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]] = [
            ("GET", "/v5/market/time", self.server_time),
            ("GET", "/v5/market/instruments-info", self.instruments),
            ("GET", "/v5/user/query-api", self.query_api),
            ("GET", "/v5/account/info", self.account_info),
            ("GET", "/v5/account/wallet-balance", self.wallet_balance),
            ("POST", "/v5/order/create", self.create),
            ("POST", "/v5/order/cancel", self.cancel),
            ("GET", "/v5/order/realtime", self.realtime),
            ("GET", "/v5/order/history", self.history),
            ("GET", "/v5/execution/list", self.executions),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)

    # ---- framing, limits, signing --------------------------------------------------------------
    @staticmethod
    def _answer(ret_code: int, msg: str, result: object, status: int = 200) -> web.Response:
        body = {"retCode": ret_code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms()}
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    async def _serve(
        self,
        request: web.Request,
        action: Callable[[Account | None, dict[str, str]], Awaitable[object]],
        signed: bool = True,
    ) -> web.Response:
        faults = self.config.faults
        down = outage(self.exchange)
        if down is not None:
            return down
        if faults.force_429 > 0:
            # The per-UID limit: HTTP 200 with retCode 10006; the reset time says when to try again.
            faults.force_429 -= 1
            reset = now_ms() + self.config.limits.retry_after_s * 1000
            response = self._answer(10006, "Too many visits. Exceeded the API Rate Limit.", {})
            response.headers.update(
                {"X-Bapi-Limit": "20", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset)}
            )
            return response
        try:
            account, params = await self._signed(request) if signed else (None, dict(request.query))
            result = await action(account, params)
        except ExchangeError as e:
            err = _translate(e)
            return self._answer(err.code, err.msg, {}, err.http_status)
        except BybitError as e:
            return self._answer(e.code, e.msg, {}, e.http_status)
        if isinstance(result, web.Response):
            return result
        return self._answer(0, "OK", result)

    async def _signed(self, request: web.Request) -> tuple[Account, dict[str, str]]:
        """Check X-BAPI-* headers: key, timestamp window and HMAC over timestamp+key+window+payload."""
        headers = request.headers
        key, ts_s, sig = (headers.get(h) for h in ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-SIGN"))
        if not key or not ts_s or not sig:
            raise BybitError(10003, "API key is invalid.", 401)
        account = self.exchange.by_api_key.get(key)
        if account is None:
            raise BybitError(10003, "API key is invalid.", 401)
        window_s = headers.get("X-BAPI-RECV-WINDOW", "5000")
        try:
            ts, window = int(ts_s), int(window_s)
        except ValueError:
            raise _params_error("X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers") from None
        server = now_ms()
        if not (server - window <= ts < server + 1000):
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
        body = (await request.text()) if request.method == "POST" else ""
        payload = body if request.method == "POST" else request.query_string
        origin = f"{ts_s}{key}{window_s}{payload}"
        if not hmac.compare_digest(sign(account.spec.secret, ts, key, window, payload), sig.lower()):
            raise BybitError(10004, f"error sign! origin_string[{origin}]")
        if request.method == "POST":
            try:
                return account, {k: text(v) for k, v in json_object(body).items()}
            except ValueError:
                raise _params_error("the body is not a JSON object") from None
        return account, dict(request.query)

    def _market(self, params: dict[str, str]) -> SymbolSpec:
        if params.get("category") != "spot":
            raise _params_error("category only supports spot on the simulator")
        market = self.exchange.markets.get(params.get("symbol", ""))
        if market is None:
            raise BybitError(170121, "Invalid symbol.")
        return market.spec

    @staticmethod
    def _limit(params: dict[str, str], default: int, most: int) -> int:
        try:
            limit = int(params.get("limit", default))
        except ValueError:
            raise _params_error("limit") from None
        if not 1 <= limit <= most:
            raise _params_error("limit")
        return limit

    # ---- public -----------------------------------------------------------------------------------
    async def server_time(self, request: web.Request) -> web.Response:
        async def action(_: Account | None, __: dict[str, str]) -> object:
            ns = time.time_ns()
            return {"timeSecond": str(ns // 10**9), "timeNano": str(ns)}

        return await self._serve(request, action, signed=False)

    async def instruments(self, request: web.Request) -> web.Response:
        async def action(_: Account | None, params: dict[str, str]) -> object:
            category = params.get("category", "")
            if category not in ("spot", "linear", "inverse", "option"):
                raise _params_error("category")
            wanted = params.get("symbol")
            specs = [m.spec for m in self.exchange.markets.values() if wanted in (None, m.spec.symbol)]
            listed = [instrument(s) for s in specs] if category == "spot" else []  # spot markets only
            return {"category": category, "list": listed, "nextPageCursor": ""}

        return await self._serve(request, action, signed=False)

    # ---- the key and the account ------------------------------------------------------------------
    async def query_api(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, _: dict[str, str]) -> object:
            assert account is not None
            spec = account.spec
            wallet = ["AccountTransfer", "SubMemberTransfer"]
            if spec.enable_withdrawals:
                wallet.append("Withdraw")
            trades = spec.enable_spot_and_margin_trading
            return {
                "id": str(zlib.crc32(spec.api_key.encode())),
                "note": spec.name,
                "apiKey": spec.api_key,
                "readOnly": 0 if trades else 1,
                "secret": "",
                "permissions": {
                    "ContractTrade": [],
                    "Spot": ["SpotTrade"] if trades else [],
                    "Wallet": wallet,
                    "Options": [],
                    "Derivatives": [],
                    "CopyTrading": [],
                    "BlockTrade": [],
                    "Exchange": [],
                    "NFT": [],
                    "Affiliate": [],
                    "Earn": [],
                },
                "ips": ["*"],
                "type": 1,
                "deadlineDay": -1,
                "expiredAt": "",
                "createdAt": "2026-01-01T00:00:00Z",
                "unified": 0,
                "uta": 1,
                "userID": zlib.crc32(spec.name.encode()),
                "inviterID": 0,
                "vipLevel": "No VIP",
                "mktMakerLevel": "0",
                "affiliateID": 0,
                "rsaPublicKey": "",
                "isMaster": True,
                "parentUid": "0",
                "kycLevel": "LEVEL_DEFAULT",
                "kycRegion": "",
            }

        return await self._serve(request, action)

    async def account_info(self, request: web.Request) -> web.Response:
        async def action(_: Account | None, __: dict[str, str]) -> object:
            return {
                "unifiedMarginStatus": 6,  # UTA 2.0 Pro
                "marginMode": "REGULAR_MARGIN",
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
                "updatedTime": str(now_ms()),
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
            }

        return await self._serve(request, action)

    async def wallet_balance(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            assert account is not None
            if params.get("accountType") != "UNIFIED":
                raise _params_error("accountType only supports UNIFIED")
            wanted = set(params["coin"].split(",")) if params.get("coin") else None
            coins = []
            for coin, free, locked in account.balances(wanted):
                coins.append(
                    {
                        "coin": coin,
                        "equity": plain(free + locked),
                        "walletBalance": plain(free + locked),
                        "locked": plain(locked),
                        "spotHedgingQty": "0",
                        "borrowAmount": "0",
                        "accruedInterest": "0",
                        "totalOrderIM": "0",
                        "totalPositionIM": "0",
                        "totalPositionMM": "0",
                        "unrealisedPnl": "0",
                        "cumRealisedPnl": "0",
                        "usdValue": "",
                        "bonus": "0",
                        "collateralSwitch": True,
                        "marginCollateral": True,
                        "availableToWithdraw": "",
                    }
                )
            return {
                "list": [{"accountType": "UNIFIED", "totalEquity": "", "accountIMRate": "0", "coin": coins}]
            }

        return await self._serve(request, action)

    # ---- orders -----------------------------------------------------------------------------------
    def _trading(self, account: Account | None) -> Account:
        assert account is not None
        if not account.spec.enable_spot_and_margin_trading:
            raise BybitError(10005, "Permission denied, please check your API key permissions.")
        return account

    async def create(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            account = self._trading(account)
            spec = self._market(params)
            side = _SIDES.get(params.get("side", ""))
            if side is None:
                raise _params_error("side invalid")
            kind = params.get("orderType", "")
            if kind not in ("Limit", "Market"):
                raise _params_error("orderType invalid")
            tif = params.get("timeInForce") or ("GTC" if kind == "Limit" else "IOC")
            if tif not in _TIF:
                raise _params_error("timeInForce invalid")
            link_id = params.get("orderLinkId", "")
            if link_id and not _LINK_ID.match(link_id):
                raise _params_error("orderLinkId invalid")
            for name in ("qty", "price") if kind == "Limit" else ("qty",):
                if not params.get(name):
                    raise _params_error(f"{name} is required")
            engine: dict[str, str] = {"symbol": spec.symbol, "side": side, "quantity": params.get("qty", "")}
            if link_id:
                engine["newClientOrderId"] = link_id
            if kind == "Market":
                # A spot market buy's qty is in the quote coin unless marketUnit says otherwise; the
                # engine sizes orders in the base coin only.
                unit = params.get("marketUnit") or ("quoteCoin" if side == "BUY" else "baseCoin")
                if unit != "baseCoin":
                    raise _params_error(
                        "the simulator takes market orders in the base coin (marketUnit=baseCoin)"
                    )
                engine["type"] = "MARKET"
            elif tif == "PostOnly":
                engine.update(type="LIMIT_MAKER", price=params.get("price", ""))
            else:
                engine.update(type="LIMIT", timeInForce=tif, price=params.get("price", ""))
            user = self.exchange.place_order(account, engine, venue=VENUE, unique_ids=True)
            lost = await answer_faults(self.exchange, self.config.faults)
            if lost is not None:
                return lost
            return {"orderId": str(user.book_order.order_id), "orderLinkId": link_id}

        return await self._serve(request, action)

    async def cancel(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            account = self._trading(account)
            spec = self._market(params)
            query = {"symbol": spec.symbol}
            if params.get("orderId"):
                query["orderId"] = params["orderId"]
            elif params.get("orderLinkId"):
                query["origClientOrderId"] = params["orderLinkId"]
            else:
                raise _params_error("orderId or orderLinkId is required")
            if not query.get("orderId", "0").isdigit():
                raise BybitError(110001, "Order does not exist.")
            user = self.exchange.cancel_order(account, query, venue=VENUE)
            return {"orderId": str(user.book_order.order_id), "orderLinkId": user.client_id}

        return await self._serve(request, action)

    def _orders(self, account: Account, params: dict[str, str], closed_only: bool) -> list[UserOrder]:
        if params.get("category") != "spot":
            raise _params_error("category only supports spot on the simulator")
        symbol = params.get("symbol") or None
        if symbol is not None and symbol not in self.exchange.markets:
            raise BybitError(170121, "Invalid symbol.")
        orders = venue_orders(self.exchange, account, VENUE, symbol)
        order_id, link_id = params.get("orderId"), params.get("orderLinkId")
        if order_id:  # by id an order is found in any state (orderId wins over orderLinkId)
            return [o for o in orders if str(o.book_order.order_id) == order_id]
        if link_id:
            return [o for o in orders if o.client_id == link_id][:1]
        if closed_only:
            return [o for o in orders if o.status not in OPEN][:RECENT_CLOSED]
        return [o for o in orders if o.status in OPEN]

    async def realtime(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            assert account is not None
            limit = self._limit(params, 20, 50)
            orders = self._orders(account, params, closed_only=params.get("openOnly", "0") != "0")[:limit]
            return {
                "category": "spot",
                "nextPageCursor": "",
                "list": [order_json(o, self.exchange.markets[o.symbol].spec) for o in orders],
            }

        return await self._serve(request, action)

    async def history(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            assert account is not None
            limit = self._limit(params, 20, 50)
            orders = self._orders(account, params, closed_only=True)[:limit]
            return {
                "category": "spot",
                "nextPageCursor": "",
                "list": [order_json(o, self.exchange.markets[o.symbol].spec) for o in orders],
            }

        return await self._serve(request, action)

    async def executions(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, params: dict[str, str]) -> object:
            assert account is not None
            if params.get("category") != "spot":
                raise _params_error("category only supports spot on the simulator")
            limit = self._limit(params, 50, 100)
            try:
                start = int(params.get("startTime", "0"))
                end = int(params.get("endTime", str(now_ms() + 1)))
            except ValueError:
                raise _params_error("startTime/endTime") from None
            out = []
            for vt in venue_trades(self.exchange, account, VENUE, params.get("symbol") or None):
                t, o = vt.trade, vt.order
                ts = int(t["time"])  # type: ignore[call-overload]
                if not start <= ts <= end:
                    continue
                if params.get("orderId") and params["orderId"] != str(o.book_order.order_id):
                    continue
                if params.get("orderLinkId") and params["orderLinkId"] != o.client_id:
                    continue
                spec = self.exchange.markets[o.symbol].spec
                price, qty = Decimal(str(t["price"])), Decimal(str(t["qty"]))
                rate = self.config.maker_fee if t["isMaker"] else self.config.taker_fee
                out.append(
                    {
                        "symbol": o.symbol,
                        "orderId": str(o.book_order.order_id),
                        "orderLinkId": o.client_id,
                        "side": "Buy" if t["isBuyer"] else "Sell",
                        "orderPrice": plain(o.price),
                        "orderQty": plain(fmt(o.book_order.qty, spec.step_size)),
                        "leavesQty": plain(fmt(o.book_order.remaining, spec.step_size)),
                        "createType": "CreateByUser",
                        "orderType": "Market" if o.type == "MARKET" else "Limit",
                        "stopOrderType": "",
                        "execFee": plain(str(t["commission"])),
                        "feeCurrency": t["commissionAsset"],
                        "execId": str(t["id"]),
                        "execPrice": plain(price),
                        "execQty": plain(qty),
                        "execType": "Trade",
                        "execValue": plain(price * qty),
                        "execTime": str(ts),
                        "isMaker": t["isMaker"],
                        "feeRate": plain(rate),
                        "tradeIv": "",
                        "markIv": "",
                        "markPrice": "",
                        "indexPrice": "",
                        "underlyingPrice": "",
                        "blockTradeId": "",
                        "closedSize": "",
                        "seq": int(t["id"]),  # type: ignore[call-overload]
                        "extraFees": "",
                    }
                )
                if len(out) == limit:
                    break
            return {"category": "spot", "nextPageCursor": "", "list": out}

        return await self._serve(request, action)
