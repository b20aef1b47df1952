"""The streaming engine as a service: ``python -m services.streamer [--config FILE] [--metrics-port N]``.

Same engine as ``wisetrader run``; with ``WISETRADER_API__DATABASE_URL`` set it runs the bots of that
control plane instead (``wisetrader.engine.controlled``) on the settings' bus. Prometheus metrics on
``--metrics-port`` (0: off), and SIGTERM/SIGINT
stop it gracefully (feeds closed, placements drained, summary printed as one JSON line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from prometheus_client import start_http_server
from wisetrader.engine.controlled import follow_control_plane
from wisetrader.engine.run import RunConfig, run
from wisetrader.settings import get_settings


async def serve(config: RunConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    result = await run(config, None, stop)
    result.store.close()
    print(json.dumps({"event": "streamer_stopped", "summary": result.summary}, default=str), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    parser.add_argument("--metrics-port", type=int, default=0)
    # All interfaces by default: Prometheus scrapes from another container or pod.
    parser.add_argument("--metrics-addr", default="0.0.0.0")
    args = parser.parse_args()
    config = RunConfig.from_yaml(args.config) if args.config else RunConfig()
    if args.metrics_port:
        start_http_server(args.metrics_port, addr=args.metrics_addr)
    print(json.dumps({"event": "streamer_started", "metrics_port": args.metrics_port}), flush=True)
    if get_settings().api.database_url:  # the bots are the control plane's (the API's), not --config's
        asyncio.run(follow_control_plane())
        return
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
