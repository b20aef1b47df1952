"""The one small bus protocol every backend implements.

Delivery is at-least-once: a consumer polls a batch, handles it durably, then commits; whatever it polled
after its last commit comes again after a crash or a rebalance, so sinks deduplicate (the store does, on
event ids and fill trade ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from wisetrader.events import Event, Family


class CommitError(RuntimeError):
    """The backend could not commit (broker down, group rebalanced). What was polled comes again."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event as a consumer received it, with where it came from."""

    event: Event
    family: Family
    partition: int
    offset: int


class Consumer(Protocol):
    """A member of a consumer group, subscribed to some families."""

    async def poll(self, max_records: int = 1000, timeout_s: float = 0.5) -> list[Delivery]:
        """The next events (possibly none after ``timeout_s``); invalid messages are counted and skipped."""
        ...

    async def commit(self) -> None:
        """Mark everything returned by :meth:`poll` so far as handled (call after the durable write).

        Raises :class:`CommitError` when that is not possible right now; the caller may carry on, as the
        uncommitted events are redelivered and deduplicated at the sink.
        """
        ...

    async def lag(self) -> int | None:
        """Events published to this consumer's partitions not polled yet; None while none is assigned."""
        ...

    def decode_errors(self) -> dict[str, int]:
        """Invalid messages skipped, by reason."""
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    """Publish events; hand out consumers."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Queue one event for delivery. Never waits for consumers."""
        ...

    async def flush(self) -> None:
        """Wait until everything published so far is delivered to the backend (no-op in process)."""
        ...

    async def consumer(self, group: str, families: Iterable[Family]) -> Consumer:
        """A new member of ``group``; members of one group share the events, groups each get them all."""
        ...

    def stats(self) -> dict[str, int]:
        """Counters: published, dropped, send errors (backend-specific keys)."""
        ...
