"""The engine's durable state: what a restart needs to resume every bot where it was.

One file, ``<state_dir>/engine-state.json``, holds a versioned, checksummed snapshot of

- every bot: its definition as configured (to refuse a config that changed under it) and its whole
  state as the core exports it (orders it believes open, ledger, the fill ids it has applied);
- the orders the executors know and that are not terminal yet (client id, venue id, state), and the
  cancels the bots asked for that the venue has not confirmed.

It is written atomically (temp file, fsync, rename, fsync of the directory), so the file on disk is
always one whole snapshot; a file that fails its checksum or its format is refused with
:class:`StateFileError`, never silently ignored. Writes are coalesced by :class:`StatePersister`: at
most one per ``interval_s``, serialised in the event loop (the core's export is fast) and written to
disk in a worker thread, so the loop never waits on the disk. Order requests wait for the snapshot
that records them (:meth:`StatePersister.durable`): an order is never on the venue unless a restart
will know it as its bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wisetrader._core import BotEngine
from wisetrader.execution import OrderState, TrackedOrder

FORMAT = "wisetrader-engine-state"
VERSION = 1
FILE_NAME = "engine-state.json"


class StateFileError(Exception):
    """The state file is unreadable, corrupt, of another format or version, or does not fit the config."""


@dataclass(frozen=True, slots=True)
class BotRecord:
    """A bot as it was added: enough to check that the config still describes the same bot."""

    bot_id: int
    venue: str
    symbol: str
    kind: str
    instrument_json: str
    spec_json: str
    account: str


# ---- the file ---------------------------------------------------------------------------------------
def encode(state: dict[str, Any]) -> bytes:
    """A header line (format, version, checksum of the rest), then the snapshot as JSON."""
    body = json.dumps(state, separators=(",", ":")).encode()
    header = {"format": FORMAT, "version": VERSION, "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode() + b"\n" + body


def decode(data: bytes, source: str = "state file") -> dict[str, Any]:
    """The snapshot in ``data``; :class:`StateFileError` saying what is wrong otherwise."""
    head, newline, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StateFileError(f"{source}: not a {FORMAT} file")
    if header.get("version") != VERSION:
        raise StateFileError(
            f"{source}: format version {header.get('version')!r}, this engine reads version {VERSION}"
        )
    if not newline or header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise StateFileError(f"{source}: checksum mismatch (the file is truncated, altered or damaged)")
    try:
        state = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StateFileError(f"{source}: the snapshot is not JSON: {e}") from None
    if not isinstance(state, dict):
        raise StateFileError(f"{source}: the snapshot is not an object")
    return state


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` so that a crash at any point leaves the old or the new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself must survive a power cut
    finally:
        os.close(fd)


def read(path: Path) -> dict[str, Any] | None:
    """The snapshot at ``path``, or None if there is none (a first start)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateFileError(f"{path}: {e}") from None
    return decode(data, str(path))


# ---- what goes into the snapshot --------------------------------------------------------------------
def order_record(order: TrackedOrder) -> dict[str, Any]:
    return {
        "client_id": order.client_id,
        "account": order.account,
        "symbol": order.symbol,
        "side": order.side,
        "qty": order.qty,
        "price": order.price,
        "state": order.state.value,
        "venue_id": order.venue_id,
        "filled": order.filled,
        "bot_id": order.bot_id,
    }


def order_from_record(r: dict[str, Any]) -> TrackedOrder:
    return TrackedOrder(
        r["client_id"],
        r["account"],
        r["symbol"],
        r["side"],
        r["qty"],
        r["price"],
        state=OrderState(r["state"]),
        venue_id=r["venue_id"],
        filled=r["filled"],
        bot_id=r["bot_id"],
    )


def snapshot(
    bots: dict[int, BotRecord],
    engines: dict[tuple[str, str], BotEngine],
    orders: list[TrackedOrder],
    pending_cancels: set[str],
) -> dict[str, Any]:
    """The whole durable state (JSON-ready); ``orders``: every executor's tracked orders."""
    return {
        "bots": [{f: getattr(b, f) for f in BotRecord.__slots__} for _, b in sorted(bots.items())],
        "engines": [
            # The core's export as it is (a JSON string): parsing it here would only cost time.
            {"venue": venue, "symbol": symbol, "state": engine.export_state()}
            for (venue, symbol), engine in sorted(engines.items())
        ],
        "orders": [order_record(o) for o in orders if not o.state.terminal],
        "pending_cancels": sorted(pending_cancels),
    }


