"""`wisetrader api` as a real uvicorn server on 127.0.0.1, talked to over real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.conftest import PASSWORD

pytestmark = pytest.mark.service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def start_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`wisetrader api` in a child process on 127.0.0.1 and a free port; yields its base URL."""
    port = _free_port()
    full_env = {
        **os.environ,
        "WISETRADER_DATA_DIR": str(data_dir),
        "WISETRADER_API__JWT_SECRET": "x" * 32,
        **(env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "wisetrader", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with start_server(tmp_path) as base:
        yield base


def test_cli_serves_openapi_docs_and_the_api(server: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=server, timeout=10) as c:
        spec = c.get("/openapi.json").json()
        assert spec["info"]["title"] == "wisetrader API"
        assert "/api/v1/bots" in spec["paths"]
        assert "swagger-ui" in c.get("/docs").text
        assert (
            c.post("/api/v1/auth/register", json={"email": "s@example.com", "password": PASSWORD}).status_code
            == 201
        )
        tokens = c.post("/api/v1/auth/login", json={"email": "s@example.com", "password": PASSWORD}).json()
        me = c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == "s@example.com"
        # The engine runs beside the API: the in-process simulator's book is followed, in sync.
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        deadline = time.monotonic() + 30
        while (top := c.get("/api/v1/market/binance-spot/BTCUSDT/top", headers=auth)).json().get(
            "state"
        ) != "synced":
            assert time.monotonic() < deadline, top.text
            time.sleep(0.2)
        assert top.json()["bid_px"] is not None
    # Embedded defaults: SQLite, a private master key file and the store under the data directory.
    assert (tmp_path / "clickhouse").is_dir()
    assert (tmp_path / "controlplane.db").exists()
    assert oct((tmp_path / "master.key").stat().st_mode & 0o777) == "0o600"
