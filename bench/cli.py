"""``python -m bench`` (also ``wisetrader bench``): run the suites, write results, refresh the README."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bench.registry import REPO_ROOT, Context, Outcome, load_suites

app = typer.Typer(
    add_completion=False, help="wisetrader's benchmark harness: ours against the peers, one run."
)

QUICK = {"frames": 3_000, "runs": 3}
FULL = {"frames": 200_000, "runs": 5}


@app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small inputs and few runs (CI: a few minutes).")
    ] = False,
    suite: Annotated[
        list[str] | None, typer.Option("--suite", "-s", help="Run only this suite (repeatable).")
    ] = None,
    frames: Annotated[
        int | None, typer.Option(help="Frames per generated stream (overrides the mode).")
    ] = None,
    runs: Annotated[int | None, typer.Option(help="Repetitions per subject; the median is reported.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated streams.")] = 1,
    out: Annotated[Path, typer.Option(help="Where results are written.")] = REPO_ROOT / "bench" / "results",
    cache: Annotated[Path, typer.Option(help="Where generated streams are cached.")] = REPO_ROOT
    / "target"
    / "bench",
) -> None:
    """Run every suite (or the chosen ones) and write JSON, Markdown and a PNG chart to OUT."""
    if ctx.invoked_subcommand is not None:
        return
    from bench.registry import TARGETS
    from bench.report import Run, check_targets, machine_meta, write_all

    suites = load_suites()
    chosen = suite or list(suites)
    unknown = sorted(set(chosen) - set(suites))
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {unknown}; known: {sorted(suites)}", param_hint="--suite")
    mode = QUICK if quick else FULL
    mode_name = "quick" if quick else "full"
    context = Context(
        quick=quick,
        frames=frames or mode["frames"],
        runs=runs or mode["runs"],
        seed=seed,
        cache_dir=cache,
    )
    total = Outcome()
    for name in chosen:
        started = time.perf_counter()
        typer.echo(f"== {name}: {suites[name].description}", err=True)
        outcome = suites[name].run(context)
        total.results += outcome.results
        total.missing += outcome.missing
        typer.echo(f"   {len(outcome.results)} results in {time.perf_counter() - started:.1f} s", err=True)
    for m in total.missing:
        typer.echo(f"   not measured: {m.suite} / {m.subject}: {m.reason}", err=True)
    json_path, md_path, _ = write_all(
        Run(
            machine_meta(mode_name, chosen, all_suites=set(chosen) == set(suites)),
            total.results,
            total.missing,
            check_targets(total.results, [t for t in TARGETS if t.suite in chosen]),
        ),
        out,
    )
    typer.echo(md_path.read_text())
    typer.echo(f"wrote {json_path} and {md_path}", err=True)


@app.command("list")
def list_suites() -> None:
    """List the registered suites."""
    for s in load_suites().values():
        typer.echo(f"{s.name:12} {s.description}")


@app.command()
def calibrate(
    recordings: Annotated[Path, typer.Option(help="Folder of venue recording folders.")] = REPO_ROOT
    / "tests"
    / "data"
    / "recordings",
) -> None:
    """Re-measure the generator's profiles on the recordings and rewrite bench/streams/profiles.json."""
    import orjson

    from bench.streams.calibration import calibrate_all
    from bench.streams.generator import PROFILES_PATH

    PROFILES_PATH.write_bytes(orjson.dumps(calibrate_all(recordings), option=orjson.OPT_INDENT_2) + b"\n")
    typer.echo(f"wrote {PROFILES_PATH}")


@app.command()
def generate(
    venue: Annotated[str, typer.Argument(help="binance-spot, binance-usdm, bybit or okx")],
    frames: Annotated[int, typer.Argument(help="Number of diff frames after the snapshot.")],
    path: Annotated[Path, typer.Argument(help="Output file, one `<recv_ns> <payload>` line per frame.")],
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Write a synthetic diff-depth stream in the venue's wire format (the recordings' line format)."""
    from bench.streams.generator import write_stream
    from bench.streams.venues import VENUES

    if venue not in VENUES:
        raise typer.BadParameter(f"unknown venue {venue!r}; known: {sorted(VENUES)}")
    started = time.perf_counter()
    write_stream(path, venue, frames, seed)
    typer.echo(f"wrote {frames:,} frames to {path} in {time.perf_counter() - started:.1f} s")


@app.command()
def readme(
    path: Annotated[Path, typer.Option(help="The README to rewrite.")] = REPO_ROOT / "README.md",
    results: Annotated[Path, typer.Option(help="Results folder.")] = REPO_ROOT / "bench" / "results",
) -> None:
    """Rewrite the README's performance table from the latest full-mode results."""
    from bench.readme import update_readme

    changed = update_readme(path, results)
    typer.echo(f"{path}: {'updated' if changed else 'already up to date'}")


def main(args: list[str] | None = None) -> None:
    app(args=args, prog_name="python -m bench")
