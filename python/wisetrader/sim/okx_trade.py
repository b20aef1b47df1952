"""OKX v5 REST for spot order entry: signed requests, orders, fills, balances and the account's config.

Answers are ``{code, msg, data}`` with string codes; order operations carry a per-item ``sCode``/``sMsg``
(``code`` "1": all failed, "2": some failed). Authentication failures are HTTP 401, as on the venue. The
``x-simulated-trading: 1`` header (demo trading) is accepted: the simulator is one environment.
"""

from __future__ import annotations

import hmac
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import orjson
from aiohttp import web

from wisetrader.sim.config import SimConfig, SymbolSpec
from wisetrader.sim.exchange import Account, Exchange, ExchangeError, Market, UserOrder, fmt, now_ms
from wisetrader.sim.orderentry import (
    OPEN,
    RECENT_CLOSED,
    answer_faults,
    outage,
    plain,
    text,
    venue_orders,
    venue_trades,
)
from wisetrader.venues.okx import sign

VENUE = "okx"
PREFIX = "/api/v5"
TIMESTAMP_WINDOW_MS = 30_000
_CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_ORD_TYPES = {
    "limit": ("LIMIT", "GTC"),
    "post_only": ("LIMIT_MAKER", ""),
    "fok": ("LIMIT", "FOK"),
    "ioc": ("LIMIT", "IOC"),
    "market": ("MARKET", ""),
}


