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


@app.command()
def api(
    host: str = typer.Option(None, help="address to listen on (default from WISETRADER_API__HOST)"),
    port: int = typer.Option(None, help="port to listen on (default from WISETRADER_API__PORT)"),
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    from wisetrader.api.serve import run

    run(host, port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
