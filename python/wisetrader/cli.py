"""The ``wisetrader`` command line: one sub-command per concern, each defined in its own module."""

from __future__ import annotations

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


def _register() -> None:
    from wisetrader.marketdata.replay import replay_command

    app.command("replay")(replay_command)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
