"""``wisetrader run --config FILE``: venues, accounts, bots, risk limits, shutdown, report.

Two steps, both before anything is started: :func:`load_config` reads and checks the file's shape
(:class:`RunConfig`), and :func:`resolve` checks everything that needs more than one key at a time (bots
through the core, accounts against venues, keys present, instruments against the simulator) and returns
the :class:`RunPlan` the engine is wired from. Every problem is reported at once, each line naming the
field path and the rule, in a :class:`ConfigError`; no line ever shows an API key.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from wisetrader._core import BotEngine
from wisetrader.bots.model import BotFileError, DcaBotFile, GridBotFile, core_args, parse_bot
from wisetrader.engine.credentials import (
    SECRET_KEYS,
    Credentials,
    CredentialsError,
    env_prefix,
    load_credentials,
)
from wisetrader.engine.router import Market
from wisetrader.risk import AccountLimits, BotLimits, RiskLimits
from wisetrader.sim import SimConfig
from wisetrader.sim.config import MarketSpec, SymbolSpec
from wisetrader.venues import venue_protocol

Mode = Literal["paper", "live"]
Network = Literal["sim", "mainnet", "testnet", "custom"]

# Venue names a config may use (bot files say binance-spot, bybit-spot, okx), to our protocol names.
VENUES = {
    "binance-spot": "binance",
    "binance": "binance",
    "bybit-spot": "bybit",
    "bybit": "bybit",
    "okx": "okx",
}
PAPER_ACCOUNT = "paper"  # paper bots trade on the account paper-<venue> (one paper matcher per venue)
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
RUN_ONLY_BOT_KEYS = ("mode", "account", "limits")

_INSTRUMENT = {"tick_size": "0.01", "lot_step": "0.00001", "min_qty": "0.00001", "min_notional": "5"}
DEFAULT_BOTS: list[dict[str, Any]] = [
    {
        "kind": "grid",
        "venue": "binance-spot",
        "symbol": "BTCUSDT",
        "instrument": _INSTRUMENT,
        "fee_rate": "0.001",
        "start_price": "30000",
        "lower": "29800",
        "upper": "30200",
        "grids": 4,
        "spacing": "arithmetic",
        "investment": {"quote": "2000"},
    },
    {
        "kind": "dca",
        "venue": "binance-spot",
        "symbol": "BTCUSDT",
        "instrument": _INSTRUMENT,
        "fee_rate": "0.001",
        "side": "long",
        "base_order": {"quote": "50"},
        "safety_order": {"quote": "50"},
        "price_deviation_pct": "0.5",
        "step_scale": "1",
        "volume_scale": "1",
        "max_safety_orders": 3,
        "max_active_safety_orders": 3,
        "take_profit_pct": "0.5",
        "take_profit_type": "total",
        "budget": "300",
    },
]


def paper_account(venue: str) -> str:
    """The paper account of a venue (our protocol name: binance, bybit, okx)."""
    return f"{PAPER_ACCOUNT}-{venue}"


class ConfigError(ValueError):
    """An invalid run configuration: one problem per line, each ``path: rule``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    # Inputs never appear in errors: a misplaced key must not be echoed back.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class PaperFees(_Strict):
    """The paper matcher's fees (``_core.PaperVenue``), charged in the quote asset."""

    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    fill_model: Literal["strict", "touch"] = "strict"

    def core_json(self) -> str:
        return json.dumps(
            {
                "maker_fee": str(self.maker_fee),
                "taker_fee": str(self.taker_fee),
                "fill_model": self.fill_model,
                "fee_in": "quote",
            }
        )


