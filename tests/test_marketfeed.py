"""Feed -> Rust core against the simulator: every venue's book in sync, and resyncs served after faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from simutil import busy_config
from wisetrader._core import Changes
from wisetrader.engine.marketfeed import FeedInstrument, MarketFeed
from wisetrader.sim import SimExchange
from wisetrader.sim.matching import Side
from wisetrader.venues import venue_protocol

PATHS = {"binance": "", "bybit": "/v5/public/spot", "okx": "/ws/v5/public"}


async def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


class Seen:
    def __init__(self) -> None:
        self.tops = 0
        self.trades = 0
        self.requests: list[tuple[str, str]] = []

    def __call__(self, changes: Changes) -> None:
        self.tops += len(changes.tops)
        self.trades += len(changes.trades)
        self.requests += [(kind, reason) for _, _, kind, reason in changes.requests]


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
@pytest.mark.parametrize("drop", [0.0, 0.1])
async def test_core_books_match_the_simulator(venue: str, drop: float) -> None:
    config = busy_config()
    config.faults.drop_diff_prob = drop
    async with SimExchange(config) as sim, aiohttp.ClientSession() as http:
        protocol = venue_protocol(venue, ws_base=f"{sim.ws_url}{PATHS[venue]}", rest_base=sim.rest_url)
        symbol = "BTC-USDT" if venue == "okx" else "BTCUSDT"
        seen = Seen()
        feed = MarketFeed(protocol, [FeedInstrument(symbol, "0.01", "0.00001")], seen, http)
        task = asyncio.create_task(feed.run())
        try:
            await _until(lambda: seen.tops > 20 and seen.trades > 0)
            if drop:  # a dropped diff is a gap: the core asks, the feed serves, the book comes back
                await _until(lambda: any(reason == "gap" for _, reason in seen.requests))
                await _until(lambda: feed.md.state(symbol)[0] == "synced")
            expected = "snapshot" if venue == "binance" else "resubscribe"
            assert {kind for kind, _ in seen.requests} <= {expected}
            sim.running = False  # freeze the market and let the last frames arrive
            sim.config.faults.drop_diff_prob = 0.0
            sim.exchange.tick()  # one more diff, never dropped: any gap just before the freeze shows now
            book = sim.exchange.markets["BTCUSDT"].book
            want = (book.levels(Side.BUY, 5), book.levels(Side.SELL, 5))

            def same() -> bool:
                bids, asks = feed.md.top_ticks(symbol, 5)
                return feed.md.state(symbol)[0] == "synced" and (bids, asks) == (
                    [(p, q) for p, q, _ in want[0]],
                    [(p, q) for p, q, _ in want[1]],
                )

            await _until(same)
        finally:
            feed.stop()
            await asyncio.wait_for(task, 5)


async def test_book_state_changes_are_reported_and_counted_as_metrics() -> None:
    """Feed health as events (every sync-state change, with its reason) and as Prometheus metrics."""
    from prometheus_client import REGISTRY

    config = busy_config()
    config.faults.drop_diff_prob = 0.2
    states: list[tuple[str, str, str | None]] = []

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    gaps_before = sample("wisetrader_book_resyncs_total", venue="binance", reason="gap")
    async with SimExchange(config) as sim, aiohttp.ClientSession() as http:
        protocol = venue_protocol("binance", ws_base=sim.ws_url, rest_base=sim.rest_url)
        feed = MarketFeed(
            protocol,
            [FeedInstrument("BTCUSDT", "0.01", "0.00001")],
            Seen(),
            http,
            on_book_state=lambda symbol, state, reason: states.append((symbol, state, reason)),
        )
        task = asyncio.create_task(feed.run())
        try:
            await _until(lambda: ("BTCUSDT", "out_of_sync", "gap") in states)
            await _until(lambda: states[-1][1] == "synced")
            assert sample("wisetrader_book_synced", venue="binance", symbol="BTCUSDT") == 1.0
            assert sample("wisetrader_book_resyncs_total", venue="binance", reason="gap") > gaps_before
            labels = {"venue": "binance", "feed": "binance"}
            age = REGISTRY.get_sample_value("wisetrader_feed_last_frame_age_seconds", labels)
            assert age is not None and age >= 0.0
        finally:
            feed.stop()
            await asyncio.wait_for(task, 5)
    assert states[0][1] in ("waiting_for_snapshot", "synced")
