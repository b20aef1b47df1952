"""The harness end to end on a tiny input: it runs, writes its files, and its numbers are sane.

Timings are never asserted; only that every number is positive and finite, that the subjects keeping a
book agree on the final best bid/ask, and that peers which are not installed are reported as missing.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.books import SUBJECTS, load, missing_requirement
from bench.readme import END, START, latest_full_run, render, rewrite
from bench.registry import REPO_ROOT, Result, Role, Target, load_suites
from bench.report import check_targets, read_json, targets_table
from bench.suites import rust as rust_suite

QUICK_SUITES = ["book", "storage", "fanout", "triggers", "tick_to_order", "replay", "api"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results")
    cmd = [sys.executable, "-m", "bench", "--quick", "--frames", "300", "--runs", "2"]
    for name in QUICK_SUITES:  # not rust: cargo bench takes minutes
        cmd += ["--suite", name]
    cmd += ["--out", str(out), "--cache", str(out / "cache")]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"bench --quick failed:\n{done.stdout}\n{done.stderr}"
    return out


def test_quick_run_writes_json_markdown_and_chart(quick_run: Path) -> None:
    (json_path,) = quick_run.glob("*.json")
    assert json_path.with_suffix(".md").read_text().startswith("# Benchmark results")
    assert json_path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = read_json(json_path)
    assert run.meta["mode"] == "quick" and run.meta["suites"] == QUICK_SUITES


def test_quick_run_numbers_are_positive_and_finite(quick_run: Path) -> None:
    run = read_json(next(quick_run.glob("*.json")))
    assert {r.suite for r in run.results} == set(QUICK_SUITES)
    assert len({r.case for r in run.results if r.suite == "book"}) == 2
    for r in run.results:
        assert r.metrics[r.primary] > 0
        assert all(math.isfinite(v) and v >= 0 for v in r.metrics.values()), r
    for r in (r for r in run.results if r.suite == "book"):
        assert r.detail["frames"] == 300
        if r.role != "floor":
            assert r.detail["agrees"] is True, (
                f"{r.subject} ended on another best bid/ask: {r.detail['best']}"
            )


def test_quick_run_api_answers_every_request_of_each_endpoint(quick_run: Path) -> None:
    rows = [r for r in read_json(next(quick_run.glob("*.json"))).results if r.suite == "api"]
    assert [r.detail["endpoint"] for r in rows] == ["bots list", "top of book", "liveness"]
    for r in rows:
        assert r.metrics["non_200"] == 0, r.case  # a number over failed requests would measure nothing
        assert r.metrics["server_us_per_request"] > 0 and r.metrics["client_us_per_request"] > 0


def test_quick_run_trigger_cases_wake_exactly_the_crossed_bots(quick_run: Path) -> None:
    rows = [r for r in read_json(next(quick_run.glob("*.json"))).results if r.suite == "triggers"]
    no_cross = [r for r in rows if "nothing crossed" in r.case]
    assert [r.detail["bots"] for r in no_cross] == [1, 100, 1_000, 1_000]  # the last over 10 symbols
    assert no_cross[-1].detail["symbols"] == 10
    assert no_cross[2].metrics["bytes_per_bot"] > 0
    crossed = {r.case: r.detail["bots_woken_per_top"] for r in rows if "crossed per top" in r.case}
    assert crossed == {
        "1,000 bots, one symbol, 1 crossed per top": 1,
        "1,000 bots, one symbol, 10 crossed per top": 10,
    }


def test_quick_run_tick_to_order_percentiles_are_ordered(quick_run: Path) -> None:
    (row,) = [r for r in read_json(next(quick_run.glob("*.json"))).results if r.suite == "tick_to_order"]
    assert row.metrics["orders"] > 10 and row.detail["rejected"] == 0
    assert row.metrics["p50_us"] <= row.metrics["p99_us"] <= row.metrics["p99.9_us"]


def test_quick_run_replay_drives_the_bots(quick_run: Path) -> None:
    rows = [r for r in read_json(next(quick_run.glob("*.json"))).results if r.suite == "replay"]
    assert {r.role for r in rows} == {"ours", "floor"} and len(rows) == 3
    for r in rows:
        assert r.detail["frames"] == 301 and r.detail["tops"] > 0  # the snapshot and 300 deltas
        assert (r.detail["intents"] > 0) == (r.role == "ours")  # the grid places its orders at once


def test_every_subject_is_measured_or_reported_missing(quick_run: Path) -> None:
    run = read_json(next(quick_run.glob("*.json")))
    measured = {r.subject for r in run.results}
    missing = {m.subject for m in run.missing}
    for subject in SUBJECTS:
        module = load(subject)
        installed = missing_requirement(module) is None
        assert (module.NAME in measured) == installed
        assert (module.NAME in missing) == (not installed)


def test_readme_block_is_generated_from_the_latest_full_run(quick_run: Path, tmp_path: Path) -> None:
    raw = orjson.loads(next(quick_run.glob("*.json")).read_bytes())
    raw["meta"] |= {"mode": "full", "all_suites": True}
    (tmp_path / "2020-01-01-x.json").write_bytes(orjson.dumps(raw))
    partial = raw | {"meta": raw["meta"] | {"date": "2030-01-01T00:00:00Z", "all_suites": False}}
    (tmp_path / "2030-01-01-x-api.json").write_bytes(orjson.dumps(partial))  # newer, but some suites only
    path, run = latest_full_run(tmp_path)
    assert path.name == "2020-01-01-x.json"
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{START}\nstale table\n{END}\nafter\n")
    assert rewrite(readme, render(path, run))
    text = readme.read_text()
    assert "stale table" not in text and text.startswith("# title\n\nbefore\n") and text.endswith("after\n")
    assert "orjson parse only (floor)" in text and "2020-01-01-x.json" in text
    assert not rewrite(readme, render(path, run))  # idempotent


def test_unknown_suite_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--suite", "nope", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "unknown suite" in proc.stderr
    assert "book" in load_suites()


def test_targets_take_the_worst_case_and_ratios_to_the_best_peer() -> None:
    def row(case: str, subject: str, role: Role, fps: float) -> Result:
        return Result("book", case, subject, role, {"frames_per_s": fps})

    results = [
        row("a", "peer1", "peer", 100.0),
        row("a", "peer2", "peer", 200.0),
        row("a", "ours", "ours", 4000.0),
        row("b", "peer1", "peer", 100.0),
        row("b", "ours", "ours", 1000.0),
    ]
    ratio, absolute, absent = check_targets(
        results,
        [
            Target("book", "25x", "ours", "ratio_to_best_peer", 25),
            Target("book", "3000/s", "ours", "frames_per_s", 3000),
            Target("book", "other", "nobody", "frames_per_s", 1),
        ],
    )
    assert ratio["value"] == pytest.approx(10.0) and ratio["attainment"] == pytest.approx(0.4)  # case b: 10x
    assert absolute["value"] == 1000.0 and absolute["attainment"] == pytest.approx(1 / 3)
    assert absent["value"] is None and absent["attainment"] is None
    table = targets_table([ratio, absolute, absent])
    assert (
        table.index("| 1,000 | 33% | not met")
        < table.index("| 10 | 40% | not met")
        < table.index("not measured")
    )


def test_quick_run_reports_the_book_targets(quick_run: Path) -> None:
    run = read_json(next(quick_run.glob("*.json")))
    assert {t["goal"] for t in run.targets} == {
        "Python API: >= 25x the best peer",
        "batches: >= 1,000,000 frames/s per core",
        "Kafka publish: >= 90% of the raw aiokafka ceiling",
        "100,000 bots on a symbol, nothing crossed: < 2 us per top",  # not measured by --quick
        "p99 < 100 us",
    }
    kafka = next(t for t in run.targets if t["suite"] == "fanout")
    assert kafka["value"] > 0 and kafka["attainment"] == pytest.approx(kafka["value"] / 0.9)


def test_rust_suite_collects_fresh_criterion_medians(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout criterion writes: <target>/criterion/<group>/<bench>/new/{benchmark,estimates}.json."""
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path))
    for name, median in (("old", 5.0), ("apply_frame", 640.0)):
        new = tmp_path / "criterion" / "book" / name / "new"
        new.mkdir(parents=True)
        (new / "benchmark.json").write_bytes(orjson.dumps({"group_id": "book", "full_id": f"book/{name}"}))
        (new / "estimates.json").write_bytes(orjson.dumps({"median": {"point_estimate": median}}))
    old = tmp_path / "criterion" / "book" / "old" / "new" / "estimates.json"
    os.utime(old, (1_000_000, 1_000_000))  # from an earlier run: not reported
    (row,) = rust_suite.collect(since=2_000_000)
    assert row.subject.endswith("book/apply_frame") and row.case == "book"
    assert row.metrics == {"ns_per_iter": 640.0, "per_s": pytest.approx(1e9 / 640)}
    assert row.higher_is_better is False
