"""``wisetrader run`` from a run config, over real sockets: three venues' feeds at once, live orders on an
account whose keys come from a secrets file, resting orders cancelled or kept at stop, per-bot and
per-account limits enforced by the risk gate."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from simutil import Rest
from wisetrader.analytics.report import load_fills
from wisetrader.engine.config import DEFAULT_BOTS, load_config
from wisetrader.engine.run import RunConfig, run
from wisetrader.sim import SimConfig, SimExchange
from wisetrader.sim.config import AccountSpec, MarketSpec

ROOT = Path(__file__).parent.parent
MULTI = ROOT / "examples" / "run" / "multi-venue-paper.yaml"
GRID = DEFAULT_BOTS[0]


def grid(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(GRID)
    out.update(changes)
    return out


async def test_paper_bots_on_three_venues_each_get_their_venues_book(chdb_dir: Path) -> None:
    config = load_config(MULTI).model_copy(
        update={"store": f"chdb://{chdb_dir}", "database": f"run_multi_{time.time_ns()}"}
    )
    snaps: list[dict[str, Any]] = []
    result = await run(config, 4.0, view=snaps.append)
    books = snaps[-1]["books"]
    # One feed per venue, each through its own protocol (Binance streams, Bybit v5, OKX v5) to the core.
    assert set(books) == {"binance-spot:BTCUSDT", "bybit:BTCUSDT", "okx:BTC-USDT"}
    for name, (bid, ask) in books.items():
        assert bid is not None and ask is not None and bid < ask, name
    bots = result.summary["bots"]
    assert bots["1"]["fills_applied"] >= 1  # the Binance grid's opening buy at least
    assert all(bots[b]["fills_applied"] >= 1 for b in ("2", "3"))  # the Bybit grid's and OKX DCA's too
    fills = load_fills(result.store)
    by_venue = Counter(zip(fills["venue"].to_list(), fills["account_id"].to_list(), strict=True))
    assert {v for v, _ in by_venue} == {"binance-spot", "bybit-spot", "okx"}
    assert {a for _, a in by_venue} == {"paper-binance", "paper-bybit", "paper-okx"}
    result.store.close()


async def test_per_bot_limit_blocks_only_that_bot(chdb_dir: Path) -> None:
    config = RunConfig(
        bots=[grid(grids=6), grid(grids=6, limits={"max_open_orders": 1})],
        store=f"chdb://{chdb_dir}",
        database=f"run_limits_{time.time_ns()}",
    )
    snaps: list[dict[str, Any]] = []
    result = await run(config, 3.0, view=snaps.append)
    result.store.close()
    most = Counter[str]()
    for snap in snaps:
        for bot, n in Counter(o.bot_id for o in snap["open_orders"]).items():
            most[bot] = max(most[bot], n)
    # The same grid twice: bot 1 rests its levels; bot 2 is held to one open order at a time, so its
    # opening buy goes through (and fills) while the levels sent with it are refused.
    assert most["1"] > 1 and most["2"] <= 1
    bots = result.summary["bots"]
    assert bots["1"]["fills_applied"] >= 1 and bots["2"]["fills_applied"] >= 1
    assert result.summary["risk_rejections"]["max_bot_open_orders"] >= 1


def _sim_config() -> SimConfig:
    balances = {"USDT": Decimal(100000), "BTC": Decimal(2), "ETH": Decimal(20)}
    return SimConfig(
        accounts=[AccountSpec(name="a", api_key="keya", secret="secreta", balances=balances)],
        market=MarketSpec(tick_interval_s=0.05),
    )


@pytest.mark.parametrize("policy", ["cancel", "keep"])
async def test_shutdown_cancels_or_keeps_resting_orders(
    policy: str, chdb_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WISETRADER_ACCOUNT_A_API_KEY", "keya")
    monkeypatch.setenv("WISETRADER_ACCOUNT_A_API_SECRET", "secreta")
    instrument = {**GRID["instrument"], "base_asset": "BTC", "quote_asset": "USDT"}
    # The simulator runs outside the engine (network custom: given URLs), so it outlives the run and can
    # be asked afterwards what rests on it.
    async with SimExchange(_sim_config()) as sim, aiohttp.ClientSession() as http:
        config = RunConfig.model_validate(
            {
                "mode": "live",
                "venues": {"binance-spot": {"network": "custom", "rest": sim.rest_url, "ws": sim.ws_url}},
                "accounts": [{"name": "a", "venue": "binance-spot", "limits": {"max_open_orders": 3}}],
                "bots": [grid(instrument=instrument, lower="29700", upper="30300", grids=8, account="a")],
                "shutdown": {"orders": policy},
                "store": f"chdb://{chdb_dir}",
                "database": f"run_shutdown_{policy}_{time.time_ns()}",
            }
        )
        result = await run(config, 2.5, secrets_file=None)
        result.store.close()
        status, resting, _ = await Rest(http, sim.rest_url).call("GET", "/api/v3/openOrders")
    assert status == 200
    shutdown = result.summary["shutdown"]
    assert shutdown["orders"] == policy and shutdown["open_at_stop"] >= 1
    # The account's own limit held: never more than 3 open, the rest refused by the gate.
    assert shutdown["open_at_stop"] <= 3 and result.summary["risk_rejections"]["max_account_open_orders"] >= 1
    if policy == "cancel":
        assert resting == [] and shutdown["left_open"] == 0
    else:
        assert len(resting) == shutdown["open_at_stop"] == shutdown["left_open"]


def test_live_run_with_keys_from_a_secrets_file_never_shows_them(tmp_path: Path) -> None:
    key, secret = "K3yFromSecretsFile0042", "S3cretFromSecretsFile-0042"
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "accounts": [{"name": "main", "venue": "binance-spot"}],
                "bots": [grid(mode="live", account="main")],
                # The simulator's own account holds the same keys, so they must really be used to trade.
                "sim": {
                    "accounts": [
                        {"name": "main", "api_key": key, "secret": secret, "balances": {"USDT": "100000"}}
                    ],
                    "market": {"volatility_ticks": 50.0},
                },
                "log_every_s": 0.5,
            }
        )
    )
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump({"accounts": {"main": {"api_key": key, "secret": secret}}}))
    secrets.chmod(0o600)
    data = tmp_path / "data"
    argv = ["run", "--config", str(config), "--secrets", str(secrets), "--duration", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "wisetrader", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WISETRADER_DATA_DIR": str(data)},
    )
    assert done.returncode == 0, done.stderr
    assert '"open_at_stop"' in done.stdout and "wisetrader report (USDT)" in done.stdout
    assert '"fills_applied": 0' not in done.stdout  # the live grid traded with the file's keys
    output = done.stdout + done.stderr
    assert key not in output and secret not in output
    # Nor in anything the run stored (events carry the account name only).
    for path in data.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert key.encode() not in blob and secret.encode() not in blob, path
