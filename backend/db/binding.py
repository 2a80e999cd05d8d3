"""Which engine the tables use, migrations, and write transactions.

Piccolo tables find their engine on the class (``Table._meta.db``), so binding is process-wide: the
app binds its engine at start-up, the command line and the tests bind theirs."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from backend.db.engines import engine_from_url, is_postgres

_bound: Engine | None = None


def all_tables() -> list[type[Table]]:
    return Finder().get_table_classes()


def bind(engine: Engine) -> None:
    """Point every table (and the migration runner) at ``engine``."""
    global _bound
    _bound = engine
    tables: list[type[Table]] = [*all_tables(), Migration]
    for table in tables:
        table._meta.db = engine


def bound_engine() -> Engine | None:
    return _bound


def current_engine() -> Engine:
    if _bound is None:
        raise RuntimeError("no database is bound: call backend.db.bind(engine) first")
    return _bound


async def migrate(engine: Engine) -> None:
    bind(engine)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


_BEFORE_RELEASE: list[Callable[[], Awaitable[object]]] = []


def before_release(job: Callable[[], Awaitable[object]]) -> None:
    """Work a higher domain must finish before a command lets its database go (the audit log links
    the entries the command recorded)."""
    if job not in _BEFORE_RELEASE:
        _BEFORE_RELEASE.append(job)


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Engine]:
    """Bind an engine for ``url`` (with its pool on PostgreSQL) for the length of a command."""
    engine = engine_from_url(url)
    bind(engine)
    if is_postgres(engine):
        await engine.start_connection_pool()
    try:
        yield engine
    finally:
        try:
            for job in _BEFORE_RELEASE:
                await job()
        finally:
            if is_postgres(engine):
                await engine.close_connection_pool()


def atomic() -> Any:
    """A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so two writers
    queue instead of failing half-way with 'database is locked'."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
