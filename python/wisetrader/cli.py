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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
