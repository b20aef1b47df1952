"""Results on disk: ``bench/results/<date>-<machine>.json``, a Markdown summary and a PNG chart.

Ratios are taken per case against the best peer on the case's primary metric (floors are not peers).
"""

from __future__ import annotations

import datetime as dt
import math
import platform
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.registry import Missing, Result, Target

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Run:
    """Everything one harness run produced, as written to its JSON file."""

    meta: dict[str, Any]
    results: list[Result]
    missing: list[Missing]
    targets: list[dict[str, Any]] = field(default_factory=list)  # from check_targets


def machine_meta(mode: str, suites: list[str], all_suites: bool) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": socket.gethostname(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mode": mode,
        "suites": suites,
        "all_suites": all_suites,
    }


def best_peer(results: list[Result], case: str) -> Result | None:
    peers = [r for r in results if r.case == case and r.role == "peer"]
    if not peers:
        return None
    pick = max if peers[0].higher_is_better else min
    return pick(peers, key=lambda r: r.metrics[peers[0].primary])


def ratio_to_best_peer(results: list[Result], r: Result) -> float | None:
    """How many times better than the best peer ``r`` is (>1 is better), on the primary metric."""
    best = best_peer(results, r.case)
    if best is None:
        return None
    mine, theirs = r.metrics[r.primary], best.metrics[r.primary]
    if mine <= 0 or theirs <= 0:
        return None
    return mine / theirs if r.higher_is_better else theirs / mine


def check_targets(results: list[Result], targets: list[Target]) -> list[dict[str, Any]]:
    """Each target with its measured value (the worst case over the cases) and how far it got:
    ``attainment`` is value/threshold (threshold/value for lower-is-better); 1.0 or more is met."""
    out = []
    for t in targets:
        values = []
        for r in results:
            if r.subject != t.subject or t.case_contains not in r.case:
                continue
            v = (
                ratio_to_best_peer(results, r)
                if t.metric == "ratio_to_best_peer"
                else r.metrics.get(t.metric)
            )
            if v is not None and v > 0:
                values.append(v)
        value = (min(values) if t.higher_is_better else max(values)) if values else None
        attainment = None
        if value is not None:
            attainment = value / t.threshold if t.higher_is_better else t.threshold / value
        out.append({**t.__dict__, "value": value, "attainment": attainment})
    return out


def targets_table(checks: list[dict[str, Any]]) -> str:
    rows = ["| suite | target | measured | of target | status |", "|---|---|---|---|---|"]
    for c in sorted(checks, key=lambda c: (c["attainment"] is None, c["attainment"] or 0.0)):
        if c["value"] is None:
            rows.append(f"| {c['suite']} | {c['goal']} | not measured | | |")
            continue
        status = "met" if c["attainment"] >= 1 else "not met"
        rows.append(f"| {c['suite']} | {c['goal']} | {fmt(c['value'])} | {c['attainment']:.0%} | {status} |")
    return "\n".join(rows)


def write_json(run: Run, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    # A full run of every suite is `<date>-<machine>.json`; quick or partial runs say so in the name, so
    # they never overwrite the day's full results.
    name = f"{run.meta['date'][:10]}-{run.meta['machine']}"
    if run.meta["mode"] != "full":
        name += f"-{run.meta['mode']}"
    if not run.meta.get("all_suites", True):
        name += "-" + "-".join(run.meta["suites"])
    path = out_dir / f"{name}.json"
    body = {
        "meta": run.meta,
        "results": [
            r.to_json() | {"ratio_to_best_peer": ratio_to_best_peer(run.results, r)} for r in run.results
        ],
        "missing": [m.__dict__ for m in run.missing],
        "targets": run.targets,
    }
    path.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    return path


def read_json(path: Path) -> Run:
    raw = orjson.loads(path.read_bytes())
    results = [Result(**{k: v for k, v in r.items() if k != "ratio_to_best_peer"}) for r in raw["results"]]
    missing = [Missing(**m) for m in raw["missing"]]
    return Run(raw["meta"], results, missing, raw.get("targets", []))


def fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def markdown(run: Run, chart: Path | None = None) -> str:
    m = run.meta
    lines = [
        f"# Benchmark results {m['date']} on {m['machine']}",
        "",
        f"{m['cpu']}, Python {m['python']}, {m['mode']} mode. Ratios are to the best peer of the same case "
        "on its primary metric (higher is better).",
        "",
    ]
    cases: dict[str, list[Result]] = {}
    for r in run.results:
        cases.setdefault(f"{r.suite}: {r.case}", []).append(r)
    for title, rows in cases.items():
        lines += [f"## {title}", "", table(run.results, rows), ""]
    if run.targets:
        lines += ["## Targets (worst case over the cases, furthest from target first)", ""]
        lines += [targets_table(run.targets), ""]
    if run.missing:
        lines += ["## Not measured here", ""]
        lines += [f"- {x.suite} / {x.subject}: {x.reason}" for x in run.missing]
        lines.append("")
    if chart is not None:
        lines += [f"![chart]({chart.name})", ""]
    return "\n".join(lines)


def table(all_results: list[Result], rows: list[Result]) -> str:
    metrics = list(rows[0].metrics)
    head = ["subject", "role", *metrics, "vs best peer", "version"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ordered = sorted(rows, key=lambda r: r.metrics[r.primary], reverse=rows[0].higher_is_better)
    for r in ordered:
        ratio = ratio_to_best_peer(all_results, r)
        cells = [r.subject, r.role, *(fmt(r.metrics.get(k, math.nan)) for k in metrics)]
        cells += ["" if ratio is None else f"{ratio:.2f}x", str(r.detail.get("version", ""))]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def chart(run: Run, path: Path) -> Path | None:
    """A horizontal bar chart of the primary metric per case (log scale); None if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    cases: dict[str, list[Result]] = {}
    for r in run.results:
        cases.setdefault(f"{r.suite}: {r.case}", []).append(r)
    if not cases:
        return None
    fig, axes = plt.subplots(len(cases), 1, figsize=(9, 1.0 + 0.45 * len(run.results) + 0.6 * len(cases)))
    axes_list = list(axes) if len(cases) > 1 else [axes]
    colours = {"ours": "#d62728", "peer": "#1f77b4", "floor": "#7f7f7f"}
    for ax, (title, rows) in zip(axes_list, cases.items(), strict=True):
        rows = sorted(rows, key=lambda r: r.metrics[r.primary])
        ax.barh(
            [r.subject for r in rows],
            [r.metrics[r.primary] for r in rows],
            color=[colours[r.role] for r in rows],
        )
        ax.set_xscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(rows[0].primary.replace("_", " "), fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_all(run: Run, out_dir: Path) -> tuple[Path, Path, Path | None]:
    """The JSON, the chart and the Markdown summary of ``run``, side by side in ``out_dir``."""
    json_path = write_json(run, out_dir)
    png = chart(run, json_path.with_suffix(".png"))
    md_path = json_path.with_suffix(".md")
    md_path.write_text(markdown(run, png))
    return json_path, md_path, png
