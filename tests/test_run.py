"""``wisetrader run``: bots trade against the in-process simulator and a summary comes out."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

EXAMPLE = Path(__file__).parent.parent / "examples" / "run" / "sim.yaml"


def _run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:  # the embedded store of the run lives under data_dir
        return subprocess.run(
            [sys.executable, "-m", "wisetrader", "run", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "WISETRADER_DATA_DIR": str(data_dir or tmp)},
        )


def test_run_with_embedded_defaults_trades_logs_and_reports(tmp_path: Path) -> None:
    done = _run("--duration", "4", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # stdout is a pipe: periodic log lines instead of the live view (no terminal escape codes).
    assert lines[0].startswith("[") and "open_orders=" in lines[0] and "realized_pnl" in lines[0]
    assert "\x1b[" not in done.stdout
    start = lines.index("{")
    summary = orjson.loads("\n".join(lines[start : lines.index("}", start) + 1]))
    # Then the P&L report, built from the fills in the run's embedded store.
    report = "\n".join(lines[lines.index("}", start) + 1 :])
    assert "wisetrader report (USDT)" in report and "P&L by bot" in report
    assert summary["store"]["database"] in report and (tmp_path / "clickhouse").is_dir()
    assert summary["store"]["rows"] > summary["fills"]
    assert set(summary["bots"]) == {"1", "2"}
    assert summary["bots"]["1"]["kind"] == "grid" and summary["bots"]["2"]["kind"] == "dca"
    assert summary["orders"] >= 2 and summary["fills"] >= 1  # the grid's opening buy at least
    assert summary["events_published"] > 0


def test_run_config_file_and_its_errors(tmp_path: Path) -> None:
    done = _run("--config", str(EXAMPLE), "--duration", "2")
    assert done.returncode == 0, done.stderr
    assert '"kind": "grid"' in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("bots: [{kind: grid, symbol: BTCUSDT, grids: -1}]\n")
    failed = _run("--config", str(bad), "--duration", "1")
    assert failed.returncode == 2 and "invalid configuration" in failed.stderr and "grids" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_run_refuses_a_damaged_state_file(tmp_path: Path) -> None:
    (tmp_path / "engine-state.json").write_bytes(b'{"format": "wisetrader-engine-state", "version": 1}\n{"bo')
    failed = _run("--duration", "1", "--state-dir", str(tmp_path))
    assert (
        failed.returncode == 2 and "cannot resume" in failed.stderr and "checksum mismatch" in failed.stderr
    )
    assert "Traceback" not in failed.stderr


def test_streamer_service_serves_metrics_and_stops_on_sigterm() -> None:
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:  # a free port for the metrics endpoint
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.streamer", "--metrics-port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert proc.stdout is not None
        assert orjson.loads(proc.stdout.readline())["event"] == "starting"
        metrics = ""
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                metrics = r.read().decode()
            if 'wisetrader_feed_connected{feed="binance",venue="binance"} 1.0' in metrics:
                break
            time.sleep(0.1)
        assert 'wisetrader_feed_connected{feed="binance",venue="binance"} 1.0' in metrics
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        lines = [orjson.loads(line) for line in out.strip().splitlines()]  # every line is one JSON object
        events = [line["event"] for line in lines]
        assert events[0] == "started" and events[-1] == "stopped", events
        assert all(line["level"] == "info" and "timestamp" in line for line in lines)
        assert lines[0]["venues"] == {"binance-spot": "sim"} and set(lines[0]["bots"]) == {"1", "2"}
        health = next(line for line in lines if line["event"] == "feed_health")
        assert health["venue"] == "binance" and health["connected"] is True
        stopped = lines[-1]
        assert set(stopped["summary"]["bots"]) == {"1", "2"}
        assert stopped["summary"]["shutdown"]["orders"] == "cancel"
        assert stopped["summary"]["shutdown"]["left_open"] == 0
    finally:
        if proc.poll() is None:
            proc.kill()
