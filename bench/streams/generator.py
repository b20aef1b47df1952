"""Seeded, reproducible diff-depth streams in each venue's wire format, shaped like the real recordings.

A small book model (integer ticks and lots) evolves frame by frame. Each frame draws its number of level
updates, and each update its side, its distance from the side's best, and whether it deletes a level, adds
a new price, or changes an existing one, from the venue's calibrated ``Profile`` (see ``calibration``).
The first message is the snapshot (REST body for Binance, ``snapshot`` push for Bybit and OKX); the rest
are deltas that chain by the venue's sequence rules. The same seed gives the same bytes.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import orjson

from bench.streams.calibration import Profile
from bench.streams.venues import VENUES, Level, SeqState, Venue

PROFILES_PATH = Path(__file__).with_name("profiles.json")
MIN_LEVELS = 50  # a side never shrinks below this: deletes turn into inserts
FRAME_INTERVAL_MS = 100


@cache
def load_profile(venue: str) -> Profile:
    """The committed calibration of ``venue`` (``python -m bench calibrate`` rewrites it)."""
    raw = orjson.loads(PROFILES_PATH.read_bytes())
    return Profile.from_json(raw[venue])


class _Sampler:
    """Inverse-CDF sampling from a quantile table, linear between its points."""

    def __init__(self, table: tuple[float, ...], rng: random.Random) -> None:
        self.table = table
        self.steps = len(table) - 1
        self.rng = rng

    def __call__(self) -> float:
        pos = self.rng.random() * self.steps
        i = int(pos)
        lo = self.table[i]
        return lo + (self.table[min(i + 1, self.steps)] - lo) * (pos - i)


class _Side:
    """One side of the model book: sorted ticks plus quantities; ``sign`` turns distance into price."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.ticks: list[int] = []  # ascending
        self.qty: dict[int, int] = {}

    def best(self) -> int:
        return self.ticks[-1] if self.is_bid else self.ticks[0]

    def price_at(self, best: int, distance: int) -> int:
        return best - distance if self.is_bid else best + distance

    def nearest(self, price: int) -> int:
        i = bisect.bisect_left(self.ticks, price)
        if i == len(self.ticks):
            return self.ticks[-1]
        if i > 0 and price - self.ticks[i - 1] < self.ticks[i] - price:
            return self.ticks[i - 1]
        return self.ticks[i]

    def set(self, price: int, lots: int) -> None:
        if price not in self.qty:
            bisect.insort(self.ticks, price)
        self.qty[price] = lots

    def delete(self, price: int) -> None:
        del self.qty[price]
        self.ticks.pop(bisect.bisect_left(self.ticks, price))


