"""Engine and sessions for the control-plane database, and schema upgrades through Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from wisetrader.controlplane.sqlite import one_trip_dbapi

MIGRATIONS = Path(__file__).parent / "migrations"


def default_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'controlplane.db'}"


# Connections kept open in the pool. Beyond the pool, SQLAlchemy opens an overflow connection per checkout
# and closes it on return: with the default of 5, an API under 32 concurrent requests opened (and, for
# SQLite, started a thread for) a new connection for most requests.
POOL_SIZE = 20


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    memory = sqlite and parsed.database in (None, "", ":memory:")  # one shared connection (StaticPool)
    if "poolclass" not in kwargs and not memory:
        kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("json_deserializer", orjson.loads)  # JSON columns (bot configs): same values, faster
    if sqlite:
        if parsed.database and not memory and not parsed.database.startswith("file:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.get_driver_name() == "aiosqlite":
            kwargs.setdefault("module", one_trip_dbapi())
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite enforces foreign keys (and so ON DELETE CASCADE) only when asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead log: readers never wait for a writer, nor a writer for readers (a file database only;
    # ":memory:" answers "memory" and stays as it is). It persists in the file; synchronous stays FULL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _upgrade(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest Alembic revision."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
