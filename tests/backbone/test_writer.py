"""The store writer: batching, a broker restart mid-stream, and a crash between insert and commit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from prometheus_client import REGISTRY
from wisetrader.bus import InProcessBus
from wisetrader.bus.kafka import KafkaBus
from wisetrader.devtools.kafka import KafkaBroker
from wisetrader.store import Store
from wisetrader.store.writer import STORED_FAMILIES, StoreWriter

from .support import make_fill, make_top

REPO = Path(__file__).parents[2]


async def test_batches_by_size_then_by_time(store: Store) -> None:
    bus = InProcessBus()
    consumer = await bus.consumer("w", STORED_FAMILIES)
    writer = StoreWriter(consumer, store, batch_rows=100, batch_ms=3_600_000, group=store.database)
    for i in range(250):
        bus.publish_nowait(make_fill(i) if i % 2 else make_top(i, "BTCUSDT"))
    for _ in range(3):
        await writer.step()
    # Two full batches went in; 50 events wait for the (one hour) timer.
    assert writer.stats.batches == 2 and writer.stats.rows == 200
    assert store.count("fills") + store.count("book_tops") == 200

    writer.batch_ms = 20
    for _ in range(200):
        if writer.stats.batches == 3:
            break
        await writer.step()
    assert writer.stats.rows == 250 and store.count("fills") == 125 and store.count("book_tops") == 125
    assert await writer.refresh_lag() == 0 == writer.stats.lag
    # The same figures are Prometheus metrics.
    for table in ("fills", "book_tops"):
        assert (
            REGISTRY.get_sample_value(
                "wisetrader_writer_rows_total", {"group": store.database, "table": table}
            )
            == 125
        )
    assert REGISTRY.get_sample_value("wisetrader_writer_lag", {"group": store.database}) == 0


@pytest.fixture
async def restartable(kafka_broker: KafkaBroker | None) -> AsyncIterator[KafkaBroker]:
    """A broker this test may stop and start: the session's own, or a private one beside an external one."""
    if kafka_broker is not None:
        yield kafka_broker
        kafka_broker.start()  # whatever happened in the test, leave it running for the others
        return
    broker = KafkaBroker()
    await asyncio.to_thread(broker.start)
    yield broker
    broker.cleanup()


async def test_broker_restart_mid_stream_loses_nothing_and_duplicates_are_absorbed(
    restartable: KafkaBroker, topic_prefix: str, store: Store
) -> None:
    bus = KafkaBus(restartable.bootstrap, topic_prefix=topic_prefix)
    await bus.ensure_topics(partitions=3)
    await bus.start()
    consumer = await bus.consumer("writer", STORED_FAMILIES, session_timeout_ms=6000)
    writer = StoreWriter(consumer, store, batch_rows=40, batch_ms=100)
    stop = asyncio.Event()
    running = asyncio.create_task(writer.run(stop))
    fills = [make_fill(i, symbol=f"S{i % 5}USDT") for i in range(300)]
    try:
        for f in fills[:100]:
            await bus.publish(f)
        await bus.flush()
        await asyncio.to_thread(restartable.stop)
        for f in fills[100:200]:  # buffered by the producer while the broker is down
            await bus.publish(f)
        await asyncio.to_thread(restartable.start)
        for f in fills[200:]:
            await bus.publish(f)
        for f in fills[:50]:  # an application-level re-send: the store must absorb it
            await bus.publish(f)
        await asyncio.wait_for(bus.flush(), 60)
        deadline = time.monotonic() + 60
        while writer.stats.events < 350 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running
        await consumer.close()
        await bus.close()
    assert bus.stats()["send_errors"] == 0
    assert writer.stats.events >= 350
    assert store.count("fills") == 300 == store.count("fills", final=True)
    stored = {r["trade_id"] for r in store.fills().to_pylist()}
    assert stored == {f.trade_id for f in fills}
    assert writer.stats.duplicates >= 50


CRASHING_WRITER = """
import asyncio, os, signal, sys
from wisetrader.bus.kafka import KafkaBus
from wisetrader.store import Store
from wisetrader.store.writer import STORED_FAMILIES, StoreWriter

def crash(rows: int) -> None:
    print(rows, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # after the insert, before the commit

async def main() -> None:
    bootstrap, prefix, dsn = sys.argv[1:4]
    store = Store(dsn, "wisetrader")
    store.migrate()
    bus = KafkaBus(bootstrap, topic_prefix=prefix)
    # A short session so the restarted writer's group does not wait long for this dead member.
    consumer = await bus.consumer("store-writer", STORED_FAMILIES, session_timeout_ms=1500)
    await StoreWriter(consumer, store, batch_rows=10_000, batch_ms=1500, after_insert=crash).run()

asyncio.run(main())
"""

COUNT_FILLS = """
import sys
from wisetrader.store import Store
store = Store(sys.argv[1], "wisetrader")
trade_ids = {r["trade_id"] for r in store.fills().to_pylist()}
print(store.count("fills"), store.count("fills", final=True), len(trade_ids))
"""


def _python(code_or_module: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_module],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_writer_crash_between_insert_and_commit_leaves_no_duplicate_fill(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    await kafka_bus.ensure_topics(partitions=3)
    fills = [make_fill(i, symbol=f"S{i % 4}USDT") for i in range(500)]
    for f in fills:
        await kafka_bus.publish(f)
    await kafka_bus.flush()
    dsn = f"chdb://{tmp_path / 'store'}"

    crashed = await asyncio.to_thread(
        _python, ["-c", textwrap.dedent(CRASHING_WRITER), kafka_bootstrap, topic_prefix, dsn]
    )
    assert crashed.returncode == -9, crashed.stderr
    inserted_before_crash = int(crashed.stdout.split()[0])
    assert inserted_before_crash > 0

    env = {
        "WISETRADER_BUS": "kafka",
        "WISETRADER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WISETRADER_KAFKA_TOPIC_PREFIX": topic_prefix,
        "WISETRADER_STORE_DSN": dsn,
        "WISETRADER_STORE_DATABASE": "wisetrader",
    }
    restarted = await asyncio.to_thread(_python, ["-m", "services.writer", "--until-idle"], env)
    assert restarted.returncode == 0, restarted.stderr
    done = orjson.loads(restarted.stdout.strip().splitlines()[-1])
    assert done["event"] == "writer_done"
    assert done["events"] == 500  # the uncommitted batch came again...
    assert done["duplicates"] == inserted_before_crash  # ...and the store dropped what it already had
    assert done["rows"] == 500 - inserted_before_crash

    counted = await asyncio.to_thread(_python, ["-c", COUNT_FILLS, dsn])
    assert counted.stdout.split() == ["500", "500", "500"], counted.stderr
