"""The live executor: ccxt async against Binance, Bybit or OKX (or the local simulator via base URLs).

Rules it keeps (see the architecture notes):
- the client order id is the caller's deterministic id; resending it can never open a second order;
- an order whose answer is lost (timeout, 5xx, dropped connection) stays IN_FLIGHT until a query by client
  id settles it; it is resent (same id) only once the venue says it does not know it;
- cancels are idempotent; retries are bounded;
- a 429 pauses the account for its Retry-After; a 418 stops the account until the ban ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import ccxt.async_support as ccxt_async
from ccxt.base import errors as ccxt_errors

from wisetrader.execution.ids import is_ours, is_valid_client_id
from wisetrader.execution.orders import Fill, OrderState, TrackedOrder


class AccountStopped(Exception):
    """The venue banned this account/IP (HTTP 418): nothing is sent until ``until`` (monotonic s)."""

    def __init__(self, until: float, detail: str = "") -> None:
        super().__init__(
            f"account stopped by the venue for {max(0.0, until - time.monotonic()):.0f} s {detail}"
        )
        self.until = until


class RateLimited(Exception):
    """HTTP 429 with a Retry-After longer than we are willing to wait."""


@dataclass
class ExecutorConfig:
    venue: str  # binance | bybit | okx
    account: str
    # Keys stay out of the repr, so that no log line or traceback of a config shows them.
    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)  # OKX keys carry one; the other venues ignore it
    testnet: bool = False  # Binance spot testnet, Bybit testnet, OKX demo trading (ccxt's sandbox mode)
    rest_base: str | None = None  # scheme://host[:port] replacing the venue's (the simulator)
    max_attempts: int = 3
    retry_backoff_s: float = 0.2
    request_timeout_s: float = 10.0
    max_rate_wait_s: float = 30.0  # wait out a 429 up to this long, else fail the call
    # Requests in flight at once. When a 429 or 418 comes back, the others in flight were sent before we
    # knew; a venue bans a client that keeps sending during the back-off (the simulator at the 3rd), so
    # this stays small: a burst of orders is sent in pairs, and a 429 is followed by at most one request.
    max_in_flight: int = 2


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_id: str
    symbol: str  # ccxt unified symbol, e.g. BTC/USDT
    side: str  # buy | sell
    qty: str  # decimal strings: never floats
    price: str | None  # None: market order
    post_only: bool = False
    bot_id: str = ""


@dataclass
class ResumeReport:
    """What :meth:`LiveExecutor.resume` found of the orders a restart believes open."""

    adopted: list[str] = field(default_factory=list)  # open on the venue: tracked again
    settled: list[str] = field(default_factory=list)  # closed on the venue meanwhile (filled, cancelled)
    lost: list[str] = field(default_factory=list)  # unknown to the venue: never arrived, safe to send again
    unresolved: list[str] = field(default_factory=list)  # no answer: left in flight for the reconciler
    orphans_canceled: list[str] = field(default_factory=list)  # ours, believed open by nobody: cancelled
    new_fills: int = 0  # fills reported (the bots tell new ones from replays by fill id)


@dataclass
class ReconcileReport:
    adopted: list[str] = field(default_factory=list)  # ours, expected by a bot, unknown to us: now tracked
    orphans_canceled: list[str] = field(default_factory=list)  # ours, expected by nobody: cancelled
    foreign: list[str] = field(default_factory=list)  # not placed by this engine: left alone
    settled: list[str] = field(default_factory=list)  # in flight or open here, settled from the venue
    lost: list[str] = field(default_factory=list)  # in flight here, unknown to the venue: may be resent
    new_fills: int = 0


@dataclass
class ExecutorStats:
    """Running counters of one executor (the run summary and metrics report them)."""

    requests: int = 0  # sent to the venue
    backoffs_429: int = 0  # 429 answers: the account paused for Retry-After
    account_stops: int = 0  # 418 answers: the account stopped until the ban ends
    refused_stopped: int = 0  # calls not sent because the account was stopped
    answers_lost: int = 0  # placements answered by a timeout, 5xx or lost connection: outcome unknown
    in_flight_settled: int = 0  # orders of unknown outcome settled from the venue (query or reconciliation)
    reconcile_settled: int = 0  # ... of which by the reconciliation loop
    lost: int = 0  # in flight here, unknown to the venue

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


_STATUS = {
    "open": OrderState.OPEN,
    "closed": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "cancelled": OrderState.CANCELED,
    "expired": OrderState.EXPIRED,
    "rejected": OrderState.REJECTED,
}
_BANNED = re.compile(r"\b418\b|IP banned")


@dataclass(frozen=True, slots=True)
class _Dialect:
    """Where each venue puts what the executor reads from ccxt's raw ``info`` (exact decimal strings)."""

    client_id_param: str  # names an order by client id in cancel and query
    filled: str  # an order's cumulative filled base quantity
    qty: str  # an order's quantity
    price: str  # an order's limit price
    trade_id: tuple[str, ...]  # a fill's id (Binance: "tradeId" in an order answer, "id" in myTrades)
    trade_price: str
    trade_qty: str
    fee: str
    fee_asset: str


