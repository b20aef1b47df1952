"""Binance REST depth snapshots for the book sync, with bounded retries and rate-limit answers honoured."""

from __future__ import annotations

import asyncio
import time

import aiohttp


class SnapshotError(Exception):
    """The snapshot could not be fetched within the retry budget."""


class BannedError(SnapshotError):
    """HTTP 418: the IP is banned; retrying only lengthens the ban."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"IP banned by the venue for {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


async def fetch_binance_depth(
    http: aiohttp.ClientSession,
    rest_base: str,
    symbol: str,
    limit: int = 1000,
    attempts: int = 5,
    backoff_s: float = 0.25,
    max_backoff_s: float = 3.0,
    timeout_s: float = 10.0,
) -> tuple[int, bytes]:
    """``(recv_ns, raw body)`` of ``GET /api/v3/depth``; the body goes to the core as bytes, unparsed.

    5xx, timeouts and connection errors are retried with doubling backoff (``attempts`` in all); a 429
    waits for its ``Retry-After``; a 418 raises :class:`BannedError` at once.
    """
    url = f"{rest_base}/api/v3/depth"
    params = {"symbol": symbol.upper(), "limit": str(limit)}
    delay = backoff_s
    last = ""
    for _ in range(attempts):
        try:
            async with http.get(url, params=params, timeout=aiohttp.ClientTimeout(total=timeout_s)) as r:
                body = await r.read()
                recv_ns = time.time_ns()
                if r.status == 200:
                    return recv_ns, body
                retry_after = float(r.headers.get("Retry-After", "0") or 0)
                if r.status == 418:
                    raise BannedError(retry_after)
                last = f"HTTP {r.status}: {body[:200]!r}"
                if r.status == 429:
                    await asyncio.sleep(retry_after)
                    continue
                if r.status < 500:
                    raise SnapshotError(f"{symbol}: {last}")
        except (aiohttp.ClientError, TimeoutError) as e:
            last = f"{type(e).__name__}: {e}"
        await asyncio.sleep(delay)
        delay = min(max_backoff_s, delay * 2)
    raise SnapshotError(f"{symbol}: no snapshot after {attempts} attempts ({last})")
