"""Order books measured on the book path: ours and the peers', one module each.

A subject module defines ``NAME``, ``ROLE``, ``REQUIRES`` (modules that must be installed),
``IMPORTS`` (modules the worker imports before taking its memory baseline), ``version()`` and
``make(snapshot) -> run``: ``make`` builds a fresh book from a Binance REST snapshot body (not timed) and
returns ``run(frames)``, which for every raw frame decodes it, applies its levels and reads the best bid
and ask, and returns the last (bid, ask) so that all subjects can be checked to agree.
Every Python peer decodes with orjson, the fastest JSON decoder for Python, so peers are measured at
their best.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from types import ModuleType

Runner = Callable[[Sequence[bytes]], tuple[float, float]]

SUBJECTS = ("orjson_floor", "sorted_dict", "ccxt_book", "cryptofeed_book", "nautilus_book")


def load(subject: str) -> ModuleType:
    return importlib.import_module(f"bench.books.{subject}")


def missing_requirement(module: ModuleType) -> str | None:
    """The first required module that is not importable here, or None."""
    for name in module.REQUIRES:
        if importlib.util.find_spec(name) is None:
            return str(name)
    return None
