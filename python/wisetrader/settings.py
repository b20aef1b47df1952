"""The one typed settings object: environment variables ``WISETRADER_*``, each with an embedded default.

Every concern adds its options here, grouped by a comment, so that one place lists everything a user can
set. Nested values use ``__`` in the environment (e.g. ``WISETRADER_RISK__MAX_OPEN_ORDERS``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseModel):
    """HTTP API and control plane (``WISETRADER_API__*``)."""

    host: str = Field(default="127.0.0.1", description="address `wisetrader api` listens on")
    port: int = Field(default=8000, description="port `wisetrader api` listens on")
    database_url: str = Field(default="", description="control-plane DB; empty = SQLite file in data_dir")
    jwt_secret: str = Field(default="", description="HMAC secret for JWTs; empty = generated per process")
    access_token_seconds: int = Field(default=900, description="lifetime of an access token")
    refresh_token_seconds: int = Field(default=14 * 86400, description="lifetime of a refresh token")
    master_keys: str = Field(default="", description="id:base64 AES-256 master keys, first is current")
    master_key_file: Path | None = Field(default=None, description="file holding master keys (same format)")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS")
    max_body_bytes: int = Field(default=64 * 1024, description="largest accepted request body")
    rate_per_user: int = Field(default=300, description="requests per minute per user")
    rate_per_ip: int = Field(default=600, description="requests per minute per client address")
    risk_disclosure_version: str = Field(default="2026-11", description="current risk disclosure version")
    # Exchange keys are checked on entry against the venue (keys that can withdraw are refused); an empty
    # URL leaves that venue's keys unchecked.
    binance_key_check_url: str = Field(
        default="https://api.binance.com", description="Binance REST base URL for the key check"
    )
    simulator_key_check_url: str = Field(default="", description="simulator REST base URL for the key check")
    key_check_timeout_s: float = Field(default=10.0, gt=0, description="time allowed for the key check")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WISETRADER_", env_nested_delimiter="__", extra="ignore")

    # Where embedded state lives (store data, control-plane SQLite, bot state).
    data_dir: Path = Field(default=Path("var"), description="directory for embedded state")

    # HTTP API and control plane.
    api: ApiSettings = Field(default_factory=ApiSettings)

    # Market data (Rust core): bound of each Binance pre-snapshot buffer, bytes per chunk on replay.
    marketdata_buffer_limit: int = Field(default=10_000, ge=1, description="diffs buffered per symbol")
    replay_chunk_bytes: int = Field(default=1 << 20, ge=1, description="bytes per feed_lines call on replay")

    # Event bus (wisetrader.bus): in-process by default, Kafka when it grows.
    bus: Literal["inprocess", "kafka"] = Field(default="inprocess", description="event bus backend")
    inprocess_queue_size: int = Field(default=65_536, ge=1, description="per consumer group and family")
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    kafka_topic_prefix: str = Field(default="wisetrader", description="topics are <prefix>.<family>")

    # Analytics store (wisetrader.store): ClickHouse, embedded chDB unless a server DSN is given.
    store_dsn: str = Field(
        default="", description="chdb://PATH or http(s)://host:port; empty: chdb under data_dir"
    )
    store_database: str = Field(default="wisetrader", description="ClickHouse database")
    writer_group: str = Field(default="store-writer", description="consumer group of the store writer")
    writer_batch_rows: int = Field(
        default=10_000, ge=1, description="insert when this many events are buffered"
    )
    writer_batch_ms: int = Field(
        default=500, ge=1, description="or when the oldest buffered event is this old"
    )

    # Streaming engine: feeds, execution and the local exchange simulator (issue 5).
    feed_stale_after_s: float = Field(default=30.0, description="reconnect a feed silent for this long")
    feed_backoff_max_s: float = Field(default=30.0, description="cap of the jittered reconnect backoff")
    exchange_testnet: bool = Field(default=False, description="use the venues' testnet/demo endpoints")
    exchange_rest_base: str | None = Field(default=None, description="override the venue REST base URL")
    exchange_ws_base: str | None = Field(default=None, description="override the venue WebSocket base URL")
    reconcile_interval_s: float = Field(default=30.0, description="period of the order reconciliation loop")
    secrets_file: Path | None = Field(
        default=None, description="YAML file of exchange API keys by account (`wisetrader run`, streamer)"
    )
    sim_port: int = Field(default=0, description="port of `wisetrader sim-exchange` (0: any free port)")
    sim_seed: int = Field(default=7, description="seed of the simulator's price process and faults")

    def resolved_store_dsn(self) -> str:
        return self.store_dsn or f"chdb://{(self.data_dir / 'clickhouse').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
