"""The run config (``engine/config.py``) and API keys (``engine/credentials.py``): every problem reported
with its field path and rule before anything starts, keys only from the environment or an owner-only
secrets file and never shown, and the examples valid."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from wisetrader.engine.config import DEFAULT_BOTS, ConfigError, RunConfig, load_config, resolve
from wisetrader.engine.credentials import CredentialsError, load_credentials, read_secrets_file
from wisetrader.engine.run import _live_executors

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples" / "run").glob("*.yaml"))
GRID = DEFAULT_BOTS[0]
KEY, SECRET = "AKIAkey0123456789zz", "s3cr3t-value-9876543210"  # test keys, grepped for below


def bot(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(GRID)
    out.update(changes)
    return out


def problems(tmp_path: Path, data: Any, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "run.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as e:
        resolve(load_config(path), environ=environ or {})
    return e.value.problems


OFF_SIM = {"base_asset": "BTC", "quote_asset": "USDT"}

# (config, the one problem it must produce)
BAD: list[tuple[Any, str]] = [
    ({"botz": []}, "botz: unknown key"),
    ({"mode": "demo"}, "mode: Input should be 'paper' or 'live'"),
    (
        {"venues": {"kraken": {}}},
        "venues.kraken: unknown venue; expected one of binance-spot, binance, bybit-spot",
    ),
    (
        {"venues": {"okx": {"network": "custom", "rest": "http://127.0.0.1:1"}}},
        "venues.okx: network custom needs both rest: and ws: URLs",
    ),
    (
        {"venues": {"okx": {"network": "custom", "rest": "ftp://h", "ws": "ws://h"}}},
        "venues.okx: rest must be http://host[:port][/path] or https://host[:port][/path]",
    ),
    (
        {"venues": {"okx": {"network": "custom", "rest": "http://h", "ws": "ws://h:99999"}}},
        "venues.okx: ws has a bad port",
    ),
    (
        {"venues": {"bybit": {"network": "testnet", "ws": "ws://h"}}},
        "venues.bybit: rest: and ws: are only for network custom (network is testnet)",
    ),
    ({"venues": {"binance-spot": {"network": "moon"}}}, "venues.binance-spot.network: Input should be"),
    (
        {"venues": {"binance-spot": {}, "binance": {}}},
        "venues.binance: the same venue as venues.binance-spot",
    ),
    (
        {"accounts": [{"name": "a b", "venue": "binance-spot"}]},
        "accounts[0].name: must match [A-Za-z0-9_-]{1,32}",
    ),
    (
        {"accounts": [{"name": "paper-x", "venue": "binance-spot"}]},
        "accounts[0].name: names starting with 'paper'",
    ),
    (
        {"accounts": [{"name": "a", "venue": "binance-spot"}, {"name": "a", "venue": "binance-spot"}]},
        "accounts[1].name: a is defined twice",
    ),
    (
        {"accounts": [{"name": "a", "venue": "okx"}]},
        "accounts[0].venue: 'okx' is not under venues: (binance-spot)",
    ),
    ({"accounts": [{"name": "a"}]}, "accounts[0].venue: Field required"),
    (
        {"accounts": [{"name": "a", "venue": "binance-spot", "limits": {"max_open_orders": "many"}}]},
        "accounts[0].limits.max_open_orders: Input should be a valid integer",
    ),
    (
        {"accounts": [{"name": "a", "venue": "binance-spot", "limits": {"max_orders": 3}}]},
        "accounts[0].limits.max_orders: unknown key",
    ),
    ({"bots": [bot(grids=-1)]}, "bots[0].grids: Input should be greater than or equal to 1"),
    ({"bots": [bot(color="red")]}, "bots[0].color: unknown key"),
    ({"bots": [bot(lower="31000", upper="30000")]}, "bots[0].upper: must be above lower (31000), got 30000"),
    ({"bots": [bot(mode="demo")]}, "bots[0].mode: must be paper or live, got 'demo'"),
    ({"bots": [bot(account="a")]}, "bots[0].account: only live bots have an account (this one is paper)"),
    ({"bots": [bot(mode="live", account="nope")]}, "bots[0].account: 'nope' is not under accounts:"),
    (
        {"bots": [bot(venue="okx")]},
        "bots[0].symbol: BTCUSDT is not a simulator symbol on okx (BTC-USDT, ETH-USDT)",
    ),
    ({"bots": [bot(symbol="XRPUSDT")]}, "bots[0].symbol: XRPUSDT is not a simulator symbol on binance-spot"),
    (
        {"bots": [bot(instrument={**GRID["instrument"], "tick_size": "0.1"})]},
        "bots[0].instrument: tick_size/lot_step 0.1/0.00001 differ from the simulator's 0.01/0.00001",
    ),
    (
        {"bots": [bot(limits={"max_open_orders": -1.5})]},
        "bots[0].limits.max_open_orders: Input should be a valid",
    ),
    ({"bots": [bot(limits=3)]}, "bots[0].limits: expected a mapping of limits"),
    (
        {"venues": {"binance-spot": {"network": "mainnet"}}, "bots": [bot()]},
        "bots[0].instrument: base_asset and quote_asset are required on network mainnet",
    ),
    (
        {
            "venues": {"binance-spot": {"network": "mainnet"}, "bybit": {}},
            "accounts": [{"name": "by", "venue": "bybit"}],
            "bots": [bot(mode="live", account="by", instrument={**GRID["instrument"], **OFF_SIM})],
        },
        "bots[0].account: by trades on bybit, the bot on binance-spot",
    ),
    (
        {"venues": {"binance-spot": {"network": "mainnet"}}, "bots": [bot(mode="live")]},
        "bots[0].account: required for a live bot on binance-spot "
        "(accounts there: none; add one under accounts:)",
    ),
    (
        {
            "venues": {"binance-spot": {"network": "mainnet"}},
            "accounts": [{"name": "main", "venue": "binance-spot"}],
            "bots": [bot(mode="live", instrument={**GRID["instrument"], **OFF_SIM})],
        },
        "account main: no API key for its live bots: set WISETRADER_ACCOUNT_MAIN_API_KEY and "
        "WISETRADER_ACCOUNT_MAIN_API_SECRET, or add accounts.main to the secrets file",
    ),
    ({"shutdown": {"orders": "drop"}}, "shutdown.orders: Input should be 'cancel' or 'keep'"),
    ({"shutdown": {"timeout_s": 0}}, "shutdown.timeout_s: Input should be greater than 0"),
    ({"report": {"capital": "0"}}, "report.capital: Input should be greater than 0"),
    ({"store": "postgres://u:pw@h"}, "store: must be empty or start with chdb://, http:// or https://"),
    ({"database": "run-1"}, "database: must be a ClickHouse identifier (letters, digits, _)"),
    ({"log_every_s": 0}, "log_every_s: Input should be greater than 0"),
    ({"bots": [{**bot(), "kind": "dca"}]}, "bots[0].base_order: Field required"),
    ("bots: [\n  - {kind: grid\n", "not valid YAML (line"),
    ("- 1\n- 2\n", "expected a mapping of keys, got list"),
]


@pytest.mark.parametrize(("data", "expected"), BAD, ids=[e.split(":")[0] for _, e in BAD])
def test_invalid_config_names_the_field_and_the_rule(tmp_path: Path, data: Any, expected: str) -> None:
    found = problems(tmp_path, data)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {"bots": [bot(grids=0), bot(mode="live", account="x"), bot(limits={"max_open": 1})], "shutdown": {}},
    )
    assert len(found) == 3, found
    assert [p.split(":")[0] for p in found] == ["bots[0].grids", "bots[1].account", "bots[2].limits.max_open"]


def test_keys_in_the_config_are_refused_without_echoing_them(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "accounts": [{"name": "main", "venue": "binance-spot", "api_key": KEY, "secret": SECRET}],
            "venues": {"binance-spot": {"network": "sim", "passphrase": SECRET}},
        },
    )
    text = "\n".join(found)
    assert (
        "accounts[0].api_key, accounts[0].secret, venues.binance-spot.passphrase: API keys do not belong"
        in text
    )
    assert "WISETRADER_ACCOUNT_<NAME>_API_KEY" in text and "--secrets FILE or WISETRADER_SECRETS_FILE" in text
    assert KEY not in text and SECRET not in text


def _live_on_mainnet(venue: str = "binance-spot", symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {
        "venues": {venue: {"network": "mainnet"}},
        "accounts": [{"name": "main", "venue": venue, "limits": {"max_open_orders": 7}}],
        "bots": [
            bot(
                mode="live",
                venue=venue,
                symbol=symbol,
                instrument={**GRID["instrument"], **OFF_SIM},
                limits={},
            )
        ],
    }


def test_keys_from_the_environment_are_secret_everywhere(tmp_path: Path) -> None:
    environ = {"WISETRADER_ACCOUNT_MAIN_API_KEY": KEY, "WISETRADER_ACCOUNT_MAIN_API_SECRET": SECRET}
    plan = resolve(RunConfig.model_validate(_live_on_mainnet()), environ=environ)
    creds = plan.accounts["main"].credentials
    assert (creds.api_key.get_secret_value(), creds.secret.get_secret_value()) == (KEY, SECRET)
    assert plan.limits.for_account("main").max_open_orders == 7  # the account's override, the rest defaults
    assert plan.limits.for_account("main").max_notional == plan.limits.account.max_notional
    executors = _live_executors(plan, {"binance": (None, None)})  # what the engine hands ccxt
    assert executors["main"].config.secret == SECRET
    shown = f"{plan!r} {plan.accounts} {creds!r} {creds} {creds.model_dump()} {executors['main'].config!r}"
    assert KEY not in shown and SECRET not in shown
    # Half a key pair is an error naming the missing variable, not the present value.
    with pytest.raises(ConfigError) as e:
        resolve(
            RunConfig.model_validate(_live_on_mainnet()), environ={"WISETRADER_ACCOUNT_MAIN_API_KEY": KEY}
        )
    assert e.value.problems == [
        "account main: WISETRADER_ACCOUNT_MAIN_API_SECRET is not set (both the key and the secret are)"
    ]
    # OKX needs its passphrase too.
    okx = _live_on_mainnet("okx", "BTC-USDT")
    with pytest.raises(ConfigError) as e:
        resolve(RunConfig.model_validate(okx), environ=environ)
    assert e.value.problems == ["account main: OKX needs a passphrase (WISETRADER_ACCOUNT_MAIN_PASSPHRASE)"]
    plan = resolve(
        RunConfig.model_validate(okx), environ={**environ, "WISETRADER_ACCOUNT_MAIN_PASSPHRASE": "pp"}
    )
    assert plan.accounts["main"].credentials.passphrase.get_secret_value() == "pp"


def test_secrets_file_owner_only_and_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump({"accounts": {"main": {"api_key": KEY, "secret": SECRET}}}))
    path.chmod(0o600)
    plan = resolve(RunConfig.model_validate(_live_on_mainnet()), secrets_file=path, environ={})
    assert plan.accounts["main"].credentials.secret.get_secret_value() == SECRET
    # The environment wins over the file.
    env = {"WISETRADER_ACCOUNT_MAIN_API_KEY": "envkey", "WISETRADER_ACCOUNT_MAIN_API_SECRET": "envsecret"}
    assert load_credentials(["main"], path, env)["main"].api_key.get_secret_value() == "envkey"
    assert load_credentials(["other"], path, {}) == {}
    # Readable by group or others: refused, with the fix.
    path.chmod(0o640)
    with pytest.raises(CredentialsError, match=r"group or others have access \(mode 0640\).*chmod 600"):
        read_secrets_file(path)
    with pytest.raises(ConfigError) as e:
        resolve(RunConfig.model_validate(_live_on_mainnet()), secrets_file=path, environ={})
    assert "group or others have access" in e.value.problems[0]
    # Broken files: where, never what.
    for text, expected in (
        (f"accounts:\n  main: {{api_key: {KEY}, secret: [{SECRET}\n", "not valid YAML (line"),
        (
            yaml.safe_dump({"accounts": {"main": {"api_key": KEY, "secrte": SECRET}}}),
            "accounts.main: secret: Field",
        ),
        (yaml.safe_dump({"main": {"api_key": KEY}}), "expected {accounts: {NAME: {api_key, secret}}}"),
    ):
        path.write_text(text)
        path.chmod(0o600)
        with pytest.raises(CredentialsError) as ce:
            read_secrets_file(path)
        assert expected in str(ce.value) and KEY not in str(ce.value) and SECRET not in str(ce.value)
    with pytest.raises(CredentialsError, match="cannot read"):
        read_secrets_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_validates(path: Path) -> None:
    environ = {"WISETRADER_ACCOUNT_MAIN_API_KEY": "k", "WISETRADER_ACCOUNT_MAIN_API_SECRET": "s"}
    plan = resolve(load_config(path), environ=environ)
    assert plan.bots and plan.capital > 0
    assert "API_KEY" in path.read_text() or all(v.network == "sim" for v in plan.venues.values())


def test_default_config_is_one_sim_venue_with_paper_bots() -> None:
    plan = resolve(RunConfig(), environ={})
    assert {n: v.network for n, v in plan.venues.items()} == {"binance": "sim"}
    assert [(b.mode, b.account) for b in plan.bots] == [("paper", "paper-binance")] * 2
    assert plan.capital == 2300  # the grid's investment and the DCA bot's budget
    assert not plan.accounts


def test_cli_refuses_an_invalid_config_before_starting_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "accounts": [{"name": "main", "venue": "binance-spot", "api_key": KEY}],
                "bots": [bot(grids=0)],
            }
        )
    )
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "wisetrader", "run", "--config", str(bad), "--duration", "30"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WISETRADER_DATA_DIR": str(data)},
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"wisetrader run: invalid configuration {bad}:\n")
    assert "  accounts[0].api_key: API keys do not belong in the run config" in done.stderr
    assert "Traceback" not in done.stderr and KEY not in done.stderr + done.stdout
    assert not data.exists()  # no store, no simulator: nothing was started


def test_an_unreachable_venue_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "run.yaml"
    url = f"127.0.0.1:{port}"
    config.write_text(
        yaml.safe_dump(
            {
                "venues": {
                    "binance-spot": {"network": "custom", "rest": f"http://{url}", "ws": f"ws://{url}"}
                },
                "accounts": [{"name": "main", "venue": "binance-spot"}],
                "bots": [bot(mode="live", instrument={**GRID["instrument"], **OFF_SIM})],
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "wisetrader", "run", "--config", str(config), "--duration", "30"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "WISETRADER_DATA_DIR": str(tmp_path / "data"),
            "WISETRADER_ACCOUNT_MAIN_API_KEY": KEY,
            "WISETRADER_ACCOUNT_MAIN_API_SECRET": SECRET,
        },
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("wisetrader run: cannot start: account main on binance-spot: ")
    assert "Traceback" not in done.stderr and KEY not in done.stderr + done.stdout


def test_streamer_logs_an_invalid_config_as_json_and_exits_2(tmp_path: Path) -> None:
    import orjson

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"bots": [bot(grids=0), bot(mode="live", account="x")]}))
    done = subprocess.run(
        [sys.executable, "-m", "services.streamer", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "WISETRADER_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 2
    (line,) = [orjson.loads(x) for x in done.stdout.splitlines()]
    assert line["event"] == "invalid_config" and line["level"] == "error" and line["config"] == str(bad)
    assert line["problems"] == [
        "bots[0].grids: Input should be greater than or equal to 1",
        "bots[1].account: 'x' is not under accounts:",
    ]
    assert not (tmp_path / "data").exists()


def test_venues_differ_only_by_base_url() -> None:
    from wisetrader.engine.config import VenuePlan

    # A base without a path gets the venue's own WebSocket path (as on the real venue); a path is kept.
    assert VenuePlan("bybit", "bybit", "sim").endpoints("http://h:1", "ws://h:1") == (
        "http://h:1",
        "ws://h:1/v5/public/spot",
    )
    assert VenuePlan("okx", "okx", "sim").endpoints("http://h:1", "ws://h:1")[1] == "ws://h:1/ws/v5/public"
    assert VenuePlan("binance", "binance-spot", "sim").endpoints("http://h:1", "ws://h:1")[1] == "ws://h:1"
    custom = VenuePlan("okx", "okx", "custom", "https://x", "wss://x/ws/v5/business")
    assert custom.endpoints(None, None) == ("https://x", "wss://x/ws/v5/business")
    assert VenuePlan("bybit", "bybit", "testnet").endpoints("http://h:1", "ws://h:1") == (None, None)
