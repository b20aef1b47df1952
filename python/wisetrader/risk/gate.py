"""The risk gate's state and its one hot method, :meth:`RiskGate.check`."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from wisetrader.ratelimit import TokenBucket
from wisetrader.risk.limits import AccountLimits, BotLimits, RiskLimits

SCALE = 10**12  # notionals are integers in 1e-12 of the quote currency


def to_units(amount: Decimal) -> int:
    return int(amount * SCALE)


def from_units(units: int) -> str:
    return f"{Decimal(units) / SCALE:f}"


class TradingState(enum.StrEnum):
    """The trading state of the platform or of one account (the control plane stores and the API shows
    these names); the stricter of the global and the account state applies."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only orders that reduce exposure
    HALTED = "HALTED"  # no orders (emergency closes excepted)

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @staticmethod
    def strictest(*states: TradingState) -> TradingState:
        return max(states, key=_SEVERITY.__getitem__)


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class Reason(enum.Enum):
    KILL_SWITCH = "kill_switch"
    BOT_KILLED = "bot_killed"
    HALTED = "halted"
    REDUCING = "reducing_only"
    DAILY_LOSS = "daily_loss_limit"
    DRAWDOWN = "drawdown_circuit_breaker"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    BAD_QUANTITY = "bad_quantity"
    BAD_PRICE = "bad_price"
    MIN_QTY = "min_qty"
    MAX_QTY = "max_qty"
    MIN_NOTIONAL = "min_notional"
    MAX_NOTIONAL_FILTER = "max_notional_filter"
    NO_MARKET_DATA = "no_market_data"
    PRICE_BAND = "price_band"
    ORDER_NOTIONAL = "max_order_notional"
    BOT_NOTIONAL = "max_bot_notional"
    ACCOUNT_NOTIONAL = "max_account_notional"
    BOT_OPEN_ORDERS = "max_bot_open_orders"
    ACCOUNT_OPEN_ORDERS = "max_account_open_orders"
    ACCOUNT_RATE = "account_order_rate"
    IP_RATE = "ip_order_rate"


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    reason: Reason | None = None
    detail: str = ""
    numbers: dict[str, str] = field(default_factory=dict)

    def event(self, intent: Intent) -> dict[str, object]:
        """The rejection as a bus event."""
        return {
            "type": "risk_rejection",
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "numbers": self.numbers,
            "account": intent.account,
            "bot": intent.bot_id,
            "symbol": intent.symbol,
            "client_order_id": intent.client_id,
            "ts_ns": time.time_ns(),
        }


ACCEPT = Decision(True)


@dataclass(frozen=True, slots=True)
class Instrument:
    """An instrument's filters in its integer grid: prices in ticks, quantities in lots."""

    venue: str
    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: int = 1  # lots
    max_qty: int = 10**15
    min_notional: Decimal = Decimal(0)
    max_notional: Decimal = Decimal(0)  # 0: none

    @property
    def unit(self) -> int:
        """1e-12 quote units per (tick x lot); exact by construction of the venues' grids."""
        return to_units(self.tick_size * self.step_size)


@dataclass(frozen=True, slots=True)
class Intent:
    """One order the engine wants to send. ``price`` is None for a market order."""

    account: str
    bot_id: str
    venue: str
    symbol: str
    side: str  # "buy" | "sell"
    qty: int  # lots
    price: int | None  # ticks
    client_id: str = ""
    emergency: bool = False  # an emergency close: passes every state and budget, filters still apply


@dataclass(slots=True)
class _Inst:
    spec: Instrument
    unit: int
    min_notional: int
    max_notional: int
    bid: int = 0
    ask: int = 0


@dataclass(slots=True)
class _Exposure:
    """Open orders and positions of a bot or an account, with its caps pre-converted to integers."""

    max_order: int  # notional units
    max_notional: int
    max_open: int
    open_orders: int = 0
    open_notional: int = 0
    position: dict[str, int] = field(default_factory=dict)  # lots by symbol, signed


def _set_caps(exp: _Exposure, max_order: Decimal, max_notional: Decimal, max_open: int) -> None:
    exp.max_order, exp.max_notional, exp.max_open = to_units(max_order), to_units(max_notional), max_open


@dataclass(slots=True)
class _Account:
    limits: AccountLimits
    venue: str
    exposure: _Exposure
    state: TradingState = TradingState.ACTIVE
    rate: TokenBucket | None = None
    day: int = -1
    realized_today: Decimal = Decimal(0)
    loss_hit: bool = False  # realized_today is at or below minus the daily loss limit
    peak_equity: Decimal = Decimal(0)
    halted_until: float = 0.0  # drawdown cooldown end (monotonic)


