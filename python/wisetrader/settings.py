"""The one typed settings object: environment variables ``WISETRADER_*``, each with an embedded default.

Every concern adds its options here, grouped by a comment, so that one place lists everything a user can
set. Nested values use ``__`` in the environment (e.g. ``WISETRADER_RISK__MAX_OPEN_ORDERS``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WISETRADER_", env_nested_delimiter="__", extra="ignore")

    # Where embedded state lives (store data, control-plane SQLite, bot state).
    data_dir: Path = Field(default=Path("var"), description="directory for embedded state")

    # Streaming engine: feeds, execution and the local exchange simulator (issue 5).
    feed_stale_after_s: float = Field(default=30.0, description="reconnect a feed silent for this long")
    feed_backoff_max_s: float = Field(default=30.0, description="cap of the jittered reconnect backoff")
    exchange_testnet: bool = Field(default=False, description="use the venues' testnet/demo endpoints")
    exchange_rest_base: str | None = Field(default=None, description="override the venue REST base URL")
    exchange_ws_base: str | None = Field(default=None, description="override the venue WebSocket base URL")
    reconcile_interval_s: float = Field(default=30.0, description="period of the order reconciliation loop")
    sim_port: int = Field(default=0, description="port of `wisetrader sim-exchange` (0: any free port)")
    sim_seed: int = Field(default=7, description="seed of the simulator's price process and faults")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