def _check_url(url: str, schemes: tuple[str, ...], what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{what} must be {' or '.join(s + '://host[:port][/path]' for s in schemes)}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{what} has a bad port") from None
    return url.rstrip("/")


class VenueConfig(_Strict):
    """Where a venue is: the in-process simulator, the real one, its testnet, or given URLs."""

    network: Network = "sim"
    rest: str | None = None  # network custom only: REST base (scheme://host[:port])
    ws: str | None = None  # network custom only: WebSocket base; without a path, the venue's path is added

    @model_validator(mode="after")
    def _urls(self) -> VenueConfig:
        if self.network == "custom":
            if self.rest is None or self.ws is None:
                raise ValueError("network custom needs both rest: and ws: URLs")
            self.rest = _check_url(self.rest, ("http", "https"), "rest")
            self.ws = _check_url(self.ws, ("ws", "wss"), "ws")
        elif self.rest is not None or self.ws is not None:
            raise ValueError(f"rest: and ws: are only for network custom (network is {self.network})")
        return self


class AccountConfig(_Strict):
    name: str
    venue: str
    # Overrides of the risk limits' account defaults (risk.account): any AccountLimits key.
    limits: dict[str, Any] = Field(default_factory=dict)


class ShutdownConfig(_Strict):
    # What happens to resting orders at stop (SIGINT, SIGTERM, --duration): cancelled, or left on the venue.
    orders: Literal["cancel", "keep"] = "cancel"
    timeout_s: float = Field(default=10.0, gt=0)  # the longest wait for the cancels' answers


class ReportConfig(_Strict):
    # Capital the report's returns are computed on (default: the sum of the bots' budgets/investments).
    capital: Decimal | None = Field(default=None, gt=0)


def _default_risk() -> RiskLimits:
    return RiskLimits(bot=BotLimits(max_order_notional=Decimal(2500), max_notional=Decimal(5000)))


class RunConfig(_Strict):
    """The run: default mode, venues, live accounts, bots (bot-file specs plus ``mode``, ``account`` and
    ``limits``), global risk limits, shutdown, report, paper fees, simulator, store."""

    mode: Mode = "paper"
    # Default: every venue the bots name, on the in-process simulator.
    venues: dict[str, VenueConfig] = Field(default_factory=dict)
    accounts: list[AccountConfig] = Field(default_factory=list)
    bots: list[dict[str, Any]] = Field(default_factory=lambda: [dict(b) for b in DEFAULT_BOTS])
    risk: RiskLimits = Field(default_factory=_default_risk)
    shutdown: ShutdownConfig = Field(default_factory=ShutdownConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    paper: PaperFees = Field(default_factory=PaperFees)
    # A livelier market than the simulator's default, so that the example bots trade within a minute.
    sim: SimConfig = Field(default_factory=lambda: SimConfig(market=MarketSpec(volatility_ticks=200.0)))
    log_every_s: float = Field(default=2.0, gt=0)
    # Where fills and orders are stored: a DSN (empty: the settings' store) and a database (empty: one
    # per run, ``run_<UTC time>``, so the report at exit covers this run only).
    store: str = ""
    database: str = ""
    # Durable bot state, so that a restart resumes every bot where it was (docs/restarts.md): its
    # directory (default ``<data_dir>/state/<config file name>``; ``--state-dir``), or ``persist: false``.
    state_dir: Path | None = None
    persist: bool = True

    @field_validator("store")
    @classmethod
    def _dsn(cls, v: str) -> str:
        if v and not v.startswith(("chdb://", "http://", "https://")):
            raise ValueError(
                "must be empty or start with chdb://, http:// or https://"
            )  # never echo: a password
        return v

    @field_validator("database")
    @classmethod
    def _database(cls, v: str) -> str:
        if v and not v.isidentifier():
            raise ValueError("must be a ClickHouse identifier (letters, digits, _)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _no_keys(cls, data: Any) -> Any:
        """API keys in the config file are refused, naming where they go instead."""
        if isinstance(data, dict):
            found = [p for k, v in data.items() if k != "sim" for p in _secret_paths(v, str(k))]
            if found:
                raise ValueError(
                    f"{', '.join(found)}: API keys do not belong in the run config; set "
                    "WISETRADER_ACCOUNT_<NAME>_API_KEY, _API_SECRET (and _PASSPHRASE for OKX) in the "
                    "environment, or put them in a secrets file (--secrets FILE or WISETRADER_SECRETS_FILE)"
                )
        return data

    @classmethod
    def from_yaml(cls, path: Path) -> RunConfig:
        return load_config(path)


def _secret_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            sub = f"{path}.{k}"
            out += [sub] if str(k).lower() in SECRET_KEYS else _secret_paths(v, sub)
        return out
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}[{i}]")]
    return []


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems(e: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for err in e.errors():
        where = _loc(tuple(err["loc"]))
        where = f"{prefix}.{where}" if prefix and where else prefix or where
        msg = (
            "unknown key"
            if err["type"] == "extra_forbidden"
            else str(err["msg"]).removeprefix("Value error, ")
        )
        lines.append(f"{where}: {msg}" if where else msg)
    return lines


def load_config(path: Path) -> RunConfig:
    """Read and shape-check a run config file (:class:`ConfigError` on any problem)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError([f"{path}: not valid YAML{where}: {getattr(e, 'problem', e)}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of keys, got {type(data).__name__}"])
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_problems(e)) from None


# ---- the resolved run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenuePlan:
    name: str  # protocol name: binance, bybit, okx
    label: str  # as the config names it (binance-spot)
    network: Network
    rest: str | None = None  # custom only
    ws: str | None = None

    def endpoints(self, sim_rest: str | None, sim_ws: str | None) -> tuple[str | None, str | None]:
        """(REST base, WS base) overriding the venue's own (None, None: the venue's mainnet/testnet).

        The simulator and custom venues are reached by base URL only; a WS base without a path gets the
        path of the venue's real public endpoint (Bybit /v5/public/spot, OKX /ws/v5/public)."""
        rest, ws = (sim_rest, sim_ws) if self.network == "sim" else (self.rest, self.ws)
        if rest is None or ws is None:
            return None, None
        if urllib.parse.urlsplit(ws).path in ("", "/"):
            real = venue_protocol(self.name).endpoints.ws
            ws = ws.rstrip("/") + urllib.parse.urlsplit(real).path
        return rest, ws


@dataclass(frozen=True)
class AccountPlan:
    name: str
    venue: str  # protocol name
    credentials: Credentials = field(repr=False)


@dataclass(frozen=True)
class BotPlan:
    id: str  # "1", "2", ...: the bot's position in the config, from 1
    kind: str
    venue: str  # protocol name
    symbol: str
    mode: Mode
    account: str  # a live account, or paper-<venue>
    instrument_json: str  # the core's, with the symbol's asset names
    spec_json: str
    bot: DcaBotFile | GridBotFile = field(repr=False)


@dataclass(frozen=True)
class RunPlan:
    config: RunConfig
    venues: dict[str, VenuePlan]  # by protocol name, only venues with bots
    accounts: dict[str, AccountPlan]  # live accounts with live bots
    bots: list[BotPlan]
    markets: dict[tuple[str, str], Market]
    min_notional: dict[tuple[str, str], Decimal]
    limits: RiskLimits  # with the accounts' and bots' overrides
    capital: Decimal


def _capital(bot: DcaBotFile | GridBotFile) -> Decimal:
    """What a bot may commit, in quote: a grid's investment, a DCA bot's budget (or its ladder in quote)."""
    if isinstance(bot, GridBotFile):
        return bot.investment.quote
    if bot.budget is not None:
        return bot.budget
    base, safety = bot.base_order.quote or Decimal(0), bot.safety_order.quote or Decimal(0)
    return base + sum((safety * bot.volume_scale**k for k in range(bot.max_safety_orders)), Decimal(0))


def resolve(
    config: RunConfig,
    secrets_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunPlan:
    """Check everything, start nothing: the run's plan, or a :class:`ConfigError` listing every problem."""
    return _Resolver(config).plan(secrets_file, environ)


class _Resolver:
    """One pass over the config; each step appends its problems and goes on, so all are reported."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.problems: list[str] = []
        self.venues: dict[str, VenuePlan] = {}  # by protocol name
        self.listed = ""  # the venues as the config names them, for messages
        self.account_venue: dict[str, str] = {}
        self.account_limits: dict[str, AccountLimits] = {}
        self.bot_limits: dict[str, BotLimits] = {}
        self.bots: list[BotPlan] = []
        self.markets: dict[tuple[str, str], Market] = {}
        self.min_notional: dict[tuple[str, str], Decimal] = {}
        self.engines: dict[tuple[str, str], BotEngine] = {}
        self.live_accounts: set[str] = set()
        self.capital = Decimal(0)
        self.sim_symbols: dict[tuple[str, str], SymbolSpec] = {}
        for s in config.sim.symbols:
            self.sim_symbols.update(
                {("binance", s.symbol): s, ("bybit", s.symbol): s, ("okx", s.okx_inst_id): s}
            )

    def plan(self, secrets_file: Path | None, environ: Mapping[str, str] | None) -> RunPlan:
        config = self.config
        self._venues()
        self._accounts()
        for i, spec in enumerate(config.bots):
            self._bot(i, spec)
        accounts = self._keys(secrets_file, environ)
        capital = config.report.capital or self.capital
        if not capital and not self.problems:
            self.problems.append(
                "report.capital: required (the bots have no budget or investment to default to)"
            )
        if self.problems:
            raise ConfigError(self.problems)
        limits = config.risk.model_copy(
            update={
                "accounts": {**config.risk.accounts, **self.account_limits},
                "bots": {**config.risk.bots, **self.bot_limits},
            }
        )
        used = {b.venue for b in self.bots}
        venues = {n: v for n, v in self.venues.items() if n in used}
        return RunPlan(config, venues, accounts, self.bots, self.markets, self.min_notional, limits, capital)

    def _venues(self) -> None:
        config = self.config
        given = config.venues
        if "venues" not in config.model_fields_set:  # default: every venue the bots name, on the simulator
            named = (b.get("venue") for b in config.bots if isinstance(b, dict))
            given = {v: VenueConfig() for v in dict.fromkeys(named) if isinstance(v, str)}
        self.listed = ", ".join(given)
        for label, vc in given.items():
            name = VENUES.get(label)
            if name is None:
                self.problems.append(f"venues.{label}: unknown venue; expected one of {', '.join(VENUES)}")
            elif name in self.venues:
                self.problems.append(f"venues.{label}: the same venue as venues.{self.venues[name].label}")
            else:
                self.venues[name] = VenuePlan(name, label, vc.network, vc.rest, vc.ws)

    def _venue(self, given: str, where: str) -> VenuePlan | None:
        venue = self.venues.get(VENUES.get(given, ""))
        if venue is None:
            self.problems.append(f"{where}.venue: {given!r} is not under venues: ({self.listed})")
        return venue

    def _limits(
        self, model: type[AccountLimits] | type[BotLimits], base: BaseModel, given: Any, where: str
    ) -> Any:
        """``given`` over ``base`` (the defaults for this account or bot), or None if invalid."""
        if not isinstance(given, dict):
            self.problems.append(f"{where}: expected a mapping of limits")
            return None
        try:
            return model.model_validate({**base.model_dump(), **given})
        except ValidationError as e:
            self.problems += _problems(e, where)
            return None

    def _accounts(self) -> None:
        config = self.config
        for i, acc in enumerate(config.accounts):
            where = f"accounts[{i}]"
            if not ACCOUNT_NAME.fullmatch(acc.name):
                self.problems.append(f"{where}.name: must match [A-Za-z0-9_-]{{1,32}}")
            elif acc.name.startswith(PAPER_ACCOUNT):
                self.problems.append(
                    f"{where}.name: names starting with {PAPER_ACCOUNT!r} are the paper accounts'"
                )
            elif acc.name in self.account_venue:
                self.problems.append(f"{where}.name: {acc.name} is defined twice")
            venue = self._venue(acc.venue, where)
            if venue is None:
                continue
            self.account_venue[acc.name] = venue.name
            base = config.risk.for_account(acc.name)
            limits = self._limits(AccountLimits, base, acc.limits, f"{where}.limits")
            if limits is not None and acc.limits:
                self.account_limits[acc.name] = limits

    def _bot(self, i: int, spec: Any) -> None:
        where, bot_id = f"bots[{i}]", str(i + 1)
        if not isinstance(spec, dict):
            self.problems.append(f"{where}: expected a mapping of keys")
            return
        mode = spec.get("mode", self.config.mode)
        if mode not in ("paper", "live"):
            self.problems.append(f"{where}.mode: must be paper or live, got {mode!r}")
            return
        try:
            bot = parse_bot({k: v for k, v in spec.items() if k not in RUN_ONLY_BOT_KEYS}, source=where)
        except BotFileError as e:
            head, *rest = str(e).splitlines()
            self.problems += [f"{where}.{line.strip()}" for line in rest] if rest else [head]
            return
        venue = self._venue(bot.venue, where)
        if venue is None:
            return
        if "limits" in spec:
            base = self.config.risk.for_bot(bot_id)
            limits = self._limits(BotLimits, base, spec["limits"], f"{where}.limits")
            if limits is not None:
                self.bot_limits[bot_id] = limits
        account = self._bot_account(venue, mode, spec.get("account"), where)
        if account is None:
            return
        instrument_json = self._market(venue, bot, where)
        if instrument_json is None:
            return
        kind, _, spec_json = core_args(bot)
        key = (venue.name, bot.symbol)
        try:  # the core's own checks (levels, ladders, budgets, venue minimums)
            if key not in self.engines:
                self.engines[key] = BotEngine(instrument_json)
            self.engines[key].add_bot(i + 1, kind, spec_json)
        except ValueError as e:
            # The core names the key first ("upper: must be above lower"): make it a path.
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            self.problems += [f"{where}.{x}" if re.match(r"[\w.]+: ", x) else f"{where}: {x}" for x in lines]
            return
        if mode == "live":
            self.live_accounts.add(account)
        self.capital += _capital(bot)
        self.bots.append(
            BotPlan(bot_id, kind, venue.name, bot.symbol, mode, account, instrument_json, spec_json, bot)
        )

    def _bot_account(self, venue: VenuePlan, mode: str, account: Any, where: str) -> str | None:
        """The account a bot trades on: paper-<venue>, or a live account of its venue."""
        if mode == "paper":
            if account is None:
                return paper_account(venue.name)
            self.problems.append(f"{where}.account: only live bots have an account (this one is paper)")
            return None
        on_venue = [a for a, v in self.account_venue.items() if v == venue.name]
        if account is None:
            if len(on_venue) == 1:
                return on_venue[0]
            sim_accounts = self.config.sim.accounts
            if not on_venue and venue.network == "sim" and sim_accounts:
                # No account on a simulated venue: the simulator's first account is implied.
                self.account_venue.setdefault(sim_accounts[0].name, venue.name)
                return sim_accounts[0].name
            self.problems.append(
                f"{where}.account: required for a live bot on {venue.label} "
                f"(accounts there: {', '.join(on_venue) or 'none; add one under accounts:'})"
            )
        elif account not in self.account_venue:
            self.problems.append(f"{where}.account: {account!r} is not under accounts:")
        elif self.account_venue[account] != venue.name:
            other = self.venues[self.account_venue[account]].label
            self.problems.append(f"{where}.account: {account} trades on {other}, the bot on {venue.label}")
        else:
            return str(account)
        return None

    def _market(self, venue: VenuePlan, bot: DcaBotFile | GridBotFile, where: str) -> str | None:
        """Register the bot's market; the core's instrument JSON with the asset names (None if invalid)."""
        inst = bot.instrument
        if venue.network == "sim":
            sym = self.sim_symbols.get((venue.name, bot.symbol))
            if sym is None:
                names = sorted({s for v, s in self.sim_symbols if v == venue.name})
                self.problems.append(
                    f"{where}.symbol: {bot.symbol} is not a simulator symbol on {venue.label} "
                    f"({', '.join(names)})"
                )
                return None
            if (inst.tick_size, inst.lot_step) != (sym.tick_size, sym.step_size):
                self.problems.append(
                    f"{where}.instrument: tick_size/lot_step {inst.tick_size}/{inst.lot_step} differ "
                    f"from the simulator's {sym.tick_size}/{sym.step_size} for {bot.symbol}"
                )
                return None
            base, quote, floor = sym.base, sym.quote, sym.min_notional
        elif "base_asset" in inst.model_fields_set and "quote_asset" in inst.model_fields_set:
            base, quote, floor = inst.base_asset, inst.quote_asset, inst.min_notional or Decimal(0)
        else:
            self.problems.append(
                f"{where}.instrument: base_asset and quote_asset are required on network {venue.network} "
                "(they name the market, e.g. BTC and USDT)"
            )
            return None
        key = (venue.name, bot.symbol)
        known = self.markets.get(key)
        if known is not None and (known.tick_size, known.step_size) != (inst.tick_size, inst.lot_step):
            self.problems.append(
                f"{where}.instrument: tick_size/lot_step differ from another bot's on {bot.symbol}"
            )
            return None
        self.markets.setdefault(
            key, Market(venue.name, bot.symbol, f"{base}/{quote}", inst.tick_size, inst.lot_step)
        )
        self.min_notional.setdefault(key, floor)
        instrument = json.loads(core_args(bot)[1])
        return json.dumps({**instrument, "base_asset": base, "quote_asset": quote})

    def _keys(self, secrets_file: Path | None, environ: Mapping[str, str] | None) -> dict[str, AccountPlan]:
        """The live accounts' keys: environment, secrets file, or (simulated venues) the simulator's."""
        names = sorted(self.live_accounts)
        try:
            found = load_credentials(names, secrets_file, environ)
        except CredentialsError as e:
            self.problems.append(str(e))
            return {}
        accounts = {}
        for name in names:
            venue = self.venues[self.account_venue[name]]
            creds = found.get(name)
            sim_accounts = self.config.sim.accounts
            if creds is None and venue.network == "sim" and sim_accounts:
                sim = next((a for a in sim_accounts if a.name == name), sim_accounts[0])
                creds = Credentials(api_key=SecretStr(sim.api_key), secret=SecretStr(sim.secret))
            prefix = env_prefix(name)
            if creds is None:
                self.problems.append(
                    f"account {name}: no API key for its live bots: set {prefix}API_KEY and "
                    f"{prefix}API_SECRET{f' and {prefix}PASSPHRASE' if venue.name == 'okx' else ''}, "
                    f"or add accounts.{name} to "
                    "the secrets file (--secrets FILE or WISETRADER_SECRETS_FILE)"
                )
            elif venue.name == "okx" and venue.network != "sim" and not creds.passphrase.get_secret_value():
                self.problems.append(f"account {name}: OKX needs a passphrase ({prefix}PASSPHRASE)")
            else:
                accounts[name] = AccountPlan(name, venue.name, creds)
        return accounts