def restore_engines(state: dict[str, Any]) -> dict[tuple[str, str], BotEngine]:
    try:
        return {(e["venue"], e["symbol"]): BotEngine.import_state(e["state"]) for e in state["engines"]}
    except (KeyError, TypeError, ValueError) as e:
        raise StateFileError(f"bot state cannot be restored: {e}") from None


def bot_records(state: dict[str, Any]) -> dict[int, BotRecord]:
    try:
        return {int(b["bot_id"]): BotRecord(**b) for b in state["bots"]}
    except (KeyError, TypeError, ValueError) as e:
        raise StateFileError(f"bot list cannot be read: {e}") from None


def check_same_bots(saved: dict[int, BotRecord], configured: dict[int, BotRecord], path: Path) -> None:
    """The rule for a config that changed under a state file: refuse, naming every difference.

    A bot's state only makes sense for the definition it was built from (its grid, its budget, its
    account), so a changed, added or removed bot stops the start; move the state file away to start
    every bot fresh, or restore the config it was written with.
    """
    problems = []
    for bot_id in sorted(saved.keys() | configured.keys()):
        old, new = saved.get(bot_id), configured.get(bot_id)
        if old is None:
            problems.append(f"bot {bot_id} is new in the config")
        elif new is None:
            problems.append(f"bot {bot_id} is in the state but not in the config")
        elif old != new:
            fields = [
                f
                for f in ("venue", "symbol", "kind", "instrument_json", "spec_json", "account")
                if getattr(old, f) != getattr(new, f)
            ]
            problems.append(f"bot {bot_id} changed ({', '.join(fields)})")
    if problems:
        raise StateFileError(
            f"{path} was written for other bots: {'; '.join(problems)}. Restore the config it was written "
            f"with, or move the file away to start every bot fresh."
        )


# ---- coalesced writing ------------------------------------------------------------------------------
class StatePersister:
    """Writes ``snapshot()`` to ``path`` after changes, at most once per ``interval_s``."""

    def __init__(self, path: Path, snapshot: Callable[[], dict[str, Any]], interval_s: float = 0.2) -> None:
        self.path = path
        self.snapshot = snapshot
        self.interval_s = interval_s
        self.writes = 0
        self.errors = 0
        self.last_error = ""
        self._requested = 0  # generation of the latest change
        self._written = 0  # generation on disk
        self._changed = asyncio.Event()
        self._urgent = asyncio.Event()
        self._done = asyncio.Condition()
        self._lock = asyncio.Lock()  # one write at a time: they share the temp file
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def mark(self) -> None:
        """Something changed: write within ``interval_s``."""
        self._requested += 1
        self._changed.set()

    async def durable(self) -> None:
        """Return once a snapshot taken after this call is on disk (at once, not after ``interval_s``)."""
        self.mark()
        target = self._requested
        self._urgent.set()
        async with self._done:
            await self._done.wait_for(lambda: self._written >= target)

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            # Coalesce: whatever else changes meanwhile goes into the same write.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._urgent.wait(), self.interval_s)
            if not await self.write():
                await asyncio.sleep(self.interval_s)  # the disk failed: retry, without spinning

    async def write(self) -> bool:
        """Write the current snapshot now; False (counted in ``errors``) if the disk refused it."""
        async with self._lock:
            self._changed.clear()
            self._urgent.clear()
            generation = self._requested
            data = encode(self.snapshot())
            try:
                self._inflight = asyncio.ensure_future(asyncio.to_thread(write_atomic, self.path, data))
                await asyncio.shield(self._inflight)  # cancelled or not, the thread finishes its file
            except OSError as e:
                # Waiters keep waiting: no order request leaves before its record is on disk.
                self.errors += 1
                self.last_error = str(e)
                self._changed.set()
                return False
            self.writes += 1
        async with self._done:
            self._written = max(self._written, generation)
            self._done.notify_all()
        return True

    async def close(self) -> None:
        """Stop the writer and write the final snapshot (a clean shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight is not None:
            with contextlib.suppress(OSError):
                await self._inflight
        self.mark()
        await self.write()
