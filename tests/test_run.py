"""``wisetrader run``: bots trade against the in-process simulator and a summary comes out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

EXAMPLE = Path(__file__).parent.parent / "examples" / "run.yaml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wisetrader", "run", *args], capture_output=True, text=True, timeout=120
    )


def test_run_with_embedded_defaults_trades_and_summarizes() -> None:
    done = _run("--duration", "4")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[") and "orders=" in lines[0]  # periodic log lines when not a terminal
    summary = orjson.loads("\n".join(lines[lines.index("{") :]))
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
        assert orjson.loads(proc.stdout.readline())["event"] == "streamer_started"
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
        stopped = orjson.loads(out.strip().splitlines()[-1])
        assert stopped["event"] == "streamer_stopped" and set(stopped["summary"]["bots"]) == {"1", "2"}
    finally:
        if proc.poll() is None:
            proc.kill()
