"""The simulator process: one aiohttp server on 127.0.0.1 for every venue's paths, and the market clock."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from wisetrader.sim.binance import BinanceFront
from wisetrader.sim.bybit import BybitFront
from wisetrader.sim.bybit_trade import BybitTrade
from wisetrader.sim.config import SimConfig
from wisetrader.sim.conn import Conn
from wisetrader.sim.exchange import Exchange, now_ms
from wisetrader.sim.okx import OkxFront
from wisetrader.sim.okx_trade import OkxTrade


class SimExchange:
    """Start with ``await sim.start()`` (or ``async with``); ``sim.rest_url``/``sim.ws_url`` are the bases."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.exchange = Exchange(self.config)
        self.binance = BinanceFront(self.config, self.exchange)
        self.bybit = BybitFront(self.config, self.exchange)
        self.okx = OkxFront(self.config, self.exchange)
        # Order entry for Bybit and OKX: their orders meet Binance's in the same books.
        self.bybit_trade = BybitTrade(self.config, self.exchange)
        self.okx_trade = OkxTrade(self.config, self.exchange)
        self.app = web.Application()
        for front in (self.binance, self.bybit, self.okx, self.bybit_trade, self.okx_trade):
            front.routes(self.app)
        self._runner: web.AppRunner | None = None
        self._clock: asyncio.Task[None] | None = None
        self.port = 0
        self.running = True  # the market clock ticks; tests may pause it to drive ticks by hand

    @property
    def rest_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}"

    def conns(self) -> list[Conn]:
        return [*self.binance.conns, *self.bybit.conns, *self.okx.conns]

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        # The OS chose the port (port 0): read it back from the listening socket.
        self.port = self._runner.addresses[0][1]
        self._clock = asyncio.get_running_loop().create_task(self._tick_forever())

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.market.tick_interval_s)
            if self.running:
                self.exchange.tick()

    def disconnect_all(self) -> None:
        """Cut every WebSocket connection (the venue going away; Binance announces it first)."""
        for conn in self.binance.conns:
            conn.send(f'{{"e":"serverShutdown","E":{now_ms()}}}')
        for conn in self.conns():
            conn.close_soon()

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for conn in self.conns():
            await conn.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> SimExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(config: SimConfig, duration_s: float | None = None) -> None:
    """Run the simulator until cancelled (or for ``duration_s``), printing where it listens."""
    async with SimExchange(config) as sim:
        print(f"sim-exchange listening: REST {sim.rest_url}  WS {sim.ws_url}", flush=True)
        print(
            f"  binance: {sim.ws_url}/stream?streams=btcusdt@depth@100ms  {sim.rest_url}/api/v3/exchangeInfo",
            flush=True,
        )
        print(
            f"  bybit:   {sim.ws_url}/v5/public/spot {sim.rest_url}/v5/market/instruments-info?category=spot",
            flush=True,
        )
        print(
            f"  okx:     {sim.ws_url}/ws/v5/public  {sim.rest_url}/api/v5/public/instruments?instType=SPOT",
            flush=True,
        )
        if duration_s is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(duration_s)
