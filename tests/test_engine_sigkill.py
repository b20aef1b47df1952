"""``wisetrader run`` killed with SIGKILL while orders are in flight, twice, and restarted each time.

The simulator runs in this process on real sockets (so that its own records can be read: every order
it ever received, every trade); the engine is ``python -m wisetrader run`` in a subprocess, with live
grid bots on the simulator's account through ``network: custom`` URLs, keys from the environment, and a
state directory. Every order is acknowledged late (``ack_delay_s``), so a kill always lands with requests
on the wire. The first run is killed while trading (fills made, a placement on the wire), the second
one just after it resumed (its first orders on the wire), the third is stopped with SIGINT. Then, on
the simulator's records: no client id was ever placed twice, every trade the simulator made for the
account is in a bot's ledger exactly once, the bots placed new orders after each restart, and what the
bots believe open is what is open on the venue (plus, at most, orders the stopping engine never sent).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from restart_support import applied_fill_ids, saved_bots
from wisetrader.engine import persistence
from wisetrader.sim import SimExchange
from wisetrader.sim.config import FaultSpec, MarketSpec, SimConfig
from wisetrader.sim.exchange import now_ms

ACCOUNT = "demo"
INSTRUMENT = {
    "tick_size": "0.01",
    "lot_step": "0.00001",
    "min_qty": "0.00001",
    "min_notional": "5",
    "base_asset": "BTC",
    "quote_asset": "USDT",
}


def _grid(lower: str, upper: str, grids: int) -> dict[str, Any]:
    return {
        "kind": "grid",
        "account": ACCOUNT,
        "venue": "binance-spot",
        "symbol": "BTCUSDT",
        "instrument": INSTRUMENT,
        "fee_rate": "0",
        "start_price": "30000",
        "lower": lower,
        "upper": upper,
        "grids": grids,
        "investment": {"quote": "2000"},
    }


def _config(sim: SimExchange) -> dict[str, Any]:
    return {
        "mode": "live",
        "venues": {"binance-spot": {"network": "custom", "rest": sim.rest_url, "ws": sim.ws_url}},
        "accounts": [{"name": ACCOUNT, "venue": "binance-spot"}],
        "bots": [_grid("29960", "30040", 8), _grid("29900", "30100", 10)],
        "risk": {
            "account": {"max_notional": "1000000"},
            "bot": {"max_order_notional": "100000", "max_notional": "1000000", "max_open_orders": 100},
        },
        "shutdown": {"orders": "keep"},
        "log_every_s": 0.5,
    }


async def _until(cond: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


class Engine:
    """One ``wisetrader run`` process; its output goes to a log file (read, never waited on)."""

    def __init__(self, tmp: Path, config: Path, state_dir: Path, n: int) -> None:
        self.log = tmp / f"run{n}.log"
        env = {
            **os.environ,
            "WISETRADER_DATA_DIR": str(tmp / "data"),
            "WISETRADER_ACCOUNT_DEMO_API_KEY": "simkey",
            "WISETRADER_ACCOUNT_DEMO_API_SECRET": "simsecret",
        }
        with open(self.log, "w") as out:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "wisetrader",
                    "run",
                    "--config",
                    str(config),
                    "--state-dir",
                    str(state_dir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def output(self) -> str:
        return self.log.read_text()

    def alive(self) -> bool:
        return self.popen.poll() is None


def _ours(sim: SimExchange) -> list[Any]:
    return [o for o in sim.exchange.orders.values() if o.account == ACCOUNT]


def _in_flight(sim: SimExchange) -> bool:
    """An order the simulator has placed but not acknowledged yet (placed less than ack_delay_s ago)."""
    return any(o.time_ms > now_ms() - 200 for o in _ours(sim))


async def test_engine_killed_twice_with_orders_in_flight_resumes_with_every_order_once(
    tmp_path: Path,
) -> None:
    config = SimConfig(
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        market=MarketSpec(tick_interval_s=0.02, volatility_ticks=150.0),
        faults=FaultSpec(ack_delay_s=0.3),
    )
    state_dir = tmp_path / "state"
    async with SimExchange(config) as sim:
        cfg = tmp_path / "run.yaml"
        cfg.write_text(yaml.safe_dump(_config(sim)))
        trades = sim.exchange.accounts[ACCOUNT].trades
        runs: list[Engine] = []
        try:
            # 1: killed while trading: fills made, and a placement on the wire.
            runs.append(Engine(tmp_path, cfg, state_dir, 1))
            await _until(lambda: len(trades) >= 6 and _in_flight(sim), "fills and an order in flight")
            os.kill(runs[0].popen.pid, signal.SIGKILL)
            runs[0].popen.wait(10)
            before_second = {o.client_id for o in _ours(sim)}

            # 2: killed just after it resumed, with its first new orders on the wire.
            runs.append(Engine(tmp_path, cfg, state_dir, 2))
            await _until(lambda: "resumed from" in runs[1].output(), "the second run to resume")
            await _until(
                lambda: bool({o.client_id for o in _ours(sim)} - before_second) and _in_flight(sim),
                "a new order in flight after the first restart",
            )
            os.kill(runs[1].popen.pid, signal.SIGKILL)
            runs[1].popen.wait(10)
            before_third = {o.client_id for o in _ours(sim)}
            fills_before_third = len(trades)

            # 3: runs on, then stops cleanly (orders kept on the venue).
            runs.append(Engine(tmp_path, cfg, state_dir, 3))
            await _until(lambda: "resumed from" in runs[2].output(), "the third run to resume")
            await _until(
                lambda: (
                    len({o.client_id for o in _ours(sim)} - before_third) >= 2
                    and len(trades) >= fills_before_third + 2
                ),
                "new orders and fills after the second restart",
            )
            sim.running = False  # freeze the market: the last trades are the last ones
            await asyncio.sleep(2.5)  # the engine's reconciler (every second) collects them
            runs[2].popen.send_signal(signal.SIGINT)
            await _until(lambda: not runs[2].alive(), "the third run to stop", timeout=60)
            assert runs[2].popen.returncode == 0, runs[2].output()[-3000:]
        finally:
            for run in runs:
                if run.alive():
                    run.popen.kill()
                    run.popen.wait(10)

        for run in runs[1:]:
            assert "resumed from" in run.output()
        orders = _ours(sim)
        ids = Counter(o.client_id for o in orders)
        assert max(ids.values()) == 1, [c for c, n in ids.items() if n > 1]  # no order placed twice
        saved = persistence.read(state_dir / persistence.FILE_NAME)
        assert saved is not None
        seen: list[str] = []
        for bot in saved_bots(saved):
            applied = applied_fill_ids(bot)
            assert bot["desk"]["ledger"]["fills_applied"] == len(applied)  # none applied twice
            assert bot["desk"]["ledger"]["unknown_fills"] == 0
            seen.extend(applied)
        assert len(seen) == len(set(seen))  # no fill in two bots
        assert set(seen) == {str(t["id"]) for t in trades}  # every trade of ours, in a bot, once
        believed = {cid for bot in saved_bots(saved) for cid in bot["desk"]["orders"]}
        open_on_venue = {o.client_id for o in sim.exchange.open_orders(sim.exchange.accounts[ACCOUNT], None)}
        assert open_on_venue <= believed  # nothing open on the venue that no bot follows
        # A fill collected by the stop's last reconciliation can make a bot want one more order that the
        # stopping engine no longer sends; the venue must never have seen it (the next start sends it).
        assert not (believed - open_on_venue) & set(ids), believed - open_on_venue
