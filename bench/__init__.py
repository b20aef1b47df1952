"""wisetrader's benchmark harness (``python -m bench``)."""
