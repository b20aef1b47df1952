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

    # Market data (Rust core): bound of each Binance pre-snapshot buffer, frames per batch on replay.
    marketdata_buffer_limit: int = Field(default=10_000, ge=1, description="diffs buffered per symbol")
    replay_batch_size: int = Field(default=4096, ge=1, description="frames per feed_batch call on replay")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
