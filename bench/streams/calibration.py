"""Measure the shape of a diff-depth stream: the numbers the generator is calibrated on.

The same function measures a real recording and a generated stream, so "the generator looks like the
real data" is a direct comparison of two ``StreamStats``. Prices are compared in ticks of the book's own
price grid (inferred from the decimal strings), which is what matters to a book structure: how many
levels lie between an update and the top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from bench.streams.venues import VENUES, BookMessage, parse_book_message

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class StreamStats:
    """Shape of the incremental book messages of one stream (snapshots excluded)."""

    frames: int
    levels_per_frame_mean: float
    levels_per_frame_quantiles: tuple[float, ...]  # at QUANTILES
    distance_ticks_quantiles: tuple[float, ...]  # distance of an update from its side's best, at QUANTILES
    inside_spread_share: float  # updates that improve on the best (negative distance)
    delete_share: float  # updates with quantity zero
    absent_delete_share: float  # deletes of a price the book did not hold (normal on every venue)
    insert_share: float  # updates that add a price the book did not hold
    bid_share: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def quantiles(values: list[float], qs: tuple[float, ...] = QUANTILES) -> tuple[float, ...]:
    """Nearest-rank quantiles of ``values`` (no interpolation: the values are small integers)."""
    if not values:
        return tuple(0.0 for _ in qs)
    ordered = sorted(values)
    last = len(ordered) - 1
    return tuple(float(ordered[min(last, int(q * len(ordered)))]) for q in qs)


def _tick_of(book: dict[Decimal, Decimal]) -> Decimal:
    """The price grid of a book: 10^-d for the largest number of significant decimals seen."""
    decimals = max((-int(p.normalize().as_tuple().exponent) for p in book), default=0)
    return Decimal(1).scaleb(-max(0, decimals))


@dataclass
class Samples:
    """Raw per-frame and per-update observations, poolable across books."""

    per_frame: list[float] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)
    inside: int = 0
    deletes: int = 0
    absent_deletes: int = 0
    inserts: int = 0
    bid_updates: int = 0
    total: int = 0

    def extend(self, other: Samples) -> None:
        self.per_frame += other.per_frame
        self.distances += other.distances
        self.inside += other.inside
        self.deletes += other.deletes
        self.absent_deletes += other.absent_deletes
        self.inserts += other.inserts
        self.bid_updates += other.bid_updates
        self.total += other.total

    def stats(self) -> StreamStats:
        n = max(self.total, 1)
        return StreamStats(
            frames=len(self.per_frame),
            levels_per_frame_mean=sum(self.per_frame) / max(len(self.per_frame), 1),
            levels_per_frame_quantiles=quantiles(self.per_frame),
            distance_ticks_quantiles=quantiles(self.distances),
            inside_spread_share=self.inside / n,
            delete_share=self.deletes / n,
            absent_delete_share=self.absent_deletes / n,
            insert_share=self.inserts / n,
            bid_share=self.bid_updates / n,
        )


def collect(messages: Iterable[BookMessage]) -> Samples:
    """Observe the updates that follow the first snapshot (updates before it cannot be placed)."""
    out = Samples()
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    tick = Decimal(1)
    synced = False
    for msg in messages:
        if msg.snapshot:
            bids = {Decimal(p): Decimal(q) for p, q in msg.bids}
            asks = {Decimal(p): Decimal(q) for p, q in msg.asks}
            tick = min(_tick_of(bids), _tick_of(asks))
            synced = True
            continue
        if not synced:
            continue
        out.per_frame.append(float(len(msg.bids) + len(msg.asks)))
        best_bid = max(bids, default=None)
        best_ask = min(asks, default=None)
        for side, levels, best in ((bids, msg.bids, best_bid), (asks, msg.asks, best_ask)):
            is_bid = side is bids
            for p_str, q_str in levels:
                price, qty = Decimal(p_str), Decimal(q_str)
                out.total += 1
                out.bid_updates += is_bid
                if best is not None:
                    distance = float(((best - price) if is_bid else (price - best)) / tick)
                    out.distances.append(distance)
                    out.inside += distance < 0
                if qty == 0:
                    out.deletes += 1
                    out.absent_deletes += side.pop(price, None) is None
                else:
                    out.inserts += price not in side
                    side[price] = qty
    return out


def measure(messages: Iterable[BookMessage]) -> StreamStats:
    return collect(messages).stats()


def read_recording(path: Path) -> Iterator[bytes]:
    """Payloads of a ``<recv_ns> <payload>`` recording, in order."""
    with path.open("rb") as fh:
        for line in fh:
            _, _, payload = line.rstrip(b"\n").partition(b" ")
            if payload:
                yield payload


def book_messages(venue: str, payloads: Iterable[bytes]) -> Iterator[BookMessage]:
    for payload in payloads:
        msg = parse_book_message(venue, orjson.loads(payload))
        if msg is not None:
            yield msg


def recorded_samples(root: Path, venue: str) -> Samples:
    """Samples pooled over every recording of ``venue`` under ``root`` (one book per file)."""
    pooled = Samples()
    for path in sorted((root / VENUES[venue].recording_folder).glob("*.rec")):
        pooled.extend(collect(book_messages(venue, read_recording(path))))
    return pooled


@dataclass(frozen=True)
class Profile:
    """What the generator draws from: fine inverse-CDF tables plus the shares, measured on recordings."""

    calibrated_on: str
    levels_per_frame: tuple[float, ...]  # at PROFILE_QUANTILES
    distance_ticks: tuple[float, ...]  # at PROFILE_QUANTILES
    delete_share: float
    absent_delete_share: float
    insert_share: float
    bid_share: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Profile:
        def floats(key: str) -> tuple[float, ...]:
            value = raw[key]
            assert isinstance(value, list)
            return tuple(float(v) for v in value)

        return cls(
            calibrated_on=str(raw["calibrated_on"]),
            levels_per_frame=floats("levels_per_frame"),
            distance_ticks=floats("distance_ticks"),
            delete_share=float(str(raw["delete_share"])),
            absent_delete_share=float(str(raw["absent_delete_share"])),
            insert_share=float(str(raw["insert_share"])),
            bid_share=float(str(raw["bid_share"])),
        )


PROFILE_QUANTILES = tuple(i / 40 for i in range(41))


def calibrate(root: Path, venue: str) -> Profile:
    """The generator profile of ``venue`` from the recordings under ``root``."""
    source = VENUES[venue].calibrated_on
    samples = recorded_samples(root, source)
    stats = samples.stats()
    return Profile(
        calibrated_on=source,
        levels_per_frame=_fine_quantiles(samples.per_frame),
        distance_ticks=_fine_quantiles(samples.distances),
        delete_share=round(stats.delete_share, 4),
        absent_delete_share=round(stats.absent_delete_share, 4),
        insert_share=round(stats.insert_share, 4),
        bid_share=round(stats.bid_share, 4),
    )


def _fine_quantiles(values: list[float]) -> tuple[float, ...]:
    """Linear-interpolated quantiles at PROFILE_QUANTILES (the generator interpolates between them)."""
    ordered = sorted(values)
    last = len(ordered) - 1
    out = []
    for q in PROFILE_QUANTILES:
        pos = q * last
        lo = int(pos)
        hi = min(lo + 1, last)
        out.append(round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 3))
    return tuple(out)


def calibrate_all(root: Path) -> dict[str, dict[str, object]]:
    """Every venue's profile, as written to ``bench/streams/profiles.json``."""
    return {venue: calibrate(root, venue).to_json() for venue in VENUES}
