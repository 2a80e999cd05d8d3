"""Database plumbing in one place: engines, the SQLite pool and its row converters, compiled query
strings, binding tables to an engine, migrations and transactions. Imports no domain; nothing runs
at import time."""

from backend.db.binding import (
    all_tables,
    atomic,
    before_release,
    bind,
    bound_engine,
    connected,
    current_engine,
    is_unique_violation,
    migrate,
)
from backend.db.columns import json_value
from backend.db.engines import AppPostgresEngine, engine_from_url, is_postgres, postgres_config

__all__ = [
    "AppPostgresEngine",
    "all_tables",
    "atomic",
    "before_release",
    "bind",
    "bound_engine",
    "connected",
    "current_engine",
    "engine_from_url",
    "is_postgres",
    "is_unique_violation",
    "json_value",
    "migrate",
    "postgres_config",
]
