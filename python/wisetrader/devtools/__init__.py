"""Developer and CI helpers (throwaway local services for tests); not used by the running engine."""
