"""The streaming engine as a service: ``python -m services.streamer [--config FILE] [--secrets FILE]
[--metrics-port N]``.

The same engine and config as ``wisetrader run`` (docs/streaming.md). Logs are JSON, one object per line
on stdout (structlog): ``started``, ``feed_health`` on every connect/disconnect, ``summary`` every
``log_every_s``, ``stopped`` with the final summary; an invalid config logs ``invalid_config`` with every
problem and exits 2 before anything starts. Prometheus metrics on ``--metrics-port`` (0: off).
SIGTERM/SIGINT stop it gracefully: feeds closed, placements drained, resting orders cancelled or kept
as the config's ``shutdown.orders`` says, the store flushed. With ``WISETRADER_API__DATABASE_URL`` set it
runs the bots of that control plane instead (``wisetrader.engine.controlled``) on the settings' bus.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import Gauge, start_http_server
from wisetrader.engine.config import ConfigError, RunConfig, load_config, resolve
from wisetrader.engine.controlled import follow_control_plane
from wisetrader.engine.persistence import StateFileError
from wisetrader.engine.recovery import ResumeError
from wisetrader.engine.run import StartError, default_state_dir, run
from wisetrader.settings import get_settings

ORDERS = Gauge("wisetrader_engine_orders", "orders sent since start (paper and live)")
OPEN_ORDERS = Gauge("wisetrader_engine_open_orders", "orders resting now")
FILLS = Gauge("wisetrader_engine_fills", "fills since start")
RISK_REJECTIONS = Gauge("wisetrader_engine_risk_rejections", "intents refused by the risk gate since start")


def configure_logging() -> structlog.typing.FilteringBoundLogger:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(default=str),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    return structlog.get_logger("streamer")  # type: ignore[no-any-return]


async def serve(
    config: RunConfig, secrets_file: Path | None, log: structlog.typing.FilteringBoundLogger
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_event(name: str, fields: dict[str, Any]) -> None:
        if name == "summary":
            ORDERS.set(fields["orders"])
            OPEN_ORDERS.set(fields["open_orders"])
            FILLS.set(fields["fills"])
            RISK_REJECTIONS.set(fields["risk_rejections"])
        log.info(name, **fields)

    result = await run(config, None, stop, secrets_file=secrets_file, on_event=on_event)
    result.store.close()
    log.info("stopped", summary=result.summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="run config YAML (default: the embedded example)")
    parser.add_argument("--secrets", type=Path, help="API keys by account (default: WISETRADER_SECRETS_FILE)")
    parser.add_argument("--metrics-port", type=int, default=0)
    # All interfaces by default: Prometheus scrapes from another container or pod.
    parser.add_argument("--metrics-addr", default="0.0.0.0")
    args = parser.parse_args()
    log = configure_logging()
    secrets_file = args.secrets if args.secrets is not None else get_settings().secrets_file
    try:
        config = load_config(args.config) if args.config else RunConfig()
        resolve(config, secrets_file)
        config.state_dir = config.state_dir or default_state_dir(args.config)
    except ConfigError as e:
        log.error("invalid_config", config=str(args.config or ""), problems=e.problems)
        raise SystemExit(2) from None
    if args.metrics_port:
        start_http_server(args.metrics_port, addr=args.metrics_addr)
    log.info("starting", metrics_port=args.metrics_port, config=str(args.config or ""))
    if get_settings().api.database_url:  # the bots are the control plane's (the API's), not --config's
        asyncio.run(follow_control_plane())
        return
    try:
        asyncio.run(serve(config, secrets_file, log))
    except (StateFileError, ResumeError) as e:  # a bad state file, or a venue that would not reconcile
        log.error("cannot_resume", problem=str(e))
        raise SystemExit(2) from None
    except StartError as e:
        log.error("start_failed", error=str(e))
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
