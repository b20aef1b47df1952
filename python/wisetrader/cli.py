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


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """Benchmark harness (same as `python -m bench`; needs the source checkout): ours against the peers."""
    from wisetrader.bench_entry import run_bench

    run_bench(ctx.args)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
