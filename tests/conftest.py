"""Fixtures shared by every suite."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one embedded ClickHouse (chDB) data directory of this test process: chDB allows one per
    process, so every suite that opens a store in-process uses this one, each in its own database."""
    return tmp_path_factory.mktemp("chdb")
