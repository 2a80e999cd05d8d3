"""A plain pool of aiosqlite connections for Piccolo, to compare with the app's
``backend.db.sqlite_pool.PooledSQLiteEngine``: benchmarks only, not used by the app.

``pool_size`` long-lived reader connections and one writer connection, in WAL mode. The writer
runs every ``IMMEDIATE``/``EXCLUSIVE`` transaction and every write statement outside a transaction,
one holder at a time (an ``asyncio.Lock``); the readers run everything else, deferred transactions
included. A statement is one aiosqlite call (``execute_fetchall``, rows as Piccolo's
``dict_factory`` makes them). Row converters (``backend.db.converters``) and query compilation
(``backend.db.querystrings``) are the app's, so that only the pooling differs.

Connections open on first use; ``close()`` closes them (aiosqlite's threads are not daemons: call it
before the process exits). The lock and the queue belong to the event loop that first waits on them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from backend.db import converters
from backend.db.querystrings import compile_sqlite

_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_WRITER_TYPES = (TransactionType.immediate, TransactionType.exclusive)


class PlainTransaction(SQLiteTransaction):
    """Piccolo's transaction on a pooled connection, given back to the pool instead of closed."""

    engine: PlainAiosqliteEngine

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire(write=self.transaction_type in _WRITER_TYPES)

    async def begin(self) -> None:
        try:
            await super().begin()
        except BaseException:
            await self.engine.release(self.connection)
            raise

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is None and not (self._committed or self._rolled_back):
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.release(self.connection)  # rolls back whatever is still open
        return exception is None


class PlainAiosqliteEngine(SQLiteEngine):
    def __init__(self, path: str = "piccolo.sqlite", pool_size: int = 4, **connection_kwargs: Any) -> None:
        connection_kwargs.setdefault("timeout", 30.0)  # also SQLite's busy timeout
        converters.register()
        super().__init__(path=path, **connection_kwargs)
        if self.get_version_sync() < 3.35:
            raise RuntimeError("needs SQLite 3.35 or later (RETURNING)")
        self.pool_size = pool_size
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._writer_lock = asyncio.Lock()
        self._writer: aiosqlite.Connection | None = None
        self._connections: list[aiosqlite.Connection] = []
        self._readers_open = 0

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        self._connections.append(connection)
        connection.row_factory = dict_factory
        await connection.execute_fetchall("PRAGMA journal_mode = WAL")
        await connection.execute_fetchall("PRAGMA foreign_keys = 1")
        return connection

    async def acquire(self, write: bool) -> aiosqlite.Connection:
        if write:
            await self._writer_lock.acquire()
            try:
                if self._writer is None:
                    self._writer = await self._connect()
            except BaseException:
                self._writer_lock.release()
                raise
            return self._writer
        if self._idle.empty() and self._readers_open < self.pool_size:
            self._readers_open += 1
            try:
                return await self._connect()
            except BaseException:
                self._readers_open -= 1
                raise
        return await self._idle.get()

    async def release(self, connection: aiosqlite.Connection) -> None:
        try:
            if connection.in_transaction:  # an exception, a failed COMMIT, a cancelled BEGIN
                await connection.execute_fetchall("ROLLBACK")
        finally:
            if connection is self._writer:
                self._writer_lock.release()
            else:
                self._idle.put_nowait(connection)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> PlainTransaction:
        return PlainTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        current = self.current_transaction.get()
        if current is not None:
            return await current.connection.execute_fetchall(query, args)
        connection = await self.acquire(write=bool(_WRITE.match(query)))
        try:
            return await connection.execute_fetchall(query, args)
        finally:
            await self.release(connection)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False):
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        response = await self._run(*compile_sqlite(querystring))
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def run_ddl(self, ddl: str, in_pool: bool = False):
        return await self._run(ddl, ())

    async def start_connection_pool(self) -> None:
        pass  # connections open on first use

    async def close_connection_pool(self) -> None:
        await self.close()

    async def close(self) -> None:
        connections, self._connections = self._connections, []
        for connection in connections:
            await connection.close()
        self._idle = asyncio.Queue()
        self._writer, self._readers_open = None, 0