@dataclass(frozen=True, slots=True)
class _Open:
    account: str
    bot_id: str
    notional: int


class RiskGate:
    """Decides on intents; is told about books, order lifecycle, fills, P&L and equity by the engine."""

    def __init__(
        self,
        limits: RiskLimits | None = None,
        on_reject: Callable[[Intent, Decision], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or RiskLimits()
        self.on_reject = on_reject
        self.clock = clock
        self.global_state = TradingState.ACTIVE
        self.killed = False
        self.killed_bots: set[str] = set()
        self.instruments: dict[tuple[str, str], _Inst] = {}
        self.accounts: dict[str, _Account] = {}
        self.bots: dict[str, _Exposure] = {}
        self.open: dict[str, _Open] = {}  # by client order id
        self.ip_buckets: dict[str, TokenBucket] = {}
        self.rejections: dict[Reason, int] = {}
        self._band_ppm = int(self.limits.price_band * 1_000_000)

    # ---- setup -------------------------------------------------------------------------------------
    def add_instrument(self, spec: Instrument) -> None:
        unit = spec.unit
        if unit <= 0 or Decimal(unit) != spec.tick_size * spec.step_size * SCALE:
            raise ValueError(f"{spec.symbol}: tick x step below 1e-12 is not supported")
        self.instruments[(spec.venue, spec.symbol)] = _Inst(
            spec, unit, to_units(spec.min_notional), to_units(spec.max_notional)
        )

    def add_account(self, name: str, venue: str) -> None:
        from wisetrader.venues.base import venue_rates

        limits = self.limits.for_account(name)
        (count, window), (ip_count, ip_window) = venue_rates(venue)
        fraction = limits.rate_budget_fraction
        exposure = _Exposure(
            to_units(limits.max_order_notional), to_units(limits.max_notional), limits.max_open_orders
        )
        account = _Account(limits, venue, exposure)
        account.rate = TokenBucket.per_window(max(1, int(count * fraction)), window, self.clock())
        self.accounts[name] = account
        # One IP budget per venue, shared by every account (and so every bot) of this process.
        if venue not in self.ip_buckets:
            self.ip_buckets[venue] = TokenBucket.per_window(
                max(1, int(ip_count * fraction)), ip_window, self.clock()
            )

    def set_account_limits(self, name: str, limits: AccountLimits) -> None:
        """Replace one account's limits (the control plane changed them); exposure so far is kept."""
        self.limits = self.limits.model_copy(update={"accounts": {**self.limits.accounts, name: limits}})
        acct = self.accounts.get(name)
        if acct is not None:
            acct.limits = limits
            _set_caps(acct.exposure, limits.max_order_notional, limits.max_notional, limits.max_open_orders)
            acct.loss_hit = -acct.realized_today >= limits.daily_loss_limit

    def set_bot_limits(self, bot_id: str, limits: BotLimits) -> None:
        """Replace one bot's limits; its open orders and position so far are kept."""
        self.limits = self.limits.model_copy(update={"bots": {**self.limits.bots, bot_id: limits}})
        exp = self.bots.get(bot_id)
        if exp is not None:
            _set_caps(exp, limits.max_order_notional, limits.max_notional, limits.max_open_orders)

    # ---- controls ----------------------------------------------------------------------------------
    def kill(self) -> None:
        """Global kill switch: no new order from now on (emergency closes excepted)."""
        self.killed = True

    def kill_bot(self, bot_id: str) -> None:
        self.killed_bots.add(bot_id)

    def revive(self, bot_id: str | None = None) -> None:
        if bot_id is None:
            self.killed = False
        else:
            self.killed_bots.discard(bot_id)

    def set_state(self, state: TradingState, account: str | None = None) -> None:
        if account is None:
            self.global_state = state
        else:
            self.accounts[account].state = state

    def emergency_close(self, account: str | None = None) -> list[Intent]:
        """Halt (everything or one account) and return the market orders that flatten every position."""
        names = [account] if account is not None else list(self.accounts)
        if account is None:
            self.kill()
        closes = []
        for name in names:
            acct = self.accounts[name]
            acct.state = TradingState.HALTED
            for symbol, lots in acct.exposure.position.items():
                if lots:
                    side = "sell" if lots > 0 else "buy"
                    closes.append(
                        Intent(name, "emergency", acct.venue, symbol, side, abs(lots), None, emergency=True)
                    )
        return closes

    # ---- market and order lifecycle ---------------------------------------------------------------
    def on_book(self, venue: str, symbol: str, bid: int, ask: int) -> None:
        inst = self.instruments.get((venue, symbol))
        if inst is not None:
            inst.bid, inst.ask = bid, ask

    def on_order_accepted(self, intent: Intent) -> None:
        """The executor sent the order: it counts as open until closed (notional at its limit price)."""
        inst = self.instruments[(intent.venue, intent.symbol)]
        price = intent.price if intent.price is not None else (inst.ask if intent.side == "buy" else inst.bid)
        notional = price * intent.qty * inst.unit
        self.open[intent.client_id] = _Open(intent.account, intent.bot_id, notional)
        for exp in (self.accounts[intent.account].exposure, self._bot(intent.bot_id)):
            exp.open_orders += 1
            exp.open_notional += notional

    def on_order_closed(self, client_id: str) -> None:
        """Filled, cancelled, expired or rejected: no longer open."""
        entry = self.open.pop(client_id, None)
        if entry is None:
            return
        for exp in (self.accounts[entry.account].exposure, self._bot(entry.bot_id)):
            exp.open_orders -= 1
            exp.open_notional -= entry.notional

    def on_fill(self, account: str, bot_id: str, symbol: str, side: str, qty: int) -> None:
        signed = qty if side == "buy" else -qty
        for exp in (self.accounts[account].exposure, self._bot(bot_id)):
            exp.position[symbol] = exp.position.get(symbol, 0) + signed

    def on_realized_pnl(self, account: str, pnl: Decimal, ts_ns: int | None = None) -> None:
        acct = self.accounts[account]
        day = (ts_ns or time.time_ns()) // (86_400 * 10**9)
        if day != acct.day:
            acct.day, acct.realized_today = day, Decimal(0)
        acct.realized_today += pnl
        acct.loss_hit = -acct.realized_today >= acct.limits.daily_loss_limit

    def on_equity(self, account: str, equity: Decimal) -> None:
        acct = self.accounts[account]
        if self.clock() < acct.halted_until:
            return
        if acct.halted_until:  # cooldown over: start again from here
            acct.halted_until = 0.0
            acct.peak_equity = equity
        acct.peak_equity = max(acct.peak_equity, equity)
        peak = acct.peak_equity
        if peak > 0 and (peak - equity) / peak >= acct.limits.max_drawdown:
            acct.halted_until = self.clock() + acct.limits.drawdown_cooldown_s

    def _bot(self, bot_id: str) -> _Exposure:
        exp = self.bots.get(bot_id)
        if exp is None:
            limits = self.limits.for_bot(bot_id)
            exp = self.bots[bot_id] = _Exposure(
                to_units(limits.max_order_notional), to_units(limits.max_notional), limits.max_open_orders
            )
        return exp

    # ---- the check ---------------------------------------------------------------------------------
    def _reject(self, intent: Intent, reason: Reason, detail: str, **numbers: object) -> Decision:
        decision = Decision(False, reason, detail, {k: str(v) for k, v in numbers.items()})
        self.rejections[reason] = self.rejections.get(reason, 0) + 1
        if self.on_reject is not None:
            self.on_reject(intent, decision)
        return decision

    def check(self, intent: Intent) -> Decision:
        """Accept or refuse ``intent``. Accepting consumes one token of the account and IP budgets."""
        inst = self.instruments.get((intent.venue, intent.symbol))
        acct = self.accounts.get(intent.account)
        if inst is None or acct is None:
            return self._reject(intent, Reason.UNKNOWN_INSTRUMENT, "instrument or account not registered")
        spec = inst.spec
        qty = intent.qty
        if qty <= 0:
            return self._reject(intent, Reason.BAD_QUANTITY, "quantity must be positive", qty=qty)
        if intent.price is not None and intent.price <= 0:
            return self._reject(intent, Reason.BAD_PRICE, "price must be positive", price=intent.price)
        if qty < spec.min_qty:
            return self._reject(intent, Reason.MIN_QTY, "below the lot filter", qty=qty, min_qty=spec.min_qty)
        if qty > spec.max_qty:
            return self._reject(intent, Reason.MAX_QTY, "above the lot filter", qty=qty, max_qty=spec.max_qty)
        if intent.emergency:
            return ACCEPT

        # States and switches.
        if self.killed:
            return self._reject(intent, Reason.KILL_SWITCH, "global kill switch is on")
        if intent.bot_id in self.killed_bots:
            return self._reject(intent, Reason.BOT_KILLED, "bot is killed", bot=intent.bot_id)
        now = self.clock()
        if now < acct.halted_until:
            return self._reject(
                intent,
                Reason.DRAWDOWN,
                "drawdown circuit breaker",
                cooldown_s=round(acct.halted_until - now, 3),
                peak_equity=acct.peak_equity,
            )
        state = TradingState.strictest(self.global_state, acct.state)
        if state is TradingState.HALTED:
            return self._reject(
                intent,
                Reason.HALTED,
                "trading is halted",
                scope="global" if self.global_state is TradingState.HALTED else "account",
            )
        position = acct.exposure.position.get(intent.symbol, 0)
        reduces = (position > 0 and intent.side == "sell" and qty <= position) or (
            position < 0 and intent.side == "buy" and qty <= -position
        )
        if acct.loss_hit and not reduces and acct.day == time.time_ns() // (86_400 * 10**9):
            return self._reject(
                intent,
                Reason.DAILY_LOSS,
                "daily realized-loss limit reached: reducing only",
                realized_today=acct.realized_today,
                limit=acct.limits.daily_loss_limit,
            )
        if state is TradingState.REDUCING and not reduces:
            return self._reject(
                intent, Reason.REDUCING, "reducing only", position=position, side=intent.side, qty=qty
            )

        # Market data and the fat-finger band.
        if not inst.bid or not inst.ask:
            return self._reject(intent, Reason.NO_MARKET_DATA, "no in-sync book for the price band")
        ref = intent.price if intent.price is not None else (inst.ask if intent.side == "buy" else inst.bid)
        mid2 = inst.bid + inst.ask  # twice the mid, to stay in integers
        if abs(2 * ref - mid2) * 1_000_000 > self._band_ppm * mid2:
            return self._reject(
                intent,
                Reason.PRICE_BAND,
                "price too far from the book",
                price=ref,
                bid=inst.bid,
                ask=inst.ask,
                band=self.limits.price_band,
            )

        # Notional: the venue's filter, then our own per order, per bot and per account.
        notional = ref * qty * inst.unit
        if notional < inst.min_notional:
            return self._reject(
                intent,
                Reason.MIN_NOTIONAL,
                "below the venue's min notional",
                notional=from_units(notional),
                min=spec.min_notional,
            )
        if inst.max_notional and notional > inst.max_notional:
            return self._reject(
                intent,
                Reason.MAX_NOTIONAL_FILTER,
                "above the venue's max notional",
                notional=from_units(notional),
                max=spec.max_notional,
            )
        bot = self._bot(intent.bot_id)
        account = acct.exposure
        order_cap = min(bot.max_order, account.max_order)
        if notional > order_cap:
            return self._reject(
                intent,
                Reason.ORDER_NOTIONAL,
                "order notional too large",
                notional=from_units(notional),
                max=from_units(order_cap),
            )
        if not reduces:
            for exp, reason in ((bot, Reason.BOT_NOTIONAL), (account, Reason.ACCOUNT_NOTIONAL)):
                cap = exp.max_notional
                pos_value = abs(exp.position.get(intent.symbol, 0)) * mid2 * inst.unit // 2  # at the mid
                total = exp.open_notional + pos_value + notional
                if total > cap:
                    return self._reject(
                        intent,
                        reason,
                        "exposure would exceed the limit",
                        exposure=from_units(total),
                        max=from_units(cap),
                    )
        if bot.open_orders >= bot.max_open:
            return self._reject(
                intent,
                Reason.BOT_OPEN_ORDERS,
                "too many open orders on the bot",
                open=bot.open_orders,
                max=bot.max_open,
            )
        if account.open_orders >= account.max_open:
            return self._reject(
                intent,
                Reason.ACCOUNT_OPEN_ORDERS,
                "too many open orders on the account",
                open=account.open_orders,
                max=account.max_open,
            )

        # Rate budgets last, so that only orders that will be sent spend a token.
        rate = acct.rate
        assert rate is not None
        ip = self.ip_buckets[acct.venue]
        if rate.wait_time(1, now) > 0:
            return self._reject(
                intent,
                Reason.ACCOUNT_RATE,
                "account order-rate budget spent",
                retry_in_s=round(rate.wait_time(1, now), 3),
            )
        if not ip.try_take(1, now):
            return self._reject(
                intent, Reason.IP_RATE, "IP request budget spent", retry_in_s=round(ip.wait_time(1, now), 3)
            )
        rate.try_take(1, now)
        return ACCEPT
