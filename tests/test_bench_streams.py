"""The synthetic streams: calibrated on the recordings, reproducible, and valid by each venue's rules."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from bench.streams.calibration import book_messages, calibrate_all, measure, recorded_samples
from bench.streams.generator import PROFILES_PATH, generate, write_stream
from bench.streams.venues import VENUES, parse_book_message

RECORDINGS = Path(__file__).parent / "data" / "recordings"
FRAMES = 4000


def test_committed_profiles_are_the_calibration_of_the_recordings() -> None:
    assert orjson.loads(PROFILES_PATH.read_bytes()) == orjson.loads(orjson.dumps(calibrate_all(RECORDINGS)))


def test_calibration_measures_known_facts_of_the_recordings() -> None:
    okx = recorded_samples(RECORDINGS, "okx").stats()
    spot = recorded_samples(RECORDINGS, "binance-spot").stats()
    # OKX books messages carry many levels and delete often; Binance spot 100 ms diffs carry a few.
    assert okx.levels_per_frame_mean > 10 > spot.levels_per_frame_mean >= 1
    assert okx.delete_share > 0.3 > spot.delete_share > 0
    assert 0.4 < spot.bid_share < 0.6


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_generated_stream_is_shaped_like_the_recordings(venue: str) -> None:
    real = recorded_samples(RECORDINGS, VENUES[venue].calibrated_on).stats()
    gen = measure(book_messages(venue, generate(venue, FRAMES, seed=3)))
    assert gen.frames == FRAMES
    assert gen.levels_per_frame_mean == pytest.approx(real.levels_per_frame_mean, rel=0.2)
    assert gen.delete_share == pytest.approx(real.delete_share, abs=0.05)
    assert gen.absent_delete_share == pytest.approx(real.absent_delete_share, abs=0.03)
    assert gen.insert_share == pytest.approx(real.insert_share, abs=0.06)
    assert gen.bid_share == pytest.approx(real.bid_share, abs=0.05)
    # Distances from the top: same order of magnitude at the quartiles and the median.
    for g, r in zip(gen.distance_ticks_quantiles[1:4], real.distance_ticks_quantiles[1:4], strict=True):
        assert r / 4 <= g <= r * 4 + 2


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_same_seed_same_bytes(venue: str) -> None:
    assert list(generate(venue, 200, seed=7)) == list(generate(venue, 200, seed=7))
    assert list(generate(venue, 200, seed=7)) != list(generate(venue, 200, seed=8))


def _chain_ids(venue: str, frames: list[bytes]) -> None:
    """Each venue's sequence rule holds from the snapshot through every delta."""
    msgs = [orjson.loads(f) for f in frames]
    if venue == "binance-spot":
        last = msgs[0]["lastUpdateId"]
        for m in msgs[1:]:
            assert m["stream"] == "btcusdt@depth@100ms" and m["data"]["e"] == "depthUpdate"
            assert m["data"]["U"] == last + 1 and m["data"]["u"] >= m["data"]["U"]
            last = m["data"]["u"]
    elif venue == "binance-usdm":
        last = msgs[0]["lastUpdateId"]
        for m in msgs[1:]:
            assert m["data"]["pu"] == last and m["data"]["U"] > last
            last = m["data"]["u"]
    elif venue == "bybit":
        assert msgs[0]["type"] == "snapshot"
        for prev, m in itertools.pairwise(msgs):
            assert m["type"] == "delta" and m["data"]["u"] == prev["data"]["u"] + 1
    else:
        assert msgs[0]["action"] == "snapshot" and msgs[0]["data"][0]["prevSeqId"] == -1
        for prev, m in itertools.pairwise(msgs):
            assert m["action"] == "update" and m["data"][0]["prevSeqId"] == prev["data"][0]["seqId"]


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_stream_chains_and_the_book_never_crosses(venue: str) -> None:
    frames = list(generate(venue, 2000, seed=5))
    _chain_ids(venue, frames)
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for i, frame in enumerate(frames):
        msg = parse_book_message(venue, orjson.loads(frame))
        assert msg is not None and msg.snapshot == (i == 0)
        for side, levels in ((bids, msg.bids), (asks, msg.asks)):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)  # deleting an absent level is normal
                else:
                    side[Decimal(p)] = Decimal(q)
        assert max(bids) < min(asks)
    assert len(bids) >= 50 and len(asks) >= 50


def test_write_stream_uses_the_recording_line_format(tmp_path: Path) -> None:
    path = write_stream(tmp_path / "s.rec", "binance-spot", 50, seed=2)
    lines = path.read_bytes().splitlines()
    assert len(lines) == 51
    stamps = [int(line.split(b" ", 1)[0]) for line in lines]
    assert stamps == sorted(stamps)
    assert [line.split(b" ", 1)[1] for line in lines] == list(generate("binance-spot", 50, seed=2))