class StreamGenerator:
    """Generates the frames of one synthetic instrument on ``venue``."""

    def __init__(self, venue: str, seed: int = 1) -> None:
        self.venue: Venue = VENUES[venue]
        self.profile = load_profile(venue)
        self.rng = random.Random(seed)
        self.levels = _Sampler(self.profile.levels_per_frame, self.rng)
        self.distance = _Sampler(self.profile.distance_ticks, self.rng)
        self.bids = _Side(True)
        self.asks = _Side(False)
        self.seq = SeqState(self.venue.start_id, 1_700_000_000_000)
        # Levels are spread so that about 50 of them lie within the typical (p75) update distance.
        p75 = self.profile.distance_ticks[len(self.profile.distance_ticks) * 3 // 4]
        self.mean_gap = max(1.0, p75 / 50)

    def _lots(self) -> int:
        return int(self.rng.lognormvariate(8.0, 2.0)) + 1

    def _initial_book(self) -> None:
        mid = self.venue.instrument.start_price_ticks
        for side, direction in ((self.bids, -1), (self.asks, 1)):
            price = mid + direction
            for _ in range(self.venue.snapshot_depth):
                side.set(price, self._lots())
                price += direction * max(1, round(self.rng.expovariate(1 / self.mean_gap)))

    def snapshot(self) -> bytes:
        self._initial_book()
        bids = [(p, self.bids.qty[p]) for p in reversed(self.bids.ticks)]
        asks = [(p, self.asks.qty[p]) for p in self.asks.ticks]
        return self.venue.encode(self.venue.instrument, self.seq, bids, asks, True)

    @staticmethod
    def _untouched(side: _Side, target: int, out: dict[int, int]) -> int | None:
        """The level nearest ``target`` not yet changed in this frame, searching outward from the top."""
        price = side.nearest(target)
        if price not in out:
            return price
        i = bisect.bisect_left(side.ticks, price)
        step = -1 if side.is_bid else 1
        while 0 <= i < len(side.ticks) and side.ticks[i] in out:
            i += step
        return side.ticks[i] if 0 <= i < len(side.ticks) else None

    def _update(self, side: _Side, other: _Side, best: int, out: dict[int, int]) -> None:
        rng = self.rng
        distance = round(self.distance())
        target = side.price_at(best, distance)
        roll = rng.random()
        if roll < self.profile.absent_delete_share and distance >= 0:
            # A delete of a price the book does not hold: normal on every venue, and books must ignore it.
            price = target
            while price in side.qty or price in out:
                price += -1 if side.is_bid else 1
            out[price] = 0
            return
        if roll < self.profile.delete_share and len(side.ticks) > MIN_LEVELS and distance >= 0:
            found = self._untouched(side, target, out)
            if found is None:
                return
            price = found
            side.delete(price)
            out[price] = 0
            return
        # A price better than the best is new by definition: it improves the top.
        if roll < self.profile.delete_share + self.profile.insert_share or distance < 0:
            price = target
            while price in side.qty:
                price += 1 if rng.random() < 0.5 else -1
        else:
            found = self._untouched(side, target, out)
            if found is None:
                return
            price = found
        # Never cross the book: a bid stays below the best ask and an ask above the best bid.
        opposite = other.best()
        if side.is_bid and price >= opposite:
            price = opposite - 1
        elif not side.is_bid and price <= opposite:
            price = opposite + 1
        lots = self._lots()
        side.set(price, lots)
        out[price] = lots

    def delta(self) -> bytes:
        n = max(1, round(self.levels()))
        bid_out: dict[int, int] = {}
        ask_out: dict[int, int] = {}
        best_bid, best_ask = self.bids.best(), self.asks.best()
        # A frame carries each price once, so draw until n distinct prices changed (bounded retries).
        for _ in range(3 * n):
            if len(bid_out) + len(ask_out) >= n:
                break
            if self.rng.random() < self.profile.bid_share:
                self._update(self.bids, self.asks, best_bid, bid_out)
            else:
                self._update(self.asks, self.bids, best_ask, ask_out)
        self.seq.time_ms += FRAME_INTERVAL_MS
        bids: list[Level] = sorted(bid_out.items(), reverse=True)
        asks: list[Level] = sorted(ask_out.items())
        return self.venue.encode(self.venue.instrument, self.seq, bids, asks, False)

    def frames(self, n: int) -> Iterator[bytes]:
        """The snapshot, then ``n`` deltas."""
        yield self.snapshot()
        for _ in range(n):
            yield self.delta()


def generate(venue: str, n: int, seed: int = 1) -> Iterator[bytes]:
    """The snapshot of a synthetic ``venue`` book followed by ``n`` diff frames."""
    return StreamGenerator(venue, seed).frames(n)


def write_stream(path: Path, venue: str, n: int, seed: int = 1) -> Path:
    """Write a stream in the recording format (``<recv_ns> <payload>`` per line), streaming to disk."""
    recv_ns = 1_700_000_000_000_000_000
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("wb") as fh:
        for i, frame in enumerate(generate(venue, n, seed)):
            fh.write(b"%d %s\n" % (recv_ns + i * FRAME_INTERVAL_MS * 1_000_000, frame))
    tmp.replace(path)
    return path
