"""Engines: SQLite (the embedded default, pooled) or PostgreSQL, chosen by the database URL."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString

from backend.db.querystrings import compile_postgres
from backend.db.sqlite_pool import PooledSQLiteEngine
from backend.lib import outages
from backend.lib.errors import AppError, unavailable

logger = logging.getLogger(__name__)


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
        # A database that does not answer fails a request in seconds (503), not after asyncpg's 60 s.
        "timeout": 5,
    }


def _lost(detail: str = "The database is unavailable; try again shortly.") -> AppError:
    return unavailable("database", detail, outages.DATABASE_RETRY_AFTER_S)


def _broken(exc: BaseException) -> bool:
    """A pooled connection the server closed while idle can refuse its next statement with a
    protocol-state error before sending anything: drop it and use another."""
    return isinstance(exc, asyncpg.InternalClientError) and "another operation" in str(exc)


def _read_only(query: str) -> bool:
    """A plain SELECT changes nothing, so running it again after a lost connection is harmless."""
    return query.lstrip()[:6].upper() == "SELECT"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool reset that sends nothing. asyncpg first rolls back any open transaction itself; its
    default reset then runs ``RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()``, one more
    round trip per query, for session state this app never creates (no SET, LISTEN, cursors or
    session-level advisory locks: the audit log's lock is transaction-scoped)."""


class AppPostgresTransaction(PostgresTransaction):
    """A transaction that survives a dead pooled connection at its start and never leaks one.

    Nothing has taken effect when acquiring the connection or BEGIN fails, so that is retried once on a
    fresh connection. A connection lost later (a statement, COMMIT) is not retried: the outcome of
    what was sent is unknown to us, so the request answers 503 and the client repeats it (creating
    requests are idempotent)."""

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        for attempt in (1, 2):
            connection = None
            try:
                connection = await self.get_connection()
                self.connection = connection
                self.transaction = connection.transaction()
                await self.begin()
                break
            except Exception as exc:
                broken = _broken(exc)
                if connection is not None:
                    if broken:
                        connection.terminate()
                    await self._release_quietly(connection)
                if not (broken or outages.database_unreachable(exc)):
                    raise
                if attempt == 2:
                    raise _lost() from exc
                logger.warning("database: lost connection at BEGIN, retrying once: %r", exc)
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        lost: BaseException | None = None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except Exception as exc:
            if not outages.database_unreachable(exc):
                raise
            lost = exc  # the server rolls back a transaction whose connection is gone
        finally:
            await self._release_quietly(self.connection)
            self.engine.current_transaction.reset(self.context)
        if lost is not None and exception is None:
            raise _lost() from lost  # COMMIT's outcome is unknown: the client repeats the request
        return exception is None

    async def _release_quietly(self, connection: asyncpg.Connection) -> None:
        try:
            if self.engine.pool is None:
                await connection.close()
            else:
                await self.engine.pool.release(connection)
        except Exception:  # a broken connection: the pool replaces it either way
            logger.debug("database: releasing a lost connection failed", exc_info=True)


class AppPostgresEngine(PostgresEngine):
    """Piccolo's ``PostgresEngine`` with less work per query: templates compiled from a cache and a
    pool reset that costs no round trip. A lost connection is retried once where that is safe and is
    otherwise a 503 (``service.unavailable``), never a 500."""

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("reset", _keep_session)
        await super().start_connection_pool(**kwargs)

    def transaction(self, allow_nested: bool = True) -> AppPostgresTransaction:
        return AppPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def _pooled(self, query: str, args: Any) -> Any:
        """Run outside a transaction. Retried once: a failure to get a connection (nothing was sent),
        a connection found closed before sending, or any lost connection for a plain SELECT."""
        assert self.pool is not None
        for attempt in (1, 2):
            try:
                connection = await self.pool.acquire()
            except Exception as exc:
                if not outages.database_unreachable(exc):
                    raise
                if attempt == 2:
                    raise _lost() from exc
                continue
            try:
                return await connection.fetch(query, *args)
            except Exception as exc:
                broken = _broken(exc)
                if broken:
                    connection.terminate()
                elif not outages.database_unreachable(exc):
                    raise
                unsent = broken or (
                    isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc)
                )
                if attempt == 2 or not (unsent or _read_only(query)):
                    raise _lost() from exc
                logger.warning("database: lost a pooled connection, retrying once: %r", exc)
            finally:
                try:
                    await self.pool.release(connection)
                except Exception:  # a broken connection: the pool has dropped it either way
                    logger.debug("database: releasing a lost connection failed", exc_info=True)
        raise AssertionError("unreachable")

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        query, query_args = compile_postgres(querystring)
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        current_transaction = self.current_transaction.get()
        if current_transaction:
            try:
                response = await current_transaction.connection.fetch(query, *query_args)
            except Exception as exc:
                if outages.database_unreachable(exc):
                    raise _lost() from exc
                raise
        elif in_pool and self.pool:
            response = await self._pooled(query, query_args)
        else:
            response = await self._run_in_new_connection(query, query_args)
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type in ("postgres", "cockroach")
