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


@app.command("plan")
def plan_cmd(
    bot_file: str = typer.Argument(..., help="bot YAML file (see docs/bot-file.md)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
) -> None:
    """Show what a grid or DCA bot will do and need before it runs (exit 1 if it is invalid)."""
    from wisetrader.bots.cli import plan_command

    raise typer.Exit(plan_command(bot_file, as_json))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
