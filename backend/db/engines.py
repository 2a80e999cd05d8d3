"""Engines: SQLite (the embedded default, pooled) or PostgreSQL, chosen by the database URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from backend.db.querystrings import compile_postgres
from backend.db.sqlite_pool import PooledSQLiteEngine

if TYPE_CHECKING:
    import asyncpg


def engine_from_url(url: str) -> Engine:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            # WAL lets readers proceed while one writer commits; it persists in the file.
            conn.execute("PRAGMA journal_mode=WAL")
        # Long-lived connections instead of one per query: about 12x faster reads (docs/benchmarks.md).
        return PooledSQLiteEngine(path=str(path), timeout=30)
    if scheme in ("postgres", "postgresql"):
        return AppPostgresEngine(config=postgres_config(url))
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")


def postgres_config(url: str) -> dict[str, Any]:
    """asyncpg pool settings. asyncpg prepares every statement; after five runs PostgreSQL may switch
    to a generic plan made without the parameter values, which for a skewed filter (an item with few,
    old actions) walks the whole feed index: plan each run with its values instead."""
    return {
        "dsn": url.replace("postgres://", "postgresql://", 1),
        "server_settings": {"plan_cache_mode": "force_custom_plan"},
    }


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool reset that sends nothing. asyncpg first rolls back any open transaction itself; its
    default reset then runs ``RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()``, one more
    round trip per query, for session state this app never creates (no SET, LISTEN, cursors or
    session-level advisory locks: the audit log's lock is transaction-scoped)."""


class AppPostgresEngine(PostgresEngine):
    """Piccolo's ``PostgresEngine`` with less work per query: templates compiled from a cache and a
    pool reset that costs no round trip."""

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("reset", _keep_session)
        await super().start_connection_pool(**kwargs)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        query, query_args = compile_postgres(querystring)
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        current_transaction = self.current_transaction.get()
        if current_transaction:
            response = await current_transaction.connection.fetch(query, *query_args)
        elif in_pool and self.pool:
            response = await self._run_in_pool(query, query_args)
        else:
            response = await self._run_in_new_connection(query, query_args)
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type in ("postgres", "cockroach")
