"""notebooks/analysis.ipynb runs top to bottom against a real store and reproduces the report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from wisetrader.analytics import report
from wisetrader.analytics.sample import sample_fills
from wisetrader.events import Fill
from wisetrader.store import to_arrow

REPO = Path(__file__).parents[2]


def test_analysis_notebook_executes_and_matches_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel is another process, so it gets its own chDB directory, filled by a third process.
    dsn = f"chdb://{tmp_path / 'store'}"
    subprocess.run(
        [sys.executable, "-m", "wisetrader.analytics.sample", dsn, "--days", "10"], check=True, cwd=REPO
    )
    monkeypatch.setenv("WISETRADER_STORE_DSN", dsn)
    monkeypatch.setenv("WISETRADER_REPORT_CAPITAL", "1000")
    monkeypatch.setenv("MPLBACKEND", "Agg")

    nb = nbformat.read(REPO / "notebooks" / "analysis.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    text = "".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    found = re.search(r"TOTAL_PNL=(\S+) SHARPE=(\S+) MAX_DD=(\S+) TRADES=(\d+)", text)
    assert found, text
    import polars as pl

    frame = pl.from_arrow(to_arrow(Fill, sample_fills(days=10)))
    assert isinstance(frame, pl.DataFrame)
    expected = report.build(frame, capital=1000.0)
    assert found.group(1) == str(expected.by_bot["total"].sum())
    assert float(found.group(2)) == pytest.approx(expected.metrics.sharpe, abs=1e-6)
    assert float(found.group(3)) == pytest.approx(expected.metrics.max_drawdown.absolute, abs=1e-6)
    assert int(found.group(4)) == expected.metrics.trades > 0
