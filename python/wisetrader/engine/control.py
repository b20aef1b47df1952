"""The engine follows the control plane: which bots run, and under which limits, states and switches.

The control-plane database is the truth. The API commits a change, then publishes a small event of the
``control`` family (``BotCommand``, ``ControlChanged``); the follower wakes on any such event and
re-reads the database, and it also re-reads it every ``sync_every_s`` seconds, so a lost event delays a
change, never loses it. That works the same on the in-process bus (API and engine in one process) and
on Kafka (each engine instance has a consumer group of its own, so every instance hears every event).

What a re-read applies:

- bots whose status is ``running`` or ``paused`` are loaded into the core (spec from their current
  version, account keys opened with the key ring for live bots); then ``pause``/``resume``/``stop``
  follow the stored status through the core's bot commands; a deleted bot is stopped and dropped;
- an emergency close (``Bot.close_requested_at`` newer than the last one applied) cancels the bot's
  orders and flattens its position at market, with intents that pass every state and kill switch;
- the platform's and each account's trading state, each account's and bot's limits, and the kill
  switches (the bot's own, and its owner's for all their bots) go to the risk gate.

Bot ids in the engine are the control plane's ``Bot.id``; events carry the bot, account and user id.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wisetrader.bots.model import BotFileError, DcaBotFile, GridBotFile, core_args, parse_bot
from wisetrader.bus import Bus, Consumer
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.controlplane.models import (
    Bot,
    BotVersion,
    ExchangeAccount,
    GlobalTradingState,
    RiskLimit,
    UserTradingState,
)
from wisetrader.controlplane.repositories import account_context, sealed_of
from wisetrader.engine.botreport import BotReporter, Reported
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.publisher import BusPublisher
from wisetrader.engine.router import Market
from wisetrader.events import Family
from wisetrader.risk import AccountLimits, BotLimits, RiskGate, TradingState

log = logging.getLogger(__name__)

# The bot file's venue ids to the engine's venue names.
ENGINE_VENUE = {"binance-spot": "binance", "bybit-spot": "bybit", "okx": "okx"}


class ControlError(Exception):
    """A bot the engine cannot run as configured (the reason is published as its ``error`` state)."""


@dataclass(frozen=True, slots=True)
class Keys:
    api_key: str
    secret: str
    passphrase: str


class Host(Protocol):
    """The engine parts the follower drives (see ``engine.controlled``)."""

    strategy: BotStrategy
    engine: Engine
    gate: RiskGate
    reporter: BotReporter
    publisher: BusPublisher
    markets: dict[tuple[str, str], Market]
    assets: dict[tuple[str, str], tuple[str, str]]  # (venue, symbol) -> (base, quote)

    async def bind_account(self, account_id: int, venue: str, mode: str, keys: Callable[[], Keys]) -> str:
        """The risk-gate account (and executor) for the bots of ``account_id`` in ``mode``; raises
        ``ControlError`` when this engine cannot trade it."""
        ...


@dataclass
class _Held:
    """A bot the engine holds in its core."""

    bot_id: int
    venue: str
    symbol: str
    version: int
    status: str  # what was applied: running, paused, stopped, or error
    close_seen: dt.datetime | None
    gate_account: str = ""


@dataclass
class FollowerStats:
    syncs: int = 0
    wakeups: int = 0  # control events heard
    commands: dict[str, int] = dataclasses.field(default_factory=dict)
    sync_errors: int = 0
    listen_errors: int = 0


def account_limits(row: RiskLimit | None, base: AccountLimits) -> AccountLimits:
    if row is None:
        return base
    update: dict[str, Any] = {}
    if row.max_position_notional is not None:
        update["max_notional"] = Decimal(row.max_position_notional)
    if row.max_daily_loss is not None:
        update["daily_loss_limit"] = Decimal(row.max_daily_loss)
    if row.max_open_orders is not None:
        update["max_open_orders"] = row.max_open_orders
    return base.model_copy(update=update)


def bot_limits(row: RiskLimit | None, base: BotLimits) -> BotLimits:
    if row is None:
        return base
    update: dict[str, Any] = {}
    if row.max_position_notional is not None:
        update["max_notional"] = Decimal(row.max_position_notional)
    if row.max_open_orders is not None:
        update["max_open_orders"] = row.max_open_orders
    return base.model_copy(update=update)


class ControlFollower:
    def __init__(
        self,
        host: Host,
        sessions: async_sessionmaker[AsyncSession],
        keyring: KeyRing,
        bus: Bus,
        sync_every_s: float = 2.0,
    ) -> None:
        self.host = host
        self.sessions = sessions
        self.keyring = keyring
        self.bus = bus
        self.sync_every_s = sync_every_s
        self.held: dict[int, _Held] = {}
        self.stats = FollowerStats()
        self.gate_accounts: dict[int, set[str]] = {}  # control-plane account id -> gate account names
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._consumer: Consumer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # A group of its own: every engine instance must hear every control event.
        self._consumer = await self.bus.consumer(f"engine-control-{uuid.uuid4().hex[:8]}", [Family.CONTROL])
        await self.sync()
        self._tasks = [asyncio.create_task(self._listen(self._consumer)), asyncio.create_task(self._loop())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._consumer is not None:
            await self._consumer.close()

    async def _listen(self, consumer: Consumer) -> None:
        while True:
            try:
                deliveries = await consumer.poll(max_records=100, timeout_s=0.5)
                if deliveries:
                    self.stats.wakeups += len(deliveries)
                    self._wake.set()
                await consumer.commit()
            except Exception:  # the broker may be away: the periodic re-read carries on meanwhile
                self.stats.listen_errors += 1
                log.exception("control events: consumer failed; retrying in 1 s")
                await asyncio.sleep(1.0)

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sync_every_s)
            self._wake.clear()
            try:
                await self.sync()
            except Exception:  # the database may be away for a while: try again at the next period
                self.stats.sync_errors += 1
                log.exception("control-plane sync failed; retrying in %.1f s", self.sync_every_s)

    # ---- one re-read ---------------------------------------------------------------------------------
    async def sync(self) -> None:
        async with self._lock:
            async with self.sessions() as session:
                await self._sync(session)
            self.stats.syncs += 1

    async def _sync(self, s: AsyncSession) -> None:
        host, gate = self.host, self.host.gate
        row = await s.get(GlobalTradingState, 1)
        gate.set_state(row.state if row is not None else TradingState.ACTIVE)
        held_ids = list(self.held)
        rows = (
            await s.execute(
                select(Bot, ExchangeAccount)
                .join(ExchangeAccount, ExchangeAccount.id == Bot.account_id)
                .where(or_(Bot.status != "stopped", Bot.id.in_(held_ids) if held_ids else false()))
            )
        ).all()
        killed_users = set(
            await s.scalars(select(UserTradingState.user_id).where(UserTradingState.kill_switch.is_(True)))
        )
        account_ids = {a.id for _, a in rows}
        limit_rows = (
            (await s.scalars(select(RiskLimit).where(RiskLimit.account_id.in_(account_ids)))).all()
            if account_ids
            else []
        )
        acct_limit = {r.account_id: r for r in limit_rows if r.bot_id is None}
        bot_limit = {r.bot_id: r for r in limit_rows if r.bot_id is not None}
        to_load = [b for b, _ in rows if b.status != "stopped" and self._needs_load(b)]
        configs: dict[int, dict[str, Any]] = {}
        for bot in to_load:
            version = await s.scalar(
                select(BotVersion).where(BotVersion.bot_id == bot.id, BotVersion.version == bot.version)
            )
            if version is not None:
                configs[bot.id] = version.config

        seen = set()
        for bot, account in rows:
            seen.add(bot.id)
            if bot.id in configs:
                await self._load(bot, account, configs[bot.id])
            held = self.held.get(bot.id)
            if held is None:
                continue
            gate.set_bot_limits(str(bot.id), bot_limits(bot_limit.get(bot.id), gate.limits.bot))
            if bot.kill_switch or bot.owner_id in killed_users:
                gate.kill_bot(str(bot.id))
            else:
                gate.revive(str(bot.id))
            try:
                self._follow(held, bot)
            except ValueError as exc:  # the core refused the command: that bot is in error, others go on
                held.status = "error"
                host.reporter.set_state(bot.id, "error", str(exc))
                log.warning("bot %d: %s", bot.id, exc)
        for account_id, names in self.gate_accounts.items():
            acct = next((a for _, a in rows if a.id == account_id), None)
            if acct is None:
                continue
            for name in names:
                gate.set_account_limits(name, account_limits(acct_limit.get(account_id), gate.limits.account))
                gate.set_state(acct.trading_state, name)
        for bot_id in [i for i in self.held if i not in seen]:
            self._drop(self.held[bot_id])  # deleted from the control plane
        host.reporter.report_all()

    def _needs_load(self, bot: Bot) -> bool:
        held = self.held.get(bot.id)
        if held is None or held.status == "stopped":
            return True
        return held.status == "error" and held.version != bot.version

    async def _load(self, bot: Bot, account: ExchangeAccount, config: dict[str, Any]) -> None:
        host = self.host
        old = self.held.pop(bot.id, None)
        if old is not None:
            host.strategy.remove_bot(old.venue, old.symbol, old.bot_id)
        held = _Held(bot.id, "", bot.symbol, bot.version, "error", bot.close_requested_at)
        self.held[bot.id] = held
        try:
            spec = parse_bot(config, source=f"bot {bot.id}")
            held.venue, held.symbol = self._market_of(spec)
            base, quote = host.assets[(held.venue, held.symbol)]
            host.reporter.track(
                Reported(
                    bot.id,
                    held.venue,
                    held.symbol,
                    str(account.id),
                    str(bot.owner_id),
                    base,
                    quote,
                    spec.investment.quote if isinstance(spec, GridBotFile) else (spec.budget or Decimal(0)),
                )
            )
            held.gate_account = await host.bind_account(
                account.id, account.venue, bot.mode, lambda: self._keys(account)
            )
            self.gate_accounts.setdefault(account.id, set()).add(held.gate_account)
            kind, instrument, bot_spec = core_args(spec)
            # Fees are named in the symbol's real assets, as the store and the P&L need them.
            instrument = json.dumps({**json.loads(instrument), "base_asset": base, "quote_asset": quote})
            host.publisher.owners[str(bot.id)] = (str(account.id), str(bot.owner_id))
            host.strategy.add_bot(
                held.venue, held.symbol, bot.id, kind, instrument, bot_spec, held.gate_account
            )
        except (BotFileError, ControlError, ValueError) as exc:
            held.status = "error"
            if bot.id not in host.reporter.bots:
                owner = (str(account.id), str(bot.owner_id))
                host.reporter.track(Reported(bot.id, held.venue, held.symbol, *owner, "", "", Decimal(0)))
            host.reporter.set_state(bot.id, "error", str(exc).replace("\n", " "))
            log.warning("bot %d cannot run: %s", bot.id, exc)
            return
        held.status = "running"
        host.reporter.set_state(bot.id, "running")

    def _market_of(self, spec: GridBotFile | DcaBotFile) -> tuple[str, str]:
        venue = ENGINE_VENUE.get(spec.venue)
        market = self.host.markets.get((venue or "", spec.symbol))
        if venue is None or market is None:
            raise ControlError(f"{spec.venue} {spec.symbol} is not traded by this engine")
        rules = spec.instrument
        if rules.tick_size != market.tick_size or rules.lot_step != market.step_size:
            raise ControlError(
                f"instrument tick_size {rules.tick_size} / lot_step {rules.lot_step} differ from the "
                f"market's {market.tick_size} / {market.step_size}"
            )
        return venue, spec.symbol

    def _keys(self, account: ExchangeAccount) -> Keys:
        plain = self.keyring.open(sealed_of(account), account_context(account)).decode()
        api_key, secret, passphrase = ([*plain.split("\n"), "", ""])[:3]
        return Keys(api_key, secret, passphrase)

    def _follow(self, held: _Held, bot: Bot) -> None:
        """Bring the engine's bot to the stored status (and apply a new emergency close)."""
        if held.status == "error":
            return
        if bot.close_requested_at is not None and bot.close_requested_at != held.close_seen:
            held.close_seen = bot.close_requested_at
            try:
                self._command(held, "close")
                detail = "emergency close"
            except ValueError as exc:  # e.g. nothing left to close: the bot stays stopped
                detail = f"emergency close refused: {exc}"
            held.status = "stopped"
            self.host.reporter.set_state(held.bot_id, "stopped", detail)
            return
        target = bot.status
        if target == held.status:
            return
        if target == "stopped":
            self._command(held, "stop")
        elif target == "paused":
            self._command(held, "pause")
        elif target == "running":
            self._command(held, "resume")
        held.status = target
        self.host.reporter.set_state(held.bot_id, target)  # type: ignore[arg-type]

    def _command(self, held: _Held, command: str) -> None:
        # The close's market order is an emergency intent (BotStrategy marks it): it goes out whatever the
        # kill switches and trading states say.
        intents = self.host.strategy.command(held.venue, held.symbol, held.bot_id, command, time.time_ns())
        self.stats.commands[command] = self.stats.commands.get(command, 0) + 1
        self.host.engine.submit(intents)

    def _drop(self, held: _Held) -> None:
        if held.status in ("running", "paused"):
            self._command(held, "stop")
        self.host.reporter.set_state(held.bot_id, "stopped", "deleted")
        self.host.reporter.forget(held.bot_id)
        self.host.strategy.remove_bot(held.venue, held.symbol, held.bot_id)
        del self.held[held.bot_id]
