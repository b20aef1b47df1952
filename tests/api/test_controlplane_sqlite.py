"""The embedded control plane's SQLite adapter: one trip to the database thread per statement, none for a
commit or rollback with nothing to end, and the same results, row counts and transactions as before."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from wisetrader.controlplane.db import make_engine, migrate, sessionmaker
from wisetrader.controlplane.models import User

pytestmark = pytest.mark.service


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cp.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every call handed to an aiosqlite worker thread, by function name."""
    seen: Counter[str] = Counter()
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen[getattr(fn, "__name__", repr(fn))] += 1
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_read_is_one_trip_and_closing_its_session_none(
    sqlite: AsyncEngine, trips: Counter[str]
) -> None:
    sessions = sessionmaker(sqlite)
    async with sessions() as s:
        s.add(User(email="ann@example.com", password_hash="x"))
        await s.commit()
    async with sessions() as s:  # the pool's connection is open now: only statements travel
        trips.clear()
        user = await s.scalar(select(User).where(User.email == "ann@example.com"))
        assert user is not None and user.email == "ann@example.com" and user.id >= 1
    assert trips == Counter({"_run": 1})


async def test_writes_keep_row_counts_ids_and_transactions(sqlite: AsyncEngine) -> None:
    sessions = sessionmaker(sqlite)
    async with sessions() as s:
        s.add_all([User(email=f"u{i}@example.com", password_hash="x") for i in range(3)])
        await s.commit()
        ids = sorted((await s.scalars(select(User.id))).all())
        assert len(ids) == 3 and len(set(ids)) == 3
        done = await s.execute(update(User).where(User.id.in_(ids[:2])).values(role="provider"))
        assert done.rowcount == 2  # type: ignore[attr-defined]
        await s.commit()
    async with sessions() as s:  # an uncommitted write is rolled back when its session closes
        await s.execute(insert(User), [{"email": "gone@example.com", "password_hash": "x"}])
        assert await s.scalar(select(func.count()).select_from(User)) == 4
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 3
        roles = (await s.execute(select(User.role).order_by(User.id))).scalars().all()
        assert roles == ["provider", "provider", "user"]
        s.add(User(email="u0@example.com", password_hash="x"))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_file_database_runs_in_wal_mode(sqlite: AsyncEngine) -> None:
    async with sqlite.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_memory_database_keeps_its_single_connection_pool(url: str) -> None:
    engine = make_engine(url)  # a pool size would be refused by the single-connection pool
    try:
        await migrate(engine)
        async with sessionmaker(engine)() as s:
            s.add(User(email="ann@example.com", password_hash="x"))
            await s.commit()
        async with sessionmaker(engine)() as s:  # the same in-memory database, through the same connection
            assert await s.scalar(select(func.count()).select_from(User)) == 1
    finally:
        await engine.dispose()


async def test_a_write_cancelled_in_flight_is_still_rolled_back(tmp_path: Path) -> None:
    # One pooled connection: the next session gets it, or its replacement if the cancelled one was dropped.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cp.db'}", pool_size=1, max_overflow=0)
    await migrate(engine)
    # An insert that takes a while in the database thread: it selects over a large recursive series.
    slow = text(
        "INSERT INTO users (email, password_hash, role, totp_enabled, disabled, created_at) "
        "SELECT 'slow@example.com', 'x', 'user', 0, 0, '2026-01-01 00:00:00' "
        "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT max(i) FROM n)"
    )

    async def write() -> None:
        async with sessionmaker(engine)() as s:
            await s.execute(slow)
            await s.commit()

    try:
        task = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with sessionmaker(engine)() as s:  # the insert ran to its end in the thread, uncommitted
            assert await s.scalar(select(func.count()).select_from(User)) == 0
    finally:
        await engine.dispose()
