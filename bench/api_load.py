"""Requests/s of the API under local load: a real ``wisetrader api`` (uvicorn) on 127.0.0.1.

    python -m bench.api_load [--requests 3000] [--concurrency 32] [--bots 20] [--seconds 30]

Starts the server on a free port with an embedded SQLite control plane in a temporary directory and the
books of a bundled OKX recording (``--replay``), creates one user with ``--bots`` bots, then sends
``--requests`` authenticated GET requests per endpoint (bots list, top of book, liveness) over
``--concurrency`` keep-alive connections (bounded by count and by ``--seconds``), and stops the server.

Client and server share this machine's cores, so besides requests/s the tool reports the CPU time the
server process (all its threads) and the client spent per request, read from ``/proc`` over each endpoint's
run. ``1 s / server CPU per request`` is what one server process could answer with a core to itself: the
fair figure on a small shared machine. The client is a minimal HTTP/1.1 keep-alive loop on raw asyncio
streams (one prebuilt request, responses read by ``content-length``) so that it takes little of the CPU it
shares with the server; setup goes through httpx.
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
from dataclasses import dataclass
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
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measured:
    """One endpoint under load: answers, wall time, and CPU seconds of the server process and the client."""

    path: str
    ok: int
    errors: int
    seconds: float
    server_cpu_s: float
    client_cpu_s: float

    @property
    def per_s(self) -> float:
        return self.ok / self.seconds

    @property
    def server_us(self) -> float:
        """Server CPU (every thread of its process) per answered request, in microseconds."""
        return 1e6 * self.server_cpu_s / max(self.ok + self.errors, 1)

    @property
    def client_us(self) -> float:
        return 1e6 * self.client_cpu_s / max(self.ok + self.errors, 1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all threads), from ``/proc/PID/stat``."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


async def _setup(c: httpx.AsyncClient, bots: int) -> str:
    """One user with one account and ``bots`` bots; returns its ``Authorization`` header value."""
    await c.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
    login = await c.post("/api/v1/auth/login", json={"email": "bench@example.com", "password": PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    account = {"venue": "simulator", "label": "b", "api_key": "benchkey1234", "api_secret": "benchsecret1"}
    account_id = (await c.post("/api/v1/accounts", json=account, headers=headers)).json()["id"]
    for i in range(bots):
        body = {"name": f"b{i}", "account_id": account_id, "config": GRID}
        (await c.post("/api/v1/bots", json=body, headers=headers)).raise_for_status()
    return headers["Authorization"]


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send ``request`` on a keep-alive connection and read the whole answer; returns its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = -1
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length < 0:
        raise ValueError(f"answer without content-length: {head!r}")
    await reader.readexactly(length)
    return int(head[9:12])


async def load(
    host: str, port: int, path: str, auth: str, n: int, conc: int, seconds: float, server_pid: int
) -> Measured:
    """``n`` GETs of ``path`` over ``conc`` keep-alive connections, stopping early after ``seconds``."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    conns = [await asyncio.open_connection(host, port) for _ in range(conc)]
    started = ok = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal started, ok, errors
        while started < n and time.perf_counter() < deadline:
            started += 1
            if await _exchange(reader, writer, request) == 200:
                ok += 1
            else:
                errors += 1

    server0, client0, wall0 = process_cpu_s(server_pid), time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(worker(r, w) for r, w in conns))
    finally:
        wall = time.perf_counter() - wall0
        server_cpu, client_cpu = process_cpu_s(server_pid) - server0, time.process_time() - client0
        for _, w in conns:
            w.close()
    return Measured(path, ok, errors, wall, server_cpu, client_cpu)


ENDPOINTS = (
    ("bots list", "/api/v1/bots?limit={bots}"),
    ("top of book", "/api/v1/market/okx/BTC-USDT/top"),
    ("liveness", "/health/live"),
)


async def _run(
    host: str, port: int, server_pid: int, requests: int, conc: int, bots: int, seconds: float
) -> list[tuple[str, Measured]]:
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as c:
        auth = await _setup(c, bots)
    out = []
    for name, template in ENDPOINTS:
        path = template.format(bots=bots)
        await load(host, port, path, auth, min(200, requests), conc, seconds, server_pid)  # warm-up
        out.append((name, await load(host, port, path, auth, requests, conc, seconds, server_pid)))
    return out


def measure(requests: int, concurrency: int, bots: int, seconds: float) -> list[tuple[str, Measured]]:
    """Start a server, load each endpoint in turn, stop the server; one ``Measured`` per endpoint."""
    host, port = "127.0.0.1", _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "WISETRADER_DATA_DIR": tmp,
            "WISETRADER_API__JWT_SECRET": "bench-secret-bench-secret-bench-secret",
            "WISETRADER_API__RATE_PER_USER": "100000000",
            "WISETRADER_API__RATE_PER_IP": "100000000",
        }
        cmd = [sys.executable, "-m", "wisetrader", "api", "--host", host, "--port", str(port)]
        cmd += ["--replay", str(RECORDING), "--venue", "okx"]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://{host}:{port}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            return asyncio.run(_run(host, port, server.pid, requests, concurrency, bots, seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    rows = measure(args.requests, args.concurrency, args.bots, args.seconds)
    head = f"{'endpoint':<36} {'requests':>8} {'seconds':>7} {'req/s':>7} {'non-200':>7}"
    print(f"{head} {'server us/req':>13} {'1 core req/s':>12} {'client us/req':>13}")
    for _, m in rows:
        print(
            f"{'GET ' + m.path:<36} {m.ok:>8} {m.seconds:>7.2f} {m.per_s:>7.0f} {m.errors:>7} "
            f"{m.server_us:>13.0f} {1e6 / m.server_us:>12.0f} {m.client_us:>13.0f}"
        )


if __name__ == "__main__":
    main()
