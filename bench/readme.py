"""Rewrites the README's performance table from the latest full-mode results (never typed by hand).

``python -m bench readme`` replaces what lies between ``<!-- bench:start -->`` and ``<!-- bench:end -->``.
"""

from __future__ import annotations

from pathlib import Path

from bench.registry import REPO_ROOT, Result
from bench.report import RESULTS_DIR, Run, read_json, table, targets_table

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def latest_full_run(results_dir: Path = RESULTS_DIR) -> tuple[Path, Run]:
    """The newest full-mode run of every suite (by the date in its metadata); a run of some suites only
    (``--suite``, e.g. ``<date>-<machine>-api.json``) is not the README's table."""
    runs = [(p, read_json(p)) for p in results_dir.glob("*.json")]
    full = [(p, r) for p, r in runs if r.meta.get("mode") == "full" and r.meta.get("all_suites", True)]
    if not full:
        raise FileNotFoundError(f"no full-mode results in {results_dir}; run `python -m bench` first")
    return max(full, key=lambda pr: pr[1].meta["date"])


def render(path: Path, run: Run) -> str:
    m = run.meta
    lines = [
        f"Measured by `python -m bench` on {m['date'][:10]} ({m['cpu']}, Python {m['python']}); "
        f"full results in `bench/results/{path.name}`. Ratios are to the best peer (higher is better).",
        "",
    ]
    cases: dict[str, list[Result]] = {}
    for r in run.results:
        cases.setdefault(f"{r.suite}: {r.case}", []).append(r)
    for title, rows in cases.items():
        lines += [f"**{title}**", "", table(run.results, rows), ""]
    if run.targets:
        lines += ["**Targets**", "", targets_table(run.targets), ""]
    if run.missing:
        lines.append(
            "Not measured in that run: " + "; ".join(f"{x.subject} ({x.reason})" for x in run.missing)
        )
    return "\n".join(lines).rstrip() + "\n"


def rewrite(readme: Path, block: str) -> bool:
    """Replace the marked block in ``readme``; True if the file changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{block}{END}{tail}"
    if new == text:
        return False
    readme.write_text(new)
    return True


def update_readme(readme: Path = REPO_ROOT / "README.md", results_dir: Path = RESULTS_DIR) -> bool:
    path, run = latest_full_run(results_dir)
    return rewrite(readme, render(path, run))
