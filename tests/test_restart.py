"""SIGKILL while orders are in flight, then restart: no order is duplicated on the venue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import orjson
from wisetrader.venues.binance import sign

HERE = Path(__file__).parent


def _open_orders(base: str) -> list[dict]:  # type: ignore[type-arg]
    query = f"symbol=BTCUSDT&timestamp={int(time.time() * 1000)}"
    url = f"{base}/api/v3/openOrders?{query}&signature={sign('secreta', query)}"
    with urllib.request.urlopen(
        urllib.request.Request(url, headers={"X-MBX-APIKEY": "keya"}), timeout=10
    ) as r:
        return orjson.loads(r.read())  # type: ignore[no-any-return]


def test_sigkill_mid_flight_and_restart_places_every_order_exactly_once(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    # Every order is accepted at once but acknowledged late: a kill always lands with one in flight.
    config.write_text(
        "accounts: [{name: a, api_key: keya, secret: secreta, balances: {USDT: '100000', BTC: '1'}}]\n"
        "market: {levels: 0, taker_prob: 0.0}\nfaults: {ack_delay_s: 0.5}\n"
    )
    sim = subprocess.Popen(
        [sys.executable, "-m", "wisetrader", "sim-exchange", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        base = sim.stdout.readline().split()[3]
        n = 5
        worker = [sys.executable, str(HERE / "executor_worker.py"), base, str(n)]
        first = subprocess.Popen(worker, stdout=subprocess.PIPE, text=True)
        assert first.stdout is not None
        placed = 0
        while placed < 2:  # let two orders complete
            line = first.stdout.readline()
            placed += line.startswith("placed")
        while len(_open_orders(base)) < 3:  # the third is on the venue, its ack still to come: kill now
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        before = Counter(o["clientOrderId"] for o in _open_orders(base))
        assert len(before) == 3 and set(before.values()) == {1}  # the third reached the venue unacknowledged
        second = subprocess.run(worker, capture_output=True, text=True, timeout=60, check=True)
        assert "adopted 3" in second.stdout and "done" in second.stdout
        after = Counter(o["clientOrderId"] for o in _open_orders(base))
        assert len(after) == n and set(after.values()) == {1}  # every order once, none twice
    finally:
        sim.terminate()
        sim.wait(10)
