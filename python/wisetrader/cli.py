"""The ``wisetrader`` command line: one sub-command per concern, each defined in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="wisetrader: grid and DCA bots, fast.")


@app.callback()
def _root() -> None:
    """wisetrader: grid and DCA bots on Binance, Bybit and OKX, with a Rust hot path."""


@app.command()
def version() -> None:
    """Print the version of the package and of its Rust core."""
    from wisetrader import __version__

    typer.echo(__version__)


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """Benchmark harness (same as `python -m bench`; needs the source checkout): ours against the peers."""
    from wisetrader.bench_entry import run_bench

    run_bench(ctx.args)


@app.command("plan")
def plan_cmd(
    bot_file: str = typer.Argument(..., help="bot YAML file (see docs/bot-file.md)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
) -> None:
    """Show what a grid or DCA bot will do and need before it runs (exit 1 if it is invalid)."""
    from wisetrader.bots.cli import plan_command

    raise typer.Exit(plan_command(bot_file, as_json))


@app.command()
def api(
    host: str = typer.Option(None, help="address to listen on (default from WISETRADER_API__HOST)"),
    port: int = typer.Option(None, help="port to listen on (default from WISETRADER_API__PORT)"),
    replay: Annotated[
        Path | None, typer.Option(help="recording whose books the market-data routes serve")
    ] = None,
    venue: str | None = typer.Option(None, help="venue of --replay, e.g. binance-spot"),
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    from wisetrader.api.serve import run

    run(host, port, replay, venue)


@app.command()
def report(
    store: str = typer.Option("", help="store DSN (chdb://PATH or http(s)://...); default from settings"),
    database: str = typer.Option("", help="ClickHouse database; default from settings"),
    capital: float = typer.Option(
        10_000.0, help="starting capital in the quote currency (for returns and ratios)"
    ),
    method: str = typer.Option("fifo", help="realized P&L method: fifo or average"),
    start: str | None = typer.Option(None, help="ISO date/time (UTC), inclusive"),
    end: str | None = typer.Option(None, help="ISO date/time (UTC), exclusive"),
    bot: str | None = typer.Option(None, help="only this bot"),
    symbol: str | None = typer.Option(None, help="only this symbol"),
    account: str | None = typer.Option(None, help="only this account"),
    user: str | None = typer.Option(None, help="only this user"),
    quote: str | None = typer.Option(None, help="quote currency, when fills have several"),
    mark: Annotated[
        list[str] | None, typer.Option(help="venue:symbol=price to mark open positions (default: last fill)")
    ] = None,
    out: str = typer.Option("report", help="folder for the PNG charts"),
) -> None:
    """Summarize P&L and risk metrics from the store; write equity/drawdown and P&L-by-bot charts."""
    from wisetrader.analytics.report import run_cli

    run_cli(
        store=store,
        database=database,
        capital=capital,
        method=method,
        start=start,
        end=end,
        quote=quote,
        where={"bot_id": bot, "symbol": symbol, "account_id": account, "user_id": user},
        marks=mark or [],
        out=out,
    )


@app.command("run")
def run(
    config: Annotated[
        Path | None, typer.Option(help="YAML file: venues, accounts, bots, risk limits (docs/streaming.md)")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    secrets: Annotated[
        Path | None,
        typer.Option(help="YAML file of API keys by account (default: WISETRADER_SECRETS_FILE; mode 600)"),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="where the bots' state is kept for restarts (default: the config's, or DATA_DIR/state)"
        ),
    ] = None,
) -> None:
    """Run bots (paper or live) on the simulator or real venues, log progress, summarize, report."""
    from wisetrader.engine.run import run_command

    run_command(config, duration, secrets, state_dir)


@app.command("sim-exchange")
def sim_exchange(
    config: Annotated[Path | None, typer.Option(help="YAML file overriding SimConfig fields")] = None,
    port: Annotated[
        int | None, typer.Option(help="port on 127.0.0.1 (default: the config's; 0: any free)")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
) -> None:
    """Serve a local exchange simulator (Binance spot REST+WS, Bybit v5 and OKX v5 public WS)."""
    from wisetrader.sim.cli import run_sim_exchange

    run_sim_exchange(config, port, duration)


def _register() -> None:
    from wisetrader.marketdata.replay import replay_command

    app.command("replay")(replay_command)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
