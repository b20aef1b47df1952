"""The HTTP face of the engine (FastAPI): versioned under ``/api/v1``, multi-user, every row owner-scoped."""

from wisetrader.api.app import create_app

__all__ = ["create_app"]