_DIALECTS = {
    "binance": _Dialect(
        "origClientOrderId", "executedQty", "origQty", "price", ("tradeId", "id"), "price", "qty",
        "commission", "commissionAsset",
    ),
    "bybit": _Dialect(
        "orderLinkId", "cumExecQty", "qty", "price", ("execId",), "execPrice", "execQty", "execFee",
        "feeCurrency",
    ),
    "okx": _Dialect("clOrdId", "accFillSz", "sz", "px", ("tradeId",), "fillPx", "fillSz", "fee", "feeCcy"),
}  # fmt: skip


def _rebase(urls: Any, base: str) -> Any:
    """Every URL in ccxt's (nested) ``urls['api']`` with its scheme and host replaced by ``base``."""
    if isinstance(urls, dict):
        return {k: _rebase(v, base) for k, v in urls.items()}
    if isinstance(urls, str) and "://" in urls:
        path = urllib.parse.urlsplit(urls.replace("{hostname}", "host")).path
        return base.rstrip("/") + path
    return urls


class LiveExecutor:
    def __init__(
        self,
        config: ExecutorConfig,
        on_update: Callable[[TrackedOrder], None] | None = None,
        on_fill: Callable[[Fill], None] | None = None,
    ) -> None:
        self.config = config
        self.on_update = on_update
        self.on_fill = on_fill
        self.orders: dict[str, TrackedOrder] = {}
        self.by_venue_id: dict[str, str] = {}
        self.seen_trades: set[str] = set()
        self.paused_until = 0.0  # 429 back-off
        self.stopped_until = 0.0  # 418 ban
        self.stats = ExecutorStats()
        self.placing: dict[str, asyncio.Event] = {}  # placements under way, set when they return
        self._in_flight = asyncio.Semaphore(config.max_in_flight)
        self.ex: Any = None
        self.dialect = _DIALECTS.get(config.venue, _DIALECTS["binance"])

    @property
    def requests(self) -> int:
        return self.stats.requests

    # ---- lifecycle -------------------------------------------------------------------------------
    def build_client(self) -> Any:
        c = self.config
        cls = getattr(ccxt_async, c.venue, None)
        if cls is None or c.venue not in ("binance", "bybit", "okx"):
            raise ValueError(f"unsupported venue {c.venue!r}")
        options: dict[str, Any] = {"defaultType": "spot"}
        if c.venue == "binance":
            # Spot only: no futures exchangeInfo, no margin pairs, no currency list (sapi).
            options.update({"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False})
        else:
            options.update({"fetchMarkets": ["spot"]})
        ex = cls(
            {
                "apiKey": c.api_key,
                "secret": c.secret,
                "password": c.passphrase,
                "enableRateLimit": False,  # budgets are the risk gate's; 429/418 are handled here
                "timeout": int(c.request_timeout_s * 1000),
                "options": options,
            }
        )
        ex.has["fetchCurrencies"] = False
        if c.testnet:
            ex.set_sandbox_mode(True)
        if c.rest_base:
            ex.urls["api"] = _rebase(ex.urls["api"], c.rest_base)
        return ex

    async def start(self) -> None:
        self.ex = self.build_client()
        await self._call(self.ex.load_markets)

    async def close(self) -> None:
        if self.ex is not None:
            await self.ex.close()

    # ---- one request, with the venue's rate-limit answers honoured ------------------------------
    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async with self._in_flight:  # a back-off found here holds the others back too
            return await self._call_now(fn, *args, **kwargs)

    async def _call_now(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        while True:
            now = time.monotonic()
            if now < self.stopped_until:
                self.stats.refused_stopped += 1
                raise AccountStopped(self.stopped_until)
            if now < self.paused_until:
                wait = self.paused_until - now
                if wait > self.config.max_rate_wait_s:
                    raise RateLimited(f"backing off for {wait:.0f} s after a 429")
                await asyncio.sleep(wait)
            self.stats.requests += 1
            try:
                return await fn(*args, **kwargs)
            except (ccxt_errors.DDoSProtection, ccxt_errors.RateLimitExceeded) as e:
                # Binance's 429/418 are DDoSProtection in ccxt; Bybit's 10006 and OKX's 50011 are
                # RateLimitExceeded. Either way the request was refused before it did anything.
                retry_after = self._retry_after()
                if _BANNED.search(str(e)):
                    self.stats.account_stops += 1
                    self.stopped_until = time.monotonic() + max(retry_after, 60.0)
                    raise AccountStopped(self.stopped_until, str(e)[:200]) from e
                self.stats.backoffs_429 += 1
                self.paused_until = time.monotonic() + max(retry_after, self.config.retry_backoff_s)

    def _retry_after(self) -> float:
        """Seconds the venue asked us to wait: Retry-After (Binance) or the limit's reset time (Bybit)."""
        headers = {k.lower(): v for k, v in (getattr(self.ex, "last_response_headers", None) or {}).items()}
        try:
            if headers.get("retry-after"):
                return float(headers["retry-after"])
            if headers.get("x-bapi-limit-reset-timestamp"):
                return max(0.0, int(headers["x-bapi-limit-reset-timestamp"]) / 1000 - time.time())
        except ValueError:
            pass
        return 0.0

    # ---- state updates ---------------------------------------------------------------------------
    def _emit(self, order: TrackedOrder) -> None:
        if self.on_update is not None:
            self.on_update(order)

    def _apply(self, order: TrackedOrder, remote: dict[str, Any]) -> None:
        """Take the venue's view of ``order`` (a ccxt order dict)."""
        info = remote.get("info") or {}
        state = _STATUS.get(str(remote.get("status")), order.state)
        if info.get("orderStatus") == "PartiallyFilledCanceled":  # Bybit spot; ccxt calls it "closed"
            state = OrderState.CANCELED
        filled = info.get(self.dialect.filled)
        if filled is None:  # an answer that does not say (a cancel's ack) keeps what we know
            filled = (
                order.filled if remote.get("filled") is None else self.ex.number_to_string(remote["filled"])
            )
        filled = str(filled)
        if state is OrderState.OPEN and filled and float(filled) > 0:  # display only, not a decision on money
            state = OrderState.PARTIALLY_FILLED
        if remote.get("id"):
            order.venue_id = str(remote["id"])
            self.by_venue_id[order.venue_id] = order.client_id
        changed = (state, filled) != (order.state, order.filled)
        order.state, order.filled = state, filled
        for trade in remote.get("trades") or []:
            self._fill(order, trade)
        if changed:
            self._emit(order)

    def _fill(self, order: TrackedOrder, trade: dict[str, Any]) -> bool:
        info = trade.get("info") or {}
        d = self.dialect
        trade_id = str(next((info[k] for k in d.trade_id if info.get(k)), None) or trade.get("id") or "")
        key = f"{order.symbol}:{trade_id}"
        if not trade_id or key in self.seen_trades:
            return False
        self.seen_trades.add(key)
        n2s = self.ex.number_to_string
        fee = trade.get("fee") or {}
        fill = Fill(
            client_id=order.client_id,
            trade_id=trade_id,
            symbol=order.symbol,
            side=order.side,
            price=str(info.get(d.trade_price) or n2s(trade.get("price"))),
            qty=str(info.get(d.trade_qty) or n2s(trade.get("amount"))),
            # OKX books a fee as a negative amount; a fill's fee here is what was paid.
            fee=str(info.get(d.fee) or n2s(fee.get("cost") or 0)).removeprefix("-"),
            fee_asset=str(info.get(d.fee_asset) or fee.get("currency") or ""),
            ts_ns=int(trade.get("timestamp") or time.time() * 1000) * 1_000_000,
            maker=bool(info.get("isMaker", trade.get("takerOrMaker") == "maker")),
        )
        order.fills.append(fill)
        if self.on_fill is not None:
            self.on_fill(fill)
        return True

    async def _resolve(self, order: TrackedOrder) -> bool | None:
        """Ask the venue about ``order`` by client id.

        True: found (and applied); False: the venue does not know it; None: no answer.
        """
        try:
            remote = await self._query(order.symbol, order.client_id)
        except ccxt_errors.OrderNotFound:
            return False
        except (ccxt_errors.NetworkError, ccxt_errors.ExchangeError, RateLimited) as e:
            order.error = f"{type(e).__name__}: {str(e)[:200]}"
            return None
        self._apply(order, remote)
        return True

    async def _query(self, symbol: str, client_id: str) -> dict[str, Any]:
        """The venue's order ``client_id`` in any state; raises ccxt's OrderNotFound if it has none."""
        by_id = {self.dialect.client_id_param: client_id}
        if self.config.venue == "bybit":
            # Bybit's order query by orderLinkId finds the order in any state (ccxt's fetch_order
            # would also send an empty orderId).
            found = await self._call(self.ex.fetch_open_orders, symbol, None, None, by_id)
            if not found:
                raise ccxt_errors.OrderNotFound(f"no order {client_id}")
            return found[0]  # type: ignore[no-any-return]
        return await self._call(self.ex.fetch_order, None, symbol, by_id)  # type: ignore[no-any-return]

    # ---- placing and cancelling ------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> TrackedOrder:
        """Send ``req``; return its tracked order (IN_FLIGHT if the outcome is still unknown)."""
        if not is_valid_client_id(req.client_id):
            raise ValueError(f"client order id must match [A-Za-z0-9]{{1,32}}: {req.client_id!r}")
        existing = self.orders.get(req.client_id)
        if existing is not None and existing.state is not OrderState.REJECTED:
            return existing  # the same id twice is the same order
        order = TrackedOrder(
            req.client_id, self.config.account, req.symbol, req.side, req.qty, req.price, bot_id=req.bot_id
        )
        self.orders[req.client_id] = order
        placed = self.placing[req.client_id] = asyncio.Event()
        try:
            return await self._place(order, req)
        finally:
            del self.placing[req.client_id]
            placed.set()

    async def _place(self, order: TrackedOrder, req: OrderRequest) -> TrackedOrder:
        params: dict[str, Any] = {"clientOrderId": req.client_id}
        if self.config.venue == "binance":
            params["newOrderRespType"] = "FULL"  # the fills come with the answer
        if req.post_only:
            params["postOnly"] = True
        kind = "limit" if req.price is not None else "market"
        for attempt in range(self.config.max_attempts):
            order.attempts += 1
            try:
                remote = await self._call(
                    self.ex.create_order, req.symbol, kind, req.side, req.qty, req.price, params
                )
            except (AccountStopped, RateLimited) as e:
                return self._reject(order, e)  # refused before it reached the matching engine
            except ccxt_errors.InvalidOrder as e:
                # "Duplicate order sent" / "OrderLinkedID is duplicate" / "Duplicated clOrdId": an earlier
                # attempt did land, so settle it from the venue.
                if "duplicate" in str(e).lower() and await self._resolve(order):
                    return order
                return self._reject(order, e)
            except ccxt_errors.NetworkError as e:  # timeout, 5xx, connection lost: outcome unknown
                self.stats.answers_lost += 1
                order.error = f"{type(e).__name__}: {str(e)[:200]}"
                if order.state is not OrderState.IN_FLIGHT:
                    return order  # the reconciler settled it while the answer was pending
                found = await self._resolve(order)
                if found is None:
                    return order  # still unknown: the reconciler settles it
                if found:
                    self.stats.in_flight_settled += 1
                    return order
                if attempt + 1 < self.config.max_attempts:
                    await asyncio.sleep(self.config.retry_backoff_s * 2**attempt)
                continue  # the venue does not know it: resend the same id
            except ccxt_errors.ExchangeError as e:
                return self._reject(order, e)
            if remote.get("status") is None:
                # Bybit and OKX acknowledge with ids only: the venue has the order; a query tells its state.
                self._apply(order, {**remote, "status": "open"})
                await self._resolve(order)
            else:
                self._apply(order, remote)
            return order
        return self._reject(order, RuntimeError(f"not placed after {self.config.max_attempts} attempts"))

    def _reject(self, order: TrackedOrder, error: BaseException) -> TrackedOrder:
        order.state = OrderState.REJECTED
        order.error = f"{type(error).__name__}: {str(error)[:200]}"
        self._emit(order)
        return order

    async def cancel(self, client_id: str) -> TrackedOrder:
        """Cancel by client id. Idempotent: a cancelled, filled or unknown order is simply reported."""
        order = self.orders[client_id]
        placing = self.placing.get(client_id)
        if placing is not None:  # sent now, the cancel could overtake the order and miss it
            await placing.wait()
        if order.state.terminal:
            return order
        for attempt in range(self.config.max_attempts):
            try:
                remote = await self._call(
                    self.ex.cancel_order, None, order.symbol, {self.dialect.client_id_param: client_id}
                )
            except ccxt_errors.OrderNotFound:
                found = await self._resolve(order)  # filled meanwhile, or cancelled already
                if found is False:
                    order.state, order.error = OrderState.REJECTED, "unknown to the venue"
                    self._emit(order)
                return order
            except ccxt_errors.NetworkError:
                if await self._resolve(order) and order.state.terminal:
                    return order
                await asyncio.sleep(self.config.retry_backoff_s * 2**attempt)
                continue
            remote.pop("trades", None)
            if remote.get("status") is None:
                # An ack with ids only (Bybit, OKX): what was filled before the cancel comes from a query.
                self._apply(order, {**remote, "status": "canceled"})
                await self._resolve(order)
            else:
                self._apply(order, remote)
            return order
        return order

    # ---- reconciliation --------------------------------------------------------------------------
    async def reconcile(
        self, symbols: Iterable[str], expected: Callable[[str], bool] | None = None
    ) -> ReconcileReport:
        """Bring local state in line with the venue: settle in-flight orders, adopt, cancel orphans, fills."""
        report = ReconcileReport()
        for symbol in symbols:
            remote_open = await self._call(self.ex.fetch_open_orders, symbol)
            on_venue = set()
            for remote in remote_open:
                cid = str(remote.get("clientOrderId") or "")
                on_venue.add(cid)
                tracked = self.orders.get(cid)
                if tracked is not None:
                    was = tracked.state
                    self._apply(tracked, remote)
                    if was is OrderState.IN_FLIGHT:
                        report.settled.append(cid)
                        self._settled_by_reconcile()
                elif not is_ours(cid):
                    report.foreign.append(cid)
                elif expected is not None and expected(cid):
                    info = remote.get("info") or {}
                    adopted = TrackedOrder(
                        cid,
                        self.config.account,
                        symbol,
                        str(remote.get("side")),
                        str(info.get(self.dialect.qty) or self.ex.number_to_string(remote.get("amount"))),
                        str(info.get(self.dialect.price) or self.ex.number_to_string(remote.get("price"))),
                        adopted=True,
                    )
                    self.orders[cid] = adopted
                    self._apply(adopted, remote)
                    report.adopted.append(cid)
                else:
                    with contextlib.suppress(ccxt_errors.OrderNotFound):  # gone meanwhile: nothing to cancel
                        await self._call(
                            self.ex.cancel_order, None, symbol, {self.dialect.client_id_param: cid}
                        )
                    report.orphans_canceled.append(cid)
            for order in list(self.orders.values()):
                if order.symbol != symbol or order.state.terminal or order.client_id in on_venue:
                    continue
                was = order.state
                found = await self._resolve(order)
                if found is False and order.client_id in self.placing:
                    continue  # its placement is still under way: not there yet is not lost
                if found is False:
                    order.state, order.error = OrderState.REJECTED, "never reached the venue"
                    self.stats.lost += 1
                    self._emit(order)
                    report.lost.append(order.client_id)
                elif found:
                    report.settled.append(order.client_id)
                    if was is OrderState.IN_FLIGHT:
                        self._settled_by_reconcile()
            for trade in await self._call(self.ex.fetch_my_trades, symbol):
                owner = self.by_venue_id.get(str(trade.get("order")))
                if owner is not None and self._fill(self.orders[owner], trade):
                    report.new_fills += 1
        return report

    def _settled_by_reconcile(self) -> None:
        self.stats.in_flight_settled += 1
        self.stats.reconcile_settled += 1

    async def resume(self, orders: Iterable[TrackedOrder], symbols: Iterable[str]) -> ResumeReport:
        """After a restart: settle ``orders`` (what the bots believe open on this account) with the venue.

        Each is looked up by client id (open, closed, or unknown to the venue); then every fill of
        theirs since the oldest is reported (replays included: the bots drop fill ids they applied),
        and only then their current status, since a bot forgets an order once told it is closed.
        Orders unknown to the venue are dropped here (``lost``), for the caller to send again. Open
        orders with one of our ids that are not in ``orders`` are cancelled (orphans).
        """
        report = ResumeReport()
        symbols = sorted(set(symbols))
        mine = {o.client_id: o for o in orders}
        remote: dict[str, dict[str, Any]] = {}
        for symbol in symbols:
            for r in await self._call(self.ex.fetch_open_orders, symbol):
                cid = str(r.get("clientOrderId") or "")
                if cid in mine:
                    remote[cid] = r
                elif is_ours(cid):
                    with contextlib.suppress(ccxt_errors.OrderNotFound):  # gone meanwhile: nothing to cancel
                        await self._call(
                            self.ex.cancel_order, None, symbol, {self.dialect.client_id_param: cid}
                        )
                    report.orphans_canceled.append(cid)
        for cid, order in mine.items():
            self.orders[cid] = order
            if cid in remote:
                continue
            try:
                remote[cid] = await self._query(order.symbol, cid)
            except ccxt_errors.OrderNotFound:
                del self.orders[cid]
                report.lost.append(cid)
            except (ccxt_errors.BaseError, RateLimited) as e:
                order.state, order.error = OrderState.IN_FLIGHT, f"{type(e).__name__}: {str(e)[:200]}"
                report.unresolved.append(cid)
        for cid, r in remote.items():
            self.orders[cid].venue_id = str(r["id"])
            self.by_venue_id[str(r["id"])] = cid
        times = [int(r["timestamp"]) for r in remote.values() if r.get("timestamp")]
        if times:
            for symbol in symbols:
                for trade in await self._trades_since(symbol, min(times)):
                    owner = self.by_venue_id.get(str(trade.get("order")))
                    if owner in remote and self._fill(self.orders[owner], trade):
                        report.new_fills += 1
        for cid, r in remote.items():
            order = self.orders[cid]
            self._apply(order, {**r, "trades": []})
            (report.settled if order.state.terminal else report.adopted).append(cid)
        return report

    async def _trades_since(self, symbol: str, since_ms: int, page: int = 1000) -> list[dict[str, Any]]:
        """Every trade of ours on ``symbol`` from ``since_ms`` on, page by page (Binance pages by trade
        id; Bybit and OKX answer one page of their most recent fills)."""
        out: list[dict[str, Any]] = []
        batch = await self._call(self.ex.fetch_my_trades, symbol, since_ms, page)
        if self.config.venue != "binance":
            return list(batch)
        while True:
            out += batch
            if len(batch) < page:
                return out
            last = int((batch[-1].get("info") or {}).get("id") or batch[-1]["id"])
            batch = await self._call(self.ex.fetch_my_trades, symbol, None, page, {"fromId": last + 1})

    async def reconcile_forever(
        self, symbols: list[str], interval_s: float, expected: Callable[[str], bool] | None = None
    ) -> None:
        while True:
            # The loop must outlive a bad symbol or a bad minute at the venue; the next round tries again.
            for symbol in symbols:
                with contextlib.suppress(ccxt_errors.BaseError, AccountStopped, RateLimited):
                    await self.reconcile([symbol], expected)
            await asyncio.sleep(interval_s)