class OkxError(Exception):
    def __init__(self, code: str, msg: str, http_status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.http_status = code, msg, http_status


def _param(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error")


def _translate(e: ExchangeError, spec: SymbolSpec | None = None) -> OkxError:
    """The engine's refusal (Binance code) as OKX's code and message."""
    if e.code == -2010 and "Duplicate" in e.msg:
        return OkxError("51016", "Duplicated clOrdId")
    if e.code == -2010 and "insufficient" in e.msg:
        ccy = f" {spec.quote}/{spec.base}" if spec else ""
        return OkxError("51008", f"Order failed. Insufficient{ccy} balance in account.")
    if e.code == -2010 and "immediately match" in e.msg:
        return OkxError("51019", "Post only order can not be executed immediately.")
    if e.code in (-2011, -2013):
        return OkxError(
            "51400", "Order cancellation failed as the order has been filled, canceled or does not exist"
        )
    if e.code == -1121:
        return OkxError("51001", "Instrument ID does not exist")
    if e.code == -1013 and "LOT_SIZE" in e.msg:
        return OkxError("51121", "Order quantity must be a multiple of the lot size.")
    if e.code == -1013 and "NOTIONAL" in e.msg:
        return OkxError("51020", "Your order should meet or exceed the minimum order amount.")
    if e.code == -1013 and "PRICE" in e.msg:
        return _param("px")
    return OkxError("51000", f"Parameter error: {e.msg}")


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def instrument(spec: SymbolSpec) -> dict[str, object]:
    return {
        "instType": "SPOT",
        "instId": spec.okx_inst_id,
        "uly": "",
        "instFamily": "",
        "baseCcy": spec.base,
        "quoteCcy": spec.quote,
        "settleCcy": "",
        "ctVal": "",
        "ctMult": "",
        "ctValCcy": "",
        "optType": "",
        "stk": "",
        "listTime": "1600000000000",
        "expTime": "",
        "lever": "",
        "tickSz": plain(spec.tick_size),
        "lotSz": plain(spec.step_size),
        "minSz": plain(spec.min_qty),
        "ctType": "",
        "alias": "",
        "state": "live",
        "maxLmtSz": plain(spec.max_qty),
        "maxMktSz": plain(spec.max_qty),
        "maxLmtAmt": plain(spec.max_notional),
        "maxMktAmt": plain(spec.max_notional),
        "maxTwapSz": plain(spec.max_qty),
        "maxIcebergSz": plain(spec.max_qty),
        "maxTriggerSz": plain(spec.max_qty),
        "maxStopSz": plain(spec.max_qty),
        "ruleType": "normal",
        "category": "1",
    }


def _state(user: UserOrder) -> str:
    return {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled"}.get(
        user.status, "canceled"
    )


def _ord_type(user: UserOrder) -> str:
    if user.type == "MARKET":
        return "market"
    if user.type == "LIMIT_MAKER":
        return "post_only"
    return {"IOC": "ioc", "FOK": "fok"}.get(user.time_in_force, "limit")


def order_json(user: UserOrder, spec: SymbolSpec) -> dict[str, object]:
    o = user.book_order
    filled = Decimal(o.filled) * spec.step_size
    last = user.fills[-1] if user.fills else None
    buy = o.side.value == "BUY"
    return {
        "instType": "SPOT",
        "instId": spec.okx_inst_id,
        "tgtCcy": "base_ccy" if user.type == "MARKET" else "",
        "ccy": "",
        "ordId": str(o.order_id),
        "clOrdId": user.client_id,
        "tag": "",
        "px": plain(user.price) if user.type != "MARKET" else "",
        "pxUsd": "",
        "pxVol": "",
        "pxType": "",
        "sz": plain(fmt(o.qty, spec.step_size)),
        "pnl": "0",
        "ordType": _ord_type(user),
        "side": "buy" if buy else "sell",
        "posSide": "net",
        "tdMode": "cash",
        "accFillSz": plain(filled),
        "fillPx": plain(str(last["price"])) if last else "",
        "tradeId": str(last["tradeId"]) if last else "",
        "fillSz": plain(str(last["qty"])) if last else "0",
        "fillTime": str(user.update_ms) if last else "",
        "avgPx": plain(user.cum_quote / filled) if filled else "",
        "state": _state(user),
        "lever": "",
        "attachAlgoClOrdId": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tpOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "slOrdPx": "",
        "attachAlgoOrds": [],
        "linkedAlgoOrd": {"algoId": ""},
        "stpId": "",
        "stpMode": "cancel_maker",
        "feeCcy": spec.base if buy else spec.quote,
        "fee": plain(-user.cum_fee),
        "rebateCcy": spec.quote if buy else spec.base,
        "rebate": "0",
        "source": "",
        "category": "normal",
        "reduceOnly": "false",
        "isTpLimit": "false",
        "cancelSource": "1" if user.status == "CANCELED" else "",
        "cancelSourceReason": "Order canceled by user" if user.status == "CANCELED" else "",
        "quickMgnType": "",
        "algoClOrdId": "",
        "algoId": "",
        "uTime": str(user.update_ms),
        "cTime": str(user.time_ms),
    }


@dataclass
class OkxTrade:
    config: SimConfig
    exchange: Exchange

    def __post_init__(self) -> None:
        self.by_inst: dict[str, Market] = {m.spec.okx_inst_id: m for m in self.exchange.markets.values()}

    def routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]] = [
            ("GET", "/public/time", self.server_time),
            ("GET", "/public/instruments", self.instruments),
            ("GET", "/account/config", self.account_config),
            ("GET", "/account/balance", self.balance),
            ("POST", "/trade/order", self.place),
            ("POST", "/trade/batch-orders", self.place_batch),
            ("POST", "/trade/cancel-order", self.cancel),
            ("GET", "/trade/order", self.query),
            ("GET", "/trade/orders-pending", self.pending),
            ("GET", "/trade/orders-history", self.history),
            ("GET", "/trade/fills", self.fills),
            ("GET", "/trade/fills-history", self.fills),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, handler)

    # ---- framing, limits, signing --------------------------------------------------------------
    @staticmethod
    def _answer(code: str, msg: str, data: list[object], status: int = 200) -> web.Response:
        return web.Response(
            body=orjson.dumps({"code": code, "msg": msg, "data": data}),
            status=status,
            content_type="application/json",
        )

    async def _serve(
        self,
        request: web.Request,
        action: Callable[[Account | None, object], Awaitable[object]],
        signed: bool = True,
    ) -> web.Response:
        faults = self.config.faults
        down = outage(self.exchange)
        if down is not None:
            return down
        if faults.force_429 > 0:
            faults.force_429 -= 1
            return self._answer("50011", "Too Many Requests", [], 429)
        try:
            if signed:
                account, params = await self._signed(request)
            else:
                account, params = None, dict(request.query)
            result = await action(account, params)
        except ExchangeError as e:
            err = _translate(e)
            return self._answer(err.code, err.msg, [], err.http_status)
        except OkxError as e:
            return self._answer(e.code, e.msg, [], e.http_status)
        if isinstance(result, web.Response):
            return result
        assert isinstance(result, list)
        return self._answer("0", "", result)

    async def _signed(self, request: web.Request) -> tuple[Account, object]:
        """Check OK-ACCESS-* headers: key, passphrase, timestamp, and the base64 HMAC of
        timestamp + METHOD + requestPath (with its query) + body."""
        headers = request.headers
        for name, code in (
            ("OK-ACCESS-KEY", "50103"),
            ("OK-ACCESS-PASSPHRASE", "50104"),
            ("OK-ACCESS-SIGN", "50106"),
            ("OK-ACCESS-TIMESTAMP", "50107"),
        ):
            if not headers.get(name):
                raise OkxError(code, f'Request header "{name}" cannot be empty.', 401)
        account = self.exchange.by_api_key.get(headers["OK-ACCESS-KEY"])
        if account is None:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY", 401)
        if not hmac.compare_digest(headers["OK-ACCESS-PASSPHRASE"], account.spec.passphrase or "\0"):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        stamp = headers["OK-ACCESS-TIMESTAMP"]
        try:
            ts = int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP", 401) from None
        if abs(now_ms() - ts) > TIMESTAMP_WINDOW_MS:
            raise OkxError("50102", "Timestamp request expired", 401)
        body = (await request.text()) if request.method == "POST" else ""
        expected = sign(account.spec.secret, stamp, request.method, request.raw_path, body)
        if not hmac.compare_digest(expected, headers["OK-ACCESS-SIGN"]):
            raise OkxError("50113", "Invalid Sign", 401)
        if request.method != "POST":
            return account, dict(request.query)
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise OkxError("50002", "Json data format error", 400) from None
        if isinstance(data, list):
            return account, [self._strings(item) for item in data]
        return account, self._strings(data)

    @staticmethod
    def _strings(item: object) -> dict[str, str]:
        if not isinstance(item, dict):
            raise OkxError("50002", "Json data format error", 400)
        return {str(k): text(v) for k, v in item.items()}

    def _market(self, params: dict[str, str]) -> Market:
        inst_id = params.get("instId", "")
        if not inst_id:
            raise OkxError("50014", "Parameter instId can not be empty")
        market = self.by_inst.get(inst_id)
        if market is None:
            raise OkxError("51001", "Instrument ID does not exist")
        return market

    @staticmethod
    def _params(params: object) -> dict[str, str]:
        assert isinstance(params, dict)
        return params

    @staticmethod
    def _limit(params: dict[str, str]) -> int:
        try:
            limit = int(params.get("limit", "100"))
        except ValueError:
            raise _param("limit") from None
        if not 1 <= limit <= 100:
            raise _param("limit")
        return limit

    def _spot_only(self, params: dict[str, str], required: bool) -> None:
        inst_type = params.get("instType", "")
        if required and not inst_type:
            raise OkxError("50014", "Parameter instType can not be empty")
        if inst_type and inst_type != "SPOT":
            raise _param("instType")

    # ---- public -----------------------------------------------------------------------------------
    async def server_time(self, request: web.Request) -> web.Response:
        async def action(_: Account | None, __: object) -> object:
            return [{"ts": str(now_ms())}]

        return await self._serve(request, action, signed=False)

    async def instruments(self, request: web.Request) -> web.Response:
        async def action(_: Account | None, raw: object) -> object:
            params = self._params(raw)
            inst_type = params.get("instType", "")
            if not inst_type:
                raise OkxError("50014", "Parameter instType can not be empty")
            if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
                raise _param("instType")
            wanted = params.get("instId")
            specs = [m.spec for m in self.exchange.markets.values() if wanted in (None, m.spec.okx_inst_id)]
            return [instrument(s) for s in specs] if inst_type == "SPOT" else []  # spot markets only

        return await self._serve(request, action, signed=False)

    # ---- the account ------------------------------------------------------------------------------
    async def account_config(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, _: object) -> object:
            assert account is not None
            spec = account.spec
            perm = ["read_only"]
            if spec.enable_spot_and_margin_trading:
                perm.append("trade")
            if spec.enable_withdrawals:
                perm.append("withdraw")
            uid = str(zlib.crc32(spec.name.encode()))
            return [
                {
                    "uid": uid,
                    "mainUid": uid,
                    "acctLv": "1",  # spot mode
                    "acctStpMode": "cancel_maker",
                    "posMode": "net_mode",
                    "autoLoan": False,
                    "greeksType": "PA",
                    "level": "Lv1",
                    "levelTmp": "",
                    "ctIsoMode": "automatic",
                    "mgnIsoMode": "automatic",
                    "spotOffsetType": "",
                    "roleType": "0",
                    "traderInsts": [],
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "opAuth": "0",
                    "kycLv": "1",
                    "label": spec.name,
                    "ip": "",
                    "perm": ",".join(perm),
                    "liquidationGear": "-1",
                    "enableSpotBorrow": False,
                    "spotBorrowAutoRepay": False,
                    "type": "0",
                }
            ]

        return await self._serve(request, action)

    async def balance(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            params = self._params(raw)
            wanted = set(params["ccy"].split(",")) if params.get("ccy") else None
            ts = str(now_ms())
            details = []
            for ccy, free, locked in account.balances(wanted):
                details.append(
                    {
                        "ccy": ccy,
                        "eq": plain(free + locked),
                        "cashBal": plain(free + locked),
                        "availBal": plain(free),
                        "availEq": plain(free),
                        "frozenBal": plain(locked),
                        "ordFrozen": plain(locked),
                        "disEq": "",
                        "eqUsd": "",
                        "uTime": ts,
                        "upl": "0",
                        "liab": "",
                        "crossLiab": "",
                        "isoLiab": "",
                        "interest": "",
                        "maxLoan": "",
                        "notionalLever": "",
                        "stgyEq": "0",
                        "twap": "0",
                        "spotBal": "",
                        "spotInUseAmt": "",
                    }
                )
            return [{"adjEq": "", "totalEq": "", "imr": "", "mmr": "", "uTime": ts, "details": details}]

        return await self._serve(request, action)

    # ---- orders -----------------------------------------------------------------------------------
    def _place_one(
        self, account: Account, params: dict[str, str]
    ) -> tuple[dict[str, object], UserOrder | None]:
        """Place one order; the per-item answer (sCode "0" or the refusal) and the order if placed."""
        cl_ord_id = params.get("clOrdId", "")
        item: dict[str, object] = {
            "clOrdId": cl_ord_id,
            "ordId": "",
            "tag": params.get("tag", ""),
            "ts": str(now_ms()),
        }
        spec = None
        try:
            if not account.spec.enable_spot_and_margin_trading:
                raise OkxError("50114", "Invalid authority")
            market = self._market(params)
            spec = market.spec
            if params.get("tdMode") != "cash":
                raise _param("tdMode")
            side = {"buy": "BUY", "sell": "SELL"}.get(params.get("side", ""))
            if side is None:
                raise _param("side")
            kind = _ORD_TYPES.get(params.get("ordType", ""))
            if kind is None:
                raise _param("ordType")
            if cl_ord_id and not _CL_ORD_ID.match(cl_ord_id):
                raise _param("clOrdId")
            for name in ("sz", "px") if kind[0] != "MARKET" else ("sz",):
                if not params.get(name):
                    raise OkxError("50014", f"Parameter {name} can not be empty")
            engine: dict[str, str] = {
                "symbol": spec.symbol,
                "side": side,
                "type": kind[0],
                "quantity": params.get("sz", ""),
            }
            if cl_ord_id:
                engine["newClientOrderId"] = cl_ord_id
            if kind[0] == "MARKET":
                # A spot market buy's sz is in the quote currency unless tgtCcy says otherwise; the
                # engine sizes orders in the base currency only.
                unit = params.get("tgtCcy") or ("quote_ccy" if side == "BUY" else "base_ccy")
                if unit != "base_ccy":
                    raise OkxError(
                        "51000", "Parameter tgtCcy error: the simulator takes market sizes in base_ccy"
                    )
            else:
                engine["price"] = params.get("px", "")
                if kind[1]:
                    engine["timeInForce"] = kind[1]
            user = self.exchange.place_order(account, engine, venue=VENUE)
        except ExchangeError as e:
            err = _translate(e, spec)
            return {**item, "sCode": err.code, "sMsg": err.msg}, None
        except OkxError as e:
            return {**item, "sCode": e.code, "sMsg": e.msg}, None
        return {**item, "ordId": str(user.book_order.order_id), "sCode": "0", "sMsg": "Order placed"}, user

    async def _place_many(self, account: Account, items: list[dict[str, str]]) -> web.Response:
        answers = [self._place_one(account, params) for params in items]
        placed = sum(1 for _, user in answers if user is not None)
        if placed:
            lost = await answer_faults(self.exchange, self.config.faults)
            if lost is not None:
                return lost
        data: list[object] = [item for item, _ in answers]
        if placed == len(answers):
            return self._answer("0", "", data)
        if placed == 0:
            return self._answer("1", "All operations failed", data)
        return self._answer("2", "Bulk operation partially succeeded", data)

    async def place(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            if not isinstance(raw, dict):
                raise OkxError("50002", "Json data format error", 400)
            return await self._place_many(account, [raw])

        return await self._serve(request, action)

    async def place_batch(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            items = raw if isinstance(raw, list) else [raw]
            if not 1 <= len(items) <= 20:
                raise OkxError("51000", "Parameter error: a batch holds 1 to 20 orders")
            return await self._place_many(account, items)  # type: ignore[arg-type]

        return await self._serve(request, action)

    def _lookup(self, account: Account, params: dict[str, str]) -> dict[str, str]:
        """The engine's query for the order named by ordId or clOrdId."""
        spec = self._market(params).spec
        if params.get("ordId"):
            if not params["ordId"].isdigit():
                raise _translate(ExchangeError(-2013, "Order does not exist."))
            return {"symbol": spec.symbol, "orderId": params["ordId"]}
        if params.get("clOrdId"):
            return {"symbol": spec.symbol, "origClientOrderId": params["clOrdId"]}
        raise OkxError("51000", "Parameter ordId or clOrdId error: either is required")

    async def cancel(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            params = self._params(raw)
            item: dict[str, object] = {
                "clOrdId": params.get("clOrdId", ""),
                "ordId": params.get("ordId", ""),
                "ts": str(now_ms()),
            }
            try:
                if not account.spec.enable_spot_and_margin_trading:
                    raise OkxError("50114", "Invalid authority")
                user = self.exchange.cancel_order(account, self._lookup(account, params), venue=VENUE)
            except ExchangeError as e:
                err = _translate(e)
                return self._answer(
                    "1", "All operations failed", [{**item, "sCode": err.code, "sMsg": err.msg}]
                )
            except OkxError as e:
                return self._answer("1", "All operations failed", [{**item, "sCode": e.code, "sMsg": e.msg}])
            item.update(clOrdId=user.client_id, ordId=str(user.book_order.order_id))
            return [{**item, "sCode": "0", "sMsg": ""}]

        return await self._serve(request, action)

    async def query(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            params = self._params(raw)
            try:
                user = self.exchange.find_order(account, self._lookup(account, params), venue=VENUE)
            except ExchangeError:
                raise OkxError("51603", "Order does not exist") from None
            except OkxError as e:
                raise OkxError("51603", "Order does not exist") if e.code == "51400" else e from None
            return [order_json(user, self.exchange.markets[user.symbol].spec)]

        return await self._serve(request, action)

    def _listed(self, account: Account, params: dict[str, str], open_only: bool) -> list[object]:
        self._spot_only(params, required=not open_only)
        symbol = self._market(params).spec.symbol if params.get("instId") else None
        orders = venue_orders(self.exchange, account, VENUE, symbol)
        chosen = [o for o in orders if (o.status in OPEN) == open_only]
        if params.get("ordType"):
            chosen = [o for o in chosen if _ord_type(o) == params["ordType"]]
        if params.get("state"):
            chosen = [o for o in chosen if _state(o) == params["state"]]
        limit = self._limit(params)
        return [
            order_json(o, self.exchange.markets[o.symbol].spec) for o in chosen[: min(limit, RECENT_CLOSED)]
        ]

    async def pending(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            return self._listed(account, self._params(raw), open_only=True)

        return await self._serve(request, action)

    async def history(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            return self._listed(account, self._params(raw), open_only=False)

        return await self._serve(request, action)

    async def fills(self, request: web.Request) -> web.Response:
        async def action(account: Account | None, raw: object) -> object:
            assert account is not None
            params = self._params(raw)
            self._spot_only(params, required=request.path.endswith("fills-history"))
            symbol = self._market(params).spec.symbol if params.get("instId") else None
            limit = self._limit(params)
            out: list[object] = []
            for vt in venue_trades(self.exchange, account, VENUE, symbol):
                t, o = vt.trade, vt.order
                if params.get("ordId") and params["ordId"] != str(o.book_order.order_id):
                    continue
                spec = self.exchange.markets[o.symbol].spec
                ts = str(t["time"])
                out.append(
                    {
                        "instType": "SPOT",
                        "instId": spec.okx_inst_id,
                        "tradeId": str(t["id"]),
                        "ordId": str(o.book_order.order_id),
                        "clOrdId": o.client_id,
                        "billId": str(t["id"]),
                        "subType": "1" if t["isBuyer"] else "2",
                        "tag": "",
                        "fillPx": plain(str(t["price"])),
                        "fillSz": plain(str(t["qty"])),
                        "fillIdxPx": "",
                        "fillPnl": "0",
                        "fillPxVol": "",
                        "fillPxUsd": "",
                        "fillMarkVol": "",
                        "fillFwdPx": "",
                        "fillMarkPx": "",
                        "side": "buy" if t["isBuyer"] else "sell",
                        "posSide": "net",
                        "execType": "M" if t["isMaker"] else "T",
                        "feeCcy": t["commissionAsset"],
                        "fee": plain(-Decimal(str(t["commission"]))),
                        "ts": ts,
                        "fillTime": ts,
                        "feeRate": plain(-(self.config.maker_fee if t["isMaker"] else self.config.taker_fee)),
                    }
                )
                if len(out) == limit:
                    break
            return out

        return await self._serve(request, action)
