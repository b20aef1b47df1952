"""The writer service serves its Prometheus metrics and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]


def test_writer_service_serves_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as s:  # a free port for the metrics endpoint
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "WISETRADER_STORE_DSN": f"chdb://{tmp_path / 'store'}",
        "WISETRADER_BUS": "inprocess",
    }
    cmd = [
        sys.executable,
        "-m",
        "services.writer",
        "--metrics-port",
        str(port),
        "--metrics-addr",
        "127.0.0.1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        metrics = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    metrics = r.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert "wisetrader_writer_rows_total" in metrics
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert orjson.loads(out.strip().splitlines()[-1])["event"] == "writer_done"
    finally:
        if proc.poll() is None:
            proc.kill()
