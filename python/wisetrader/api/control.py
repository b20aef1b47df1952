"""Tell the engine about a committed control-plane change: a small ``control`` event on the bus.

The database stays the truth (the engine re-reads it periodically as well), so an API process without a
bus, or an event lost on the way, only delays the change.
"""

from __future__ import annotations

import time
from typing import Literal

from wisetrader.api.deps import AppState
from wisetrader.events import BotCommand, ControlChanged, Event

Command = Literal["start", "pause", "stop", "close", "delete"]


async def _publish(state: AppState, event: Event) -> None:
    if state.hub is not None:
        await state.hub.bus.publish(event)


async def bot_command(state: AppState, bot_id: int, user_id: int, command: Command) -> None:
    await _publish(
        state,
        BotCommand(
            ts_ns=time.time_ns(),
            venue="",
            symbol="",
            bot_id=str(bot_id),
            user_id=str(user_id),
            command=command,
        ),
    )


async def changed(
    state: AppState,
    scope: Literal["bot", "account", "user", "global"],
    *,
    user_id: int | None = None,
    account_id: int | None = None,
    bot_id: int | None = None,
) -> None:
    def text(value: int | None) -> str | None:
        return None if value is None else str(value)

    await _publish(
        state,
        ControlChanged(
            ts_ns=time.time_ns(),
            venue="",
            symbol="",
            scope=scope,
            user_id=text(user_id),
            account_id=text(account_id),
            bot_id=text(bot_id),
        ),
    )
