"""Type stubs for the Rust extension ``wisetrader._core``."""

__version__: str
