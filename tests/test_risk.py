"""The risk gate: each limit and state blocks exactly what it should, and nothing else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from wisetrader.risk import (
    AccountLimits,
    BotLimits,
    Decision,
    Instrument,
    Intent,
    Reason,
    RiskGate,
    RiskLimits,
    TradingState,
)

BTC = Instrument(
    "binance",
    "BTCUSDT",
    Decimal("0.01"),
    Decimal("0.00001"),
    min_qty=10,
    max_qty=900_000_000,
    min_notional=Decimal(5),
    max_notional=Decimal(9_000_000),
)
MID = 3_000_000  # 30000.00 in ticks


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def gate(
    limits: RiskLimits | None = None, accounts: tuple[str, ...] = ("acct",), venue: str = "binance"
) -> tuple[RiskGate, list[tuple[Intent, Decision]], Clock]:
    rejected: list[tuple[Intent, Decision]] = []
    clock = Clock()
    g = RiskGate(limits, on_reject=lambda i, d: rejected.append((i, d)), clock=clock)
    g.add_instrument(
        BTC if venue == "binance" else Instrument(venue, "BTCUSDT", BTC.tick_size, BTC.step_size)
    )
    for a in accounts:
        g.add_account(a, venue)
    g.on_book(venue, "BTCUSDT", MID - 1, MID + 1)
    return g, rejected, clock


def buy(
    qty: int = 1000,
    price: int | None = MID,
    bot: str = "bot1",
    account: str = "acct",
    cid: str = "c1",
    venue: str = "binance",
) -> Intent:
    return Intent(account, bot, venue, "BTCUSDT", "buy", qty, price, client_id=cid)


def sell(
    qty: int = 1000, price: int | None = MID, bot: str = "bot1", account: str = "acct", cid: str = "s1"
) -> Intent:
    return Intent(account, bot, "binance", "BTCUSDT", "sell", qty, price, client_id=cid)


def test_accepts_a_plain_order_and_reports_rejections_as_events() -> None:
    g, rejected, _ = gate()
    assert g.check(buy()).accepted  # 0.01 BTC at 30000 = 300 USDT
    d = g.check(buy(qty=5))
    assert (d.accepted, d.reason, d.numbers) == (False, Reason.MIN_QTY, {"qty": "5", "min_qty": "10"})
    intent, decision = rejected[0]
    event = decision.event(intent)
    assert (
        event["reason"] == "min_qty"
        and event["account"] == "acct"
        and event["numbers"] == {"qty": "5", "min_qty": "10"}
    )
    assert g.rejections == {Reason.MIN_QTY: 1}


@pytest.mark.parametrize(
    "intent,reason",
    [
        (buy(qty=0), Reason.BAD_QUANTITY),
        (buy(price=0), Reason.BAD_PRICE),
        (buy(qty=1_000_000_000), Reason.MAX_QTY),
        (buy(qty=10), Reason.MIN_NOTIONAL),  # 0.0001 BTC = 3 USDT < 5
        (Intent("acct", "b", "binance", "ETHUSDT", "buy", 10, 1), Reason.UNKNOWN_INSTRUMENT),
        (Intent("nobody", "b", "binance", "BTCUSDT", "buy", 10, 1), Reason.UNKNOWN_INSTRUMENT),
    ],
)
def test_instrument_filters(intent: Intent, reason: Reason) -> None:
    g, _, _ = gate()
    assert g.check(intent).reason is reason


def test_price_band_against_the_book_and_missing_book() -> None:
    g, _, _ = gate()
    assert g.check(buy(qty=100, price=int(MID * 1.049))).accepted
    d = g.check(buy(qty=100, price=int(MID * 1.051)))
    assert d.reason is Reason.PRICE_BAND and d.numbers["bid"] == str(MID - 1)
    assert g.check(sell(qty=100, price=int(MID * 0.949))).reason is Reason.PRICE_BAND
    assert g.check(buy(qty=100, price=None)).accepted  # market order judged at the ask
    g.on_book("binance", "BTCUSDT", 0, 0)
    assert g.check(buy(qty=100)).reason is Reason.NO_MARKET_DATA


def test_notional_per_order_per_bot_and_per_account() -> None:
    limits = RiskLimits(
        bot=BotLimits(max_order_notional=Decimal(1000), max_notional=Decimal(1500)),
        account=AccountLimits(max_order_notional=Decimal(800), max_notional=Decimal(2000)),
    )
    g, _, _ = gate(limits)
    d = g.check(buy(qty=3000))  # 900 USDT: under the bot's 1000 but over the account's 800
    assert d.reason is Reason.ORDER_NOTIONAL and d.numbers["max"] == "800"
    first = buy(qty=2500, cid="o1")  # 750
    assert g.check(first).accepted
    g.on_order_accepted(first)
    second = buy(qty=2500, cid="o2")  # bot total 1500: at the limit, still fine
    assert g.check(second).accepted
    g.on_order_accepted(second)
    d = g.check(buy(qty=100, cid="o3"))
    assert d.reason is Reason.BOT_NOTIONAL and d.numbers["exposure"] == "1530"
    other = buy(qty=1600, bot="bot2", cid="o4")  # account: 1500 + 480 = 1980
    assert g.check(other).accepted
    g.on_order_accepted(other)
    assert g.check(buy(qty=100, bot="bot3", cid="o5")).reason is Reason.ACCOUNT_NOTIONAL
    g.on_order_closed("o1")  # cancelled: its notional is free again
    assert g.check(buy(qty=100, bot="bot3", cid="o5")).accepted
    # A fill turns open notional into a position, which still counts (valued at the mid).
    g.on_order_closed("o2")
    g.on_fill("acct", "bot1", "BTCUSDT", "buy", 2500)
    assert g.check(buy(qty=2500, cid="o6")).accepted  # 750 held + 750 = 1500: at the limit
    assert g.check(buy(qty=2600, cid="o6")).reason is Reason.BOT_NOTIONAL
    assert g.check(sell(qty=2500, cid="o7")).accepted  # reducing the position is not capped


def test_max_open_orders_per_bot_and_account() -> None:
    g, _, _ = gate(RiskLimits(bot=BotLimits(max_open_orders=2), account=AccountLimits(max_open_orders=3)))
    for i in range(2):
        intent = buy(qty=100, cid=f"a{i}")
        assert g.check(intent).accepted
        g.on_order_accepted(intent)
    assert g.check(buy(qty=100, cid="a2")).reason is Reason.BOT_OPEN_ORDERS
    other = buy(qty=100, bot="bot2", cid="b0")
    assert g.check(other).accepted
    g.on_order_accepted(other)
    assert g.check(buy(qty=100, bot="bot3", cid="c0")).reason is Reason.ACCOUNT_OPEN_ORDERS
    g.on_order_closed("a0")
    g.on_order_closed("a0")  # a duplicate close report changes nothing
    assert g.check(buy(qty=100, bot="bot3", cid="c0")).accepted
    assert g.accounts["acct"].exposure.open_orders == 2


def test_account_order_rate_budget_from_the_venue_limit() -> None:
    g, _, clock = gate()
    accepted = sum(g.check(buy(qty=100)).accepted for _ in range(100))
    assert accepted == 80  # 80% of Binance's 100 orders per 10 s
    d = g.check(buy(qty=100))
    assert d.reason is Reason.ACCOUNT_RATE and float(d.numbers["retry_in_s"]) > 0
    clock.t += 1.0  # refills at 8 per second
    assert sum(g.check(buy(qty=100)).accepted for _ in range(10)) == 8


def test_ip_budget_is_shared_by_all_accounts_of_a_venue() -> None:
    limits = RiskLimits(account=AccountLimits(rate_budget_fraction=Decimal("0.01")))
    names = tuple(f"a{i}" for i in range(8))
    g, _, _ = gate(limits, accounts=names, venue="bybit")  # IP: 600 per 5 s x 1% = 6
    decisions = [g.check(buy(qty=100, account=n, venue="bybit")) for n in names]
    assert [d.accepted for d in decisions] == [True] * 6 + [False] * 2
    assert {d.reason for d in decisions[6:]} == {Reason.IP_RATE}
    # Each account's own budget (1 per second here) was spent by its one order.
    assert g.check(buy(qty=100, account="a0", venue="bybit")).reason is Reason.ACCOUNT_RATE


def test_daily_realized_loss_limit_allows_only_reducing_orders() -> None:
    g, _, _ = gate()
    g.on_fill("acct", "bot1", "BTCUSDT", "buy", 2000)
    g.on_realized_pnl("acct", Decimal("-300"))
    assert g.check(buy(qty=100)).accepted
    g.on_realized_pnl("acct", Decimal("-200.01"))
    d = g.check(buy(qty=100))
    assert d.reason is Reason.DAILY_LOSS and d.numbers["realized_today"] == "-500.01"
    assert g.check(sell(qty=2000)).accepted  # closing the long is allowed
    assert g.check(sell(qty=2001)).reason is Reason.DAILY_LOSS  # flipping short is not
    g.on_realized_pnl("acct", Decimal("-1"), ts_ns=(g.accounts["acct"].day + 1) * 86_400 * 10**9)
    assert g.check(buy(qty=100)).accepted  # a new UTC day starts from zero


def test_drawdown_circuit_breaker_halts_for_the_cooldown() -> None:
    g, _, clock = gate(RiskLimits(account=AccountLimits(max_drawdown=Decimal("0.1"), drawdown_cooldown_s=60)))
    g.on_equity("acct", Decimal(10000))
    g.on_equity("acct", Decimal(12000))
    g.on_equity("acct", Decimal(10900))  # 9.2% below the peak
    assert g.check(buy(qty=100)).accepted
    g.on_equity("acct", Decimal(10800))  # 10%
    d = g.check(sell(qty=100))
    assert d.reason is Reason.DRAWDOWN and d.numbers["peak_equity"] == "12000"
    clock.t += 59
    g.on_equity("acct", Decimal(11000))
    assert g.check(buy(qty=100)).reason is Reason.DRAWDOWN
    clock.t += 2
    g.on_equity("acct", Decimal(10000))  # cooldown over: the peak restarts from here
    assert g.check(buy(qty=100)).accepted


def test_trading_states_global_and_per_account() -> None:
    g, _, _ = gate(accounts=("acct", "other"))
    g.on_fill("acct", "bot1", "BTCUSDT", "buy", 1000)
    g.set_state(TradingState.REDUCING, account="acct")
    assert g.check(buy(qty=100)).reason is Reason.REDUCING
    assert g.check(sell(qty=1000)).accepted
    assert g.check(buy(qty=100, account="other")).accepted  # another account is unaffected
    g.set_state(TradingState.HALTED)
    for intent in (sell(qty=1000), buy(qty=100, account="other")):
        d = g.check(intent)
        assert d.reason is Reason.HALTED and d.numbers["scope"] == "global"
    g.set_state(TradingState.ACTIVE)
    g.set_state(TradingState.ACTIVE, account="acct")
    assert g.check(buy(qty=100)).accepted


def test_kill_switches_stop_new_orders_at_once_and_emergency_close_flattens() -> None:
    g, _, _ = gate(accounts=("acct", "other"))
    g.on_fill("acct", "bot1", "BTCUSDT", "buy", 3000)
    g.on_fill("other", "bot2", "BTCUSDT", "sell", 700)
    g.kill_bot("bot1")
    assert g.check(buy(qty=100)).reason is Reason.BOT_KILLED
    assert g.check(buy(qty=100, bot="bot2")).accepted
    g.kill()
    assert g.check(buy(qty=100, bot="bot2")).reason is Reason.KILL_SWITCH
    assert g.check(sell(qty=100, bot="bot2")).reason is Reason.KILL_SWITCH
    closes = g.emergency_close()
    assert sorted((c.account, c.side, c.qty, c.price) for c in closes) == [
        ("acct", "sell", 3000, None),
        ("other", "buy", 700, None),
    ]
    assert all(g.check(c).accepted for c in closes)  # they pass the kill switch and the halt
    g.revive()
    assert g.check(buy(qty=100, bot="bot2")).reason is Reason.HALTED  # accounts stay halted until reset
    g.revive("bot1")
    assert "bot1" not in g.killed_bots


def test_limits_are_configurable_per_account_and_bot_with_defaults() -> None:
    limits = RiskLimits.model_validate(
        {
            "bots": {"big": {"max_order_notional": "4000"}},
            "accounts": {"acct": {"max_order_notional": "4500"}},
        }
    )
    assert limits.for_bot("big").max_order_notional == 4000 and limits.for_bot("x").max_order_notional == 1000
    g, _, _ = gate(limits)
    assert g.check(buy(qty=12000, bot="big")).accepted  # 3600
    assert g.check(buy(qty=12000, bot="small")).reason is Reason.ORDER_NOTIONAL
    with pytest.raises(ValueError):
        RiskLimits.model_validate({"account": {"max_open_orders": "many"}})


def test_the_strictest_trading_state_applies_whatever_the_order() -> None:
    order = [TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED]
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            assert TradingState.strictest(a, b) is order[max(i, j)]
    assert TradingState("HALTED") is TradingState.HALTED and str(TradingState.REDUCING) == "REDUCING"


def test_limits_replaced_at_run_time_keep_the_exposure_so_far() -> None:
    g, _, _ = gate()
    # 1000 lots at 30000 = 300 USDT per order; default bot limits allow 50 open orders and 5000 exposure.
    assert g.check(buy(qty=1000)).accepted
    g.on_order_accepted(buy(qty=1000, cid="o1"))
    g.on_order_accepted(buy(qty=1000, cid="o2"))
    g.set_bot_limits("bot1", BotLimits(max_open_orders=2))
    d = g.check(buy(qty=1000, cid="o3"))
    assert d.reason is Reason.BOT_OPEN_ORDERS and d.numbers == {"open": "2", "max": "2"}
    g.set_bot_limits("bot1", BotLimits(max_notional=Decimal(700)))
    d = g.check(buy(qty=1000, cid="o3"))
    assert d.reason is Reason.BOT_NOTIONAL and d.numbers["max"] == "700"
    g.set_bot_limits("bot1", BotLimits())
    g.set_account_limits("acct", AccountLimits(max_open_orders=2))
    assert g.check(buy(qty=1000, cid="o3")).reason is Reason.ACCOUNT_OPEN_ORDERS
    # A bot first seen after its limits were set gets them too.
    g.set_bot_limits("bot9", BotLimits(max_order_notional=Decimal(100)))
    g.set_account_limits("acct", AccountLimits())
    assert g.check(buy(qty=1000, bot="bot9", cid="o4")).reason is Reason.ORDER_NOTIONAL
    # A daily loss limit lowered below today's realized loss takes effect at once.
    g.on_realized_pnl("acct", Decimal(-200))
    assert g.check(buy(qty=100, cid="o5")).accepted
    g.set_account_limits("acct", AccountLimits(daily_loss_limit=Decimal(150)))
    assert g.check(buy(qty=100, cid="o5")).reason is Reason.DAILY_LOSS
