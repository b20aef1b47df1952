"""The local broker script starts whatever cluster id it draws."""

from __future__ import annotations

import pytest
from wisetrader.devtools import kafka


@pytest.mark.service
def test_broker_formats_and_starts_with_a_cluster_id_that_starts_with_a_dash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One random id in 64 starts with "-"; passed as a separate argument it broke StorageTool's parser.
    monkeypatch.setattr(kafka, "_cluster_id", lambda: "-" + "A" * 21)
    with kafka.KafkaBroker() as broker:
        assert broker.bootstrap.startswith("127.0.0.1:")
