"""The analytics store (ClickHouse: embedded chDB or a server) and the writer that fills it from the bus."""

from wisetrader.store.client import TABLE_OF, InsertResult, Store, columns_of, connect, to_arrow

__all__ = ["TABLE_OF", "InsertResult", "Store", "columns_of", "connect", "to_arrow"]
