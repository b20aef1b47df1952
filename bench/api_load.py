"""Requests/s of the API under local load: a real ``wisetrader api`` (uvicorn) on 127.0.0.1.

    python -m bench.api_load [--requests 3000] [--concurrency 32] [--bots 20] [--seconds 30]

Starts the server on a free port with an embedded SQLite control plane in a temporary directory and the
books of a bundled OKX recording (``--replay``), creates one user with ``--bots`` bots, then sends
``--requests`` authenticated GET requests per endpoint (bots list, top of book, liveness) from
``--concurrency`` concurrent httpx connections (bounded by count and by ``--seconds``), and stops the server.
Client and server share this machine's cores, so the figure is a floor for a dedicated host.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "bench password 123"
RECORDING = Path(__file__).parent.parent / "tests" / "data" / "recordings" / "okx" / "BTC-USDT.rec"
GRID = {
    "kind": "grid",
    "venue": "binance-spot",
    "symbol": "BTCUSDT",
    "instrument": {"tick_size": "0.01", "lot_step": "0.00001", "min_notional": "5"},
    "fee_rate": "0.001",
    "start_price": "100",
    "lower": "90",
    "upper": "110",
    "grids": 10,
    "investment": {"quote": "1000"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _setup(c: httpx.AsyncClient, bots: int) -> dict[str, str]:
    await c.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
    login = await c.post("/api/v1/auth/login", json={"email": "bench@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    account = {"venue": "simulator", "label": "b", "api_key": "benchkey1234", "api_secret": "benchsecret1"}
    account_id = (await c.post("/api/v1/accounts", json=account, headers=headers)).json()["id"]
    for i in range(bots):
        body = {"name": f"b{i}", "account_id": account_id, "config": GRID}
        (await c.post("/api/v1/bots", json=body, headers=headers)).raise_for_status()
    return headers


async def _load(
    c: httpx.AsyncClient, path: str, headers: dict[str, str], n: int, conc: int, seconds: float
) -> tuple[int, float, int]:
    started = done = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal started, done, errors
        while started < n and time.perf_counter() < deadline:
            started += 1
            r = await c.get(path, headers=headers)
            if r.status_code == 200:
                done += 1
            else:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return done, time.perf_counter() - start, errors


async def _run(args: argparse.Namespace, base: str) -> None:
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as c:
        headers = await _setup(c, args.bots)
        await _load(c, "/api/v1/bots", headers, 200, args.concurrency, args.seconds)  # warm-up
        print(f"{'endpoint':<36} {'requests':>9} {'seconds':>8} {'req/s':>8} {'non-200':>8}")
        paths = (f"/api/v1/bots?limit={args.bots}", "/api/v1/market/okx/BTC-USDT/top", "/health/live")
        for path in paths:
            done, secs, errors = await _load(c, path, headers, args.requests, args.concurrency, args.seconds)
            print(f"{'GET ' + path:<36} {done:>9} {secs:>8.2f} {done / secs:>8.0f} {errors:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "WISETRADER_DATA_DIR": tmp,
            "WISETRADER_API__JWT_SECRET": "bench-secret-bench-secret-bench-secret",
            "WISETRADER_API__RATE_PER_USER": "100000000",
            "WISETRADER_API__RATE_PER_IP": "100000000",
        }
        cmd = [sys.executable, "-m", "wisetrader", "api", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--replay", str(RECORDING), "--venue", "okx"]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(_run(args, base))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
