"""Real services for the bus/store/analytics tests: a Kafka broker and the embedded ClickHouse engine.

Kafka: ``WISETRADER_KAFKA_BOOTSTRAP`` points at an existing broker; otherwise one single-node KRaft broker
is started for the session (jars from Maven Central, cached) on free 127.0.0.1 ports. Never skipped.
ClickHouse: chDB allows one data directory per process, so the whole session shares one temporary
directory and every test gets its own database in it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from wisetrader.bus.kafka import KafkaBus
from wisetrader.devtools.kafka import KafkaBroker
from wisetrader.store import Store


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker | None]:
    """The broker this session started (None when an external one is used)."""
    if os.environ.get("WISETRADER_KAFKA_BOOTSTRAP"):
        yield None
        return
    with KafkaBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker | None) -> str:
    return kafka_broker.bootstrap if kafka_broker else os.environ["WISETRADER_KAFKA_BOOTSTRAP"]


@pytest.fixture
def topic_prefix() -> str:
    """Fresh topics per test, so tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def kafka_bus(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[KafkaBus]:
    bus = KafkaBus(kafka_bootstrap, topic_prefix=topic_prefix)
    await bus.start()
    yield bus
    await bus.close()


@pytest.fixture
def store(chdb_dir: Path) -> Iterator[Store]:
    s = Store(f"chdb://{chdb_dir}", f"t{uuid.uuid4().hex[:12]}")
    s.migrate()
    yield s
    s.client.command(f"DROP DATABASE IF EXISTS {s.database}")
