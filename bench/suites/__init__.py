"""One module per suite; each registers itself with ``bench.registry.suite``."""
