"""``wisetrader sim-exchange``: run the simulator in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from wisetrader.sim.config import SimConfig
from wisetrader.sim.server import serve


def run_sim_exchange(config_path: Path | None, port: int | None, duration: float | None) -> None:
    from wisetrader.settings import get_settings

    settings = get_settings()
    config = SimConfig.from_yaml(config_path) if config_path else SimConfig(seed=settings.sim_seed)
    config.port = port if port is not None else (config.port or settings.sim_port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, duration))
