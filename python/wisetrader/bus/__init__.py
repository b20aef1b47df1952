"""The event bus: one protocol (:mod:`wisetrader.bus.protocol`), an in-process and a Kafka backend."""

from __future__ import annotations

from wisetrader.bus.inprocess import InProcessBus
from wisetrader.bus.protocol import Bus, CommitError, Consumer, Delivery
from wisetrader.settings import Settings

__all__ = ["Bus", "CommitError", "Consumer", "Delivery", "InProcessBus", "from_settings"]


def from_settings(settings: Settings) -> Bus:
    """The bus the settings ask for (Kafka is imported only when used)."""
    if settings.bus == "kafka":
        from wisetrader.bus.kafka import KafkaBus

        return KafkaBus(settings.kafka_bootstrap, topic_prefix=settings.kafka_topic_prefix)
    return InProcessBus(settings.inprocess_queue_size)
