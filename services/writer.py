"""Store writer service: bus -> ClickHouse. ``python -m services.writer [--until-idle]``.

Configuration comes from the settings (``WISETRADER_BUS``, ``WISETRADER_KAFKA_BOOTSTRAP``,
``WISETRADER_STORE_DSN``, ``WISETRADER_WRITER_*``). Logs one JSON line of stats (throughput, lag) every
``--stats-every`` seconds and serves Prometheus metrics with ``--metrics-port``; SIGTERM/SIGINT flush,
commit and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import orjson
from prometheus_client import start_http_server
from wisetrader.bus import from_settings
from wisetrader.settings import get_settings
from wisetrader.store import Store
from wisetrader.store.writer import STORED_FAMILIES, StoreWriter


async def _report(writer: StoreWriter, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        print(orjson.dumps({"event": "writer_stats", **writer.stats.as_dict()}).decode(), flush=True)


async def main(until_idle: bool, stats_every: float, metrics_port: int, metrics_addr: str) -> None:
    settings = get_settings()
    store = Store(settings.resolved_store_dsn(), settings.store_database)
    store.migrate()
    bus = from_settings(settings)
    await bus.start()
    consumer = await bus.consumer(settings.writer_group, STORED_FAMILIES)
    writer = StoreWriter(
        consumer, store, batch_rows=settings.writer_batch_rows, batch_ms=settings.writer_batch_ms
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if metrics_port:  # once the writer is up and a SIGTERM would flush and commit
        start_http_server(metrics_port, addr=metrics_addr)
    reporter = asyncio.create_task(_report(writer, stats_every))
    try:
        stats = await writer.run(stop, until_idle=until_idle)
    finally:
        reporter.cancel()
        await consumer.close()
        await bus.close()
        store.close()
    print(orjson.dumps({"event": "writer_done", **stats.as_dict()}).decode(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--until-idle", action="store_true", help="exit once the bus has nothing left")
    parser.add_argument("--stats-every", type=float, default=10.0, help="seconds between stats lines")
    parser.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics here (0: off)")
    parser.add_argument("--metrics-addr", default="0.0.0.0", help="address of the metrics endpoint")
    args = parser.parse_args()
    asyncio.run(main(args.until_idle, args.stats_every, args.metrics_port, args.metrics_addr))
    sys.exit(0)
