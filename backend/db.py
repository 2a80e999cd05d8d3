"""Database engine selection and binding: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table


def engine_from_url(url: str) -> Engine:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            # WAL lets readers proceed while one writer commits; it persists in the file.
            conn.execute("PRAGMA journal_mode=WAL")
        from backend.lib.sqlite_engine import PooledSQLiteEngine

        # Long-lived connections instead of one per query: about 12x faster reads (docs/benchmarks.md).
        return PooledSQLiteEngine(path=str(path), timeout=30)
    if scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type in ("postgres", "cockroach")


def all_tables() -> list[type[Table]]:
    return Finder().get_table_classes()


def bind(engine: Engine) -> None:
    """Point every table (and the migration runner) at ``engine``."""
    from piccolo.apps.migrations.tables import Migration

    from backend import piccolo_conf

    piccolo_conf.DB = engine
    for table in [*all_tables(), Migration]:
        table._meta.db = engine


async def migrate(engine: Engine) -> None:
    bind(engine)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


def atomic():
    """A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so two writers
    queue instead of failing half-way with 'database is locked'."""
    from piccolo.engine.sqlite import TransactionType

    from backend.audit.tables import AuditEntry

    engine = AuditEntry._meta.db
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def is_unique_violation(exc: BaseException) -> bool:
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
