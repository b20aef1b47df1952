"""wisetrader: a low-latency engine for automated crypto trading."""

from wisetrader._core import __version__

__all__ = ["__version__"]
