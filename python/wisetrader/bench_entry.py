"""``wisetrader bench``: runs the harness in ``bench/`` of the source checkout (it is not packaged)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def run_bench(args: list[str]) -> None:
    """Forward ``args`` to ``python -m bench``; ``bench/`` is found in the cwd or in the checkout."""
    try:
        from bench.cli import main
    except ImportError:
        candidates = [Path.cwd(), Path(__file__).resolve().parents[2]]
        root = next((c for c in candidates if (c / "bench" / "cli.py").is_file()), None)
        if root is None:
            typer.echo("wisetrader bench runs from a source checkout: cd to the repository root", err=True)
            raise typer.Exit(2) from None
        sys.path.insert(0, str(root))
        from bench.cli import main
    main(args)
