"""Token buckets: the one rate-limit primitive, used by feed sessions and by the risk gate's order budgets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second. Times are monotonic seconds."""

    rate: float
    capacity: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity <= 0:
            raise ValueError("a token bucket needs a positive rate and capacity")
        if self.tokens < 0:
            self.tokens = self.capacity

    @classmethod
    def per_window(cls, count: int, window_s: float, now: float | None = None) -> TokenBucket:
        """A bucket allowing ``count`` events per ``window_s`` (a venue's published limit)."""
        return cls(
            rate=count / window_s, capacity=float(count), stamp=time.monotonic() if now is None else now
        )

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def try_take(self, n: float = 1.0, now: float | None = None) -> bool:
        self._refill(time.monotonic() if now is None else now)
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False

    def wait_time(self, n: float = 1.0, now: float | None = None) -> float:
        """Seconds until ``n`` tokens are available (0 if they are now)."""
        self._refill(time.monotonic() if now is None else now)
        return max(0.0, (n - self.tokens) / self.rate)

    async def take(self, n: float = 1.0) -> None:
        import asyncio

        while not self.try_take(n):
            await asyncio.sleep(self.wait_time(n))
