"""Control-plane state: users, tokens, exchange accounts and keys, bots and their versions, risk limits,
audit log. SQLAlchemy 2 (async) over SQLite by default and PostgreSQL in production; Alembic migrations."""
