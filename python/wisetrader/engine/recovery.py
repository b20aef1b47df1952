"""Resume after a restart: bring the bots' restored state and each venue back in line, before any trigger.

For every live account, against the venue:

- the orders the bots believe open are looked up: open on the venue -> adopted (tracked again, with
  their current status); closed on the venue while the engine was down (filled, cancelled) -> their
  fills and final status are told to the bot, which reacts as it would have (a resting grid re-places
  a cancelled level: the repair); unknown to the venue -> the request never arrived (killed before or
  while sending): sent again under the same client id, which the venue would refuse if it had it;
- the venue's fills for those orders are fed to the bots first (the core drops a fill id it has
  applied already, so replaying is safe; ``fills_applied``/``fills_duplicate`` count both);
- open orders with one of our client ids that no bot owns are cancelled (orphans); others' orders are
  left alone;
- cancels the bots asked for and the venue had not confirmed are sent again.

Paper accounts have no venue to ask: their book lived in the engine's process, so every order a paper
bot believes open is placed again, same id, on the fresh paper venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccxt.base import errors as ccxt_errors

from wisetrader.engine import persistence
from wisetrader.engine.bots import BotStrategy
from wisetrader.engine.engine import Engine
from wisetrader.engine.router import OrderRouter
from wisetrader.execution import LiveExecutor, TrackedOrder
from wisetrader.execution.live import AccountStopped, RateLimited
from wisetrader.risk import Intent


def load(path: Path, strategy: BotStrategy) -> list[TrackedOrder] | None:
    """Replace ``strategy``'s freshly added bots by their saved state, if ``path`` holds one.

    Returns the orders the executors knew (for :func:`resume`), or None on a first start. Raises
    :class:`persistence.StateFileError` for a damaged file or one written for other bots.
    """
    state = persistence.read(path)
    if state is None:
        return None
    saved = persistence.bot_records(state)
    persistence.check_same_bots(saved, strategy.bots, path)
    try:
        orders = [persistence.order_from_record(r) for r in state["orders"]]
        cancels = set(state["pending_cancels"])
    except (KeyError, TypeError, ValueError) as e:
        raise persistence.StateFileError(f"{path}: order records cannot be read: {e}") from None
    strategy.restore(saved, persistence.restore_engines(state), cancels)
    return orders


def attach(
    engine: Engine, strategy: BotStrategy, path: Path, interval_s: float = 0.2
) -> persistence.StatePersister:
    """Persist ``strategy``'s bots and the executors' open orders to ``path`` from now on: after every
    order update and fill (coalesced), and before every order request leaves (see ``persistence``)."""
    router = engine.router

    def snapshot() -> dict[str, Any]:
        orders = [o for ex in router.executors.values() for o in ex.orders.values()]
        return persistence.snapshot(strategy.bots, strategy.engines, orders, strategy.pending_cancels)

    persister = persistence.StatePersister(path, snapshot, interval_s)
    router.before_send = persister.durable
    engine.on_change = persister.mark
    persister.start()
    return persister


RESUME_ATTEMPTS = 3


class ResumeError(Exception):
    """A live account could not be reconciled with its venue at start: the engine does not trade."""


@dataclass
class RecoveryReport:
    adopted: list[str] = field(default_factory=list)  # open on the venue: tracked again
    settled: list[str] = field(default_factory=list)  # closed on the venue meanwhile: told to the bot
    resent: list[str] = field(default_factory=list)  # never reached the venue: sent again, same id
    unresolved: list[str] = field(default_factory=list)  # no answer: left in flight for the reconciler
    orphans_canceled: list[str] = field(default_factory=list)  # ours, owned by no bot: cancelled
    cancels_resent: list[str] = field(default_factory=list)
    fills_applied: int = 0  # venue fills a bot had not seen yet
    fills_duplicate: int = 0  # venue fills a bot had applied before the restart

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def resume(
    router: OrderRouter, strategy: BotStrategy, saved_orders: Iterable[TrackedOrder] = ()
) -> RecoveryReport:
    """Reconcile every account's orders and fills with what the bots believe; see the module doc."""
    report = RecoveryReport()
    before = dict(strategy.fill_outcomes)
    saved = {o.client_id: o for o in saved_orders}
    owned: dict[str, dict[str, Intent]] = {}
    for intent in strategy.open_orders():
        owned.setdefault(intent.account, {})[intent.client_id] = intent
    for account, executor in router.executors.items():
        mine = owned.get(account, {})
        if isinstance(executor, LiveExecutor):
            symbols = {
                router.markets[(b.venue, b.symbol)].unified
                for b in strategy.bots.values()
                if b.account == account
            }
            for attempt in range(RESUME_ATTEMPTS):
                try:
                    await _resume_live(router, executor, mine, saved, sorted(symbols), report)
                    break
                except (ccxt_errors.BaseError, AccountStopped, RateLimited) as e:
                    if attempt + 1 == RESUME_ATTEMPTS:
                        # Trading on without knowing what is on the venue could place orders twice.
                        raise ResumeError(
                            f"account {account}: the venue did not answer the reconciliation "
                            f"({RESUME_ATTEMPTS} attempts): {type(e).__name__}: {str(e)[:200]}"
                        ) from None
                    await asyncio.sleep(2**attempt)
        else:
            for intent in mine.values():  # the paper book died with the process: place again
                router.submit(intent)
                report.resent.append(intent.client_id)
    for cid in sorted(strategy.pending_cancels):
        order = (
            router.executors[router.intents[cid].account].orders.get(cid) if cid in router.intents else None
        )
        if order is None or order.state.terminal:
            strategy.pending_cancels.discard(cid)
        else:
            strategy.cancel(cid)
            report.cancels_resent.append(cid)
    after = strategy.fill_outcomes
    report.fills_applied = after.get("applied", 0) - before.get("applied", 0)
    report.fills_duplicate = after.get("duplicate", 0) - before.get("duplicate", 0)
    return report


async def _resume_live(
    router: OrderRouter,
    executor: LiveExecutor,
    owned: dict[str, Intent],
    saved: dict[str, TrackedOrder],
    symbols: list[str],
    report: RecoveryReport,
) -> None:
    for intent in owned.values():
        router.track(intent)  # before the venue's news about it reaches the router
    orders = [saved.get(cid) or _order(router, executor, intent) for cid, intent in owned.items()]
    for order in orders:
        order.account = executor.config.account
    found = await executor.resume(orders, symbols)
    report.adopted += found.adopted
    report.settled += found.settled
    report.unresolved += found.unresolved
    report.orphans_canceled += found.orphans_canceled
    for cid in found.lost:  # never reached the venue: the bot still wants it, so send it (same id)
        router.gate.on_order_closed(cid)
        router.submit(owned[cid])
        report.resent.append(cid)


def _order(router: OrderRouter, executor: LiveExecutor, intent: Intent) -> TrackedOrder:
    """A tracked order for a bot's order the executors had not recorded (killed before the snapshot)."""
    market = router.markets[(intent.venue, intent.symbol)]
    return TrackedOrder(
        intent.client_id,
        executor.config.account,
        market.unified,
        intent.side,
        market.qty(intent.qty),
        None if intent.price is None else market.price(intent.price),
        bot_id=intent.bot_id,
    )
