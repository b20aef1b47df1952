"""Event schema, bus, store, writer and analytics tests (a package, so module names stay unique)."""
