"""Order books measured on the book path: ours and the peers', one module each.

A subject module defines ``NAME``, ``ROLE``, ``REQUIRES`` (modules that must be installed), ``IMPORTS``
(modules the worker imports before taking its memory baseline), ``version()``, optionally
``unavailable()`` (why it cannot run here, or None), and ``make(snapshot, frames) -> run``. ``make``
builds a fresh book from a Binance REST snapshot body (not timed; ``frames`` only serve set-up, such as
finding the symbol) and returns ``run(frames)``, which for every raw frame decodes it, applies its levels
and reads the best bid and ask, and returns the last (bid, ask) so that all subjects can be checked to
agree. Every Python peer decodes with orjson, the fastest JSON decoder for Python, so peers are measured
at their best.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from types import ModuleType

Runner = Callable[[Sequence[bytes]], tuple[float, float]]

SUBJECTS = (
    "orjson_floor",
    "sorted_dict",
    "ccxt_book",
    "cryptofeed_book",
    "nautilus_book",
    "wisetrader_frame",
    "wisetrader_batch",
)


def load(subject: str) -> ModuleType:
    return importlib.import_module(f"bench.books.{subject}")


def missing_requirement(module: ModuleType) -> str | None:
    """Why ``module`` cannot be measured here (a required module is not installed, or its own
    ``unavailable()`` says why), or None."""
    for name in module.REQUIRES:
        if importlib.util.find_spec(name) is None:
            return f"{name} is not installed (pip install '.[bench]')"
    unavailable: Callable[[], str | None] | None = getattr(module, "unavailable", None)
    return unavailable() if unavailable is not None else None
