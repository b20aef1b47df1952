"""The Python floor: decoding each frame with orjson and nothing else. No book, so no best bid/ask."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from bench.books import Runner

NAME = "orjson parse only (floor)"
ROLE = "floor"
REQUIRES = ("orjson",)
IMPORTS = ("orjson",)  # imported before the memory baseline


def version() -> str:
    return str(orjson.__version__)


def make(snapshot: bytes, frames: Sequence[bytes]) -> Runner:
    def run(frames: Sequence[bytes]) -> tuple[float, float]:
        loads = orjson.loads
        for frame in frames:
            loads(frame)
        return (float("nan"), float("nan"))

    return run
