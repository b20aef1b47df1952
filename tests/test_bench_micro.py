"""pytest-benchmark micro-benchmarks of the hot functions on the book path.

The normal test run passes ``--benchmark-disable`` (pyproject addopts): each body runs once as a plain
test and its assertions still hold. Time them with ``pytest tests/test_bench_micro.py --benchmark-enable``.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bench.books import orjson_floor, sorted_dict
from bench.books._wisetrader import synced_market
from bench.streams.generator import StreamGenerator, generate

FRAMES = list(generate("binance-spot", 2_000, seed=11))
SNAPSHOT, DELTAS = FRAMES[0], FRAMES[1:]


def test_orjson_decode_of_one_depth_frame(benchmark: Any) -> None:
    frame = DELTAS[0]
    decoded = benchmark(orjson.loads, frame)
    assert decoded["data"]["e"] == "depthUpdate"


@pytest.mark.parametrize("subject", [orjson_floor, sorted_dict], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_book_subject_over_2000_frames(benchmark: Any, subject: Any) -> None:
    run = subject.make(SNAPSHOT, DELTAS)
    bid, ask = benchmark(run, DELTAS)
    if subject.ROLE != "floor":
        assert 0 < bid < ask


def test_generator_one_delta_frame(benchmark: Any) -> None:
    gen = StreamGenerator("binance-spot", seed=11)
    gen.snapshot()
    frame = benchmark(gen.delta)
    assert orjson.loads(frame)["data"]["e"] == "depthUpdate"


def test_wisetrader_feed_one_frame(benchmark: Any) -> None:
    md, symbol = synced_market(SNAPSHOT, DELTAS)
    frames = iter(DELTAS)  # each call applies the next frame, so the book keeps chaining
    benchmark.pedantic(lambda: md.feed(next(frames), 0), rounds=len(DELTAS) // 2, iterations=1)
    assert md.state(symbol)[0] == "synced" and md.best(symbol) is not None


def test_wisetrader_feed_batch_of_1000(benchmark: Any) -> None:
    md, symbol = synced_market(SNAPSHOT, DELTAS)
    batch = DELTAS[:1000]
    changes = benchmark.pedantic(lambda: md.feed_batch(batch, [0] * 1000), rounds=1, iterations=1)
    assert changes.frames == 1000 and len(changes.tops) > 0
    assert md.state(symbol)[0] == "synced"
