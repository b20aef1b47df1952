"""Tools for development and tests (local services), not used by the engine at run time."""
