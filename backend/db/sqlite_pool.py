"""A Piccolo SQLite engine that keeps its connections open.

Piccolo's stock ``SQLiteEngine`` opens a new connection (and a new thread) for every query outside a
transaction and for every transaction. ``PooledSQLiteEngine`` keeps a few long-lived connections
instead:

* **readers** (``pool_size``, default 4) run ``SELECT`` and other statements outside a transaction,
  and deferred transactions. In WAL mode they read concurrently with each other and with the writer.
* **one writer** runs ``INSERT``/``UPDATE``/``DELETE``/DDL outside a transaction and every
  ``IMMEDIATE``/``EXCLUSIVE`` transaction (``backend.db.atomic()``). Writers of this process queue for
  it in FIFO order instead of spinning in SQLite's busy handler; ``busy_timeout`` still covers other
  processes (a CLI command while the server runs).

Each connection is owned by one daemon thread that runs its statements in order, so a query costs
one hand-off to that thread and one back (``execute`` + ``fetchall`` in a single call). Short
statements skip even that and run on the caller's thread, when the connection's thread is idle:

* a ``SELECT`` runs there for at most ``inline_budget`` SQLite VM instructions (100,000, a few
  milliseconds); one that needs more is interrupted by SQLite's progress handler and run again on
  the connection's thread, so a big read never holds up the event loop for long. Counting
  instructions rather than time keeps the choice the same for a query however busy the machine is;
* an ``INSERT``/``UPDATE``/``DELETE`` inside an ``IMMEDIATE``/``EXCLUSIVE`` transaction on a WAL
  database, which holds the write lock already and so never waits for one;
* the ``BEGIN IMMEDIATE``/``EXCLUSIVE`` of such a transaction when the write lock is free at once
  (tried with ``busy_timeout`` 0; when another process holds it, the connection's thread waits).
  ``COMMIT`` (which syncs the log) and writes outside such a transaction stay on the connection's
  thread.

A hand-off costs little on an idle machine but up to the interpreter's switch interval (5 ms) when
the event loop is busy, and a write transaction holds the one writer through all of its statements.
Every ``INLINE_YIELD_EVERY`` inline statements the caller yields to the event loop once, so a long
loop of queries does not starve other tasks.

Transaction semantics are Piccolo's: a transaction holds its connection from ``BEGIN`` to
``COMMIT``/``ROLLBACK``, queries inside it find it through ``engine.current_transaction``, and
savepoints work as before. A connection goes back to its pool only after anything left open on it
has been rolled back.

The pool is not tied to one event loop (Piccolo's ``run_sync`` runs queries in a loop of its own):
waiters are woken on their own loop, and the bookkeeping is guarded by a thread lock.

``close()`` (or ``close_connection_pool()``) closes the idle connections and those in use as soon as
they come back; the engine opens new ones if it is used again afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import queue
import re
import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
)
from piccolo.querystring import QueryString

from backend.db.converters import register as register_converters
from backend.db.querystrings import compile_sqlite

if TYPE_CHECKING:
    from piccolo.table import Table

logger = logging.getLogger(__name__)

_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_PRAGMA_STATEMENT = re.compile(r"\s*PRAGMA\b", re.IGNORECASE)
_READ_STATEMENT = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_ROW_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
INLINE_YIELD_EVERY = 32
_PROGRESS_STEPS = 1000  # SQLite VM instructions between two calls of the progress handler
_STOP = object()
_thread_ids = itertools.count(1)


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Every row as a dict, as Piccolo's ``dict_factory`` gives them, reading the column names once
    per statement rather than once per row."""
    rows = cursor.fetchall()
    if not rows:
        return []
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class PooledConnection:
    """One ``sqlite3`` connection, used only from its own daemon thread.

    ``execute`` has the shape Piccolo's transaction and savepoint classes expect (awaitable, takes
    the SQL), and returns every row as a dict.
    """

    def __init__(self, connection_kwargs: dict[str, Any], setup: Sequence[str]) -> None:
        self._kwargs = dict(connection_kwargs)
        self._setup = tuple(setup)
        self._db: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Jobs queued or running on the thread; the connection is used inline only at 0.
        self._busy = 0
        self._busy_lock = threading.Lock()
        # Progress-handler calls left to a statement running inline; None when none is.
        self._steps_left: int | None = None
        self.wal = False
        self._thread = threading.Thread(
            target=self._work, name=f"sqlite-pool-{next(_thread_ids)}", daemon=True
        )
        self.generation = 0
        self.in_transaction = False
        self.closed = False

    # -- the worker thread ---------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            future, function, args = job
            try:
                value, ok = function(*args), True
            except BaseException as exc:  # handed to the awaiting coroutine
                value, ok = exc, False
            finally:
                db = self._db
                self.in_transaction = bool(db is not None and db.in_transaction)
                with self._busy_lock:
                    self._busy -= 1
            if future is None:
                if not ok:
                    logger.warning("sqlite pool: background statement failed: %s", value)
                continue
            # RuntimeError: the caller's event loop is gone, nobody is waiting.
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_settle, future, ok, value)

    def _open(self) -> None:
        # Used from the caller's thread too, but never by two threads at once (see run_inline).
        db = sqlite3.connect(**{**self._kwargs, "check_same_thread": False})
        try:
            for statement in self._setup:
                db.execute(statement).fetchall()
            mode = db.execute("PRAGMA journal_mode").fetchone()
            self.wal = str(mode[0]).lower() == "wal"
            db.set_progress_handler(self._over_budget, _PROGRESS_STEPS)
        except BaseException:
            db.close()
            raise
        self._db = db

    def _over_budget(self) -> int:
        if self._steps_left is None:
            return 0
        self._steps_left -= 1
        return 1 if self._steps_left < 0 else 0

    def _run(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        assert self._db is not None
        cursor = self._db.execute(sql, args)
        try:
            return _dicts(cursor)
        finally:
            cursor.close()

    def _run_insert_without_returning(
        self, sql: str, args: Sequence[Any], pk_column: str, tablename: str
    ) -> list[dict[str, Any]]:
        """SQLite before 3.35 has no ``RETURNING``: read the new row's primary key by ROWID."""
        assert self._db is not None
        cursor = self._db.execute(sql, args)
        rowid = cursor.lastrowid
        cursor.close()
        return self._run(f"SELECT {pk_column} FROM {tablename} WHERE ROWID = ?", (rowid,))  # noqa: S608

    def _rollback_if_open(self) -> None:
        if self._db is not None and self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    # -- the event-loop side -------------------------------------------------------------------

    def _submit(self, job: Any) -> None:
        with self._busy_lock:
            self._busy += 1
        self._jobs.put(job)

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        future = asyncio.get_running_loop().create_future()
        self._submit((future, function, args))
        return await future

    def run_inline(self, sql: str, args: Sequence[Any], budget: int | None) -> list[dict[str, Any]] | None:
        """Run on the calling thread, without awaiting. ``None`` means "run it on the connection's
        thread instead": the thread has work queued (a statement of a cancelled caller, a reset), or
        the statement needed more than ``budget`` VM instructions and was interrupted (only pass a
        budget for reads).

        Only whoever holds the connection queues work on it, and nothing is queued while this runs
        (it does not await), so the thread stays idle throughout."""
        db = self._db
        if self._busy or db is None or self.closed:
            return None
        was_in_transaction = db.in_transaction
        if budget is not None:
            self._steps_left = budget // _PROGRESS_STEPS
        try:
            cursor = db.execute(sql, args)
            try:
                return _dicts(cursor)
            finally:
                cursor.close()
        except sqlite3.OperationalError as exc:
            # An interrupted read leaves its transaction open; anything else is a real error.
            interrupted = budget is not None and "interrupt" in str(exc)
            if interrupted and db.in_transaction == was_in_transaction:
                return None
            raise
        finally:
            self._steps_left = None
            self.in_transaction = db.in_transaction

    def begin_inline(self, statement: str, busy_timeout_ms: int) -> bool:
        """``BEGIN IMMEDIATE``/``EXCLUSIVE`` on the calling thread when the write lock is free at once,
        saving a hand-off each way (up to the switch interval each when the loop is busy). False
        means it is not: begin on the connection's thread, which waits up to ``busy_timeout``."""
        db = self._db
        if self._busy or db is None or self.closed or not self.wal:
            return False
        db.execute("PRAGMA busy_timeout = 0")
        try:
            db.execute(statement)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False  # another process writes: wait for it off the event loop
            raise
        finally:
            db.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            self.in_transaction = db.in_transaction
        return True

    async def open(self) -> PooledConnection:
        self._thread.start()
        try:
            await self._call(self._open)
        except BaseException:
            self.close_soon()
            raise
        return self

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return await self._call(self._run, sql, args)

    async def insert_without_returning(
        self, sql: str, args: Sequence[Any], table: type[Table]
    ) -> list[dict[str, Any]]:
        pk_column = table._meta.primary_key._meta.db_column_name
        return await self._call(
            self._run_insert_without_returning, sql, args, pk_column, table._meta.tablename
        )

    def reset_soon(self) -> None:
        """Queue a ROLLBACK of anything left open. Statements run in order on this connection's
        thread, so whoever uses the connection next starts after it, without waiting here."""
        if not self.closed:
            self._submit((None, self._rollback_if_open, ()))

    def close_soon(self) -> None:
        """Close after the statements already queued; does not wait."""
        if not self.closed:
            self.closed = True
            self._submit((None, self._close, ()))
            self._jobs.put(_STOP)

    async def close(self) -> None:
        if self.closed:
            return
        try:
            await self._call(self._close)
        finally:
            self.closed = True
            self._jobs.put(_STOP)


class ConnectionPool:
    """At most ``size`` connections; callers beyond that wait in FIFO order.

    A waiter is handed either a connection or ``None`` (a free slot: open a new one).
    """

    def __init__(self, name: str, size: int, connect: Callable[[], PooledConnection]) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.name = name
        self.size = size
        self._connect = connect
        self._lock = threading.RLock()
        self._idle: deque[PooledConnection] = deque()
        self._waiters: deque[asyncio.Future[PooledConnection | None]] = deque()
        self._open = 0
        self._generation = 0

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    async def acquire(self, timeout: float) -> PooledConnection:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._open < self.size:
                self._open += 1
                waiter = None
            else:
                waiter = loop.create_future()
                self._waiters.append(waiter)
        if waiter is not None:
            try:
                async with asyncio.timeout(timeout):
                    handed = await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled():
                    self._give_back(waiter.result())
                if isinstance(exc, TimeoutError):
                    raise sqlite3.OperationalError(
                        f"database is locked (no {self.name} connection free after {timeout:g} s)"
                    ) from None
                raise
            if handed is not None:
                return handed
        return await self._open_connection()

    async def _open_connection(self) -> PooledConnection:
        connection = self._connect()
        connection.generation = self._generation
        try:
            return await connection.open()
        except BaseException:
            self._give_back(None)
            raise

    def release(self, connection: PooledConnection, reset: bool = False) -> None:
        if reset or connection.in_transaction:
            connection.reset_soon()
        self._give_back(connection)

    def _give_back(self, item: PooledConnection | None) -> None:
        """Hand a connection (or a free slot, ``None``) to the first live waiter, else keep it."""
        with self._lock:
            if item is not None and (item.closed or item.generation != self._generation):
                item.close_soon()
                item = None
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.done():
                    continue
                if self._hand_over(waiter, item):
                    return
            if item is None:
                self._open -= 1
            else:
                self._idle.append(item)

    def _hand_over(self, waiter: asyncio.Future[PooledConnection | None], item: Any) -> bool:
        loop = waiter.get_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is running:
            waiter.set_result(item)
            return True
        try:
            loop.call_soon_threadsafe(self._settle_elsewhere, waiter, item)
        except RuntimeError:  # that loop is closed
            return False
        return True

    def _settle_elsewhere(self, waiter: asyncio.Future[PooledConnection | None], item: Any) -> None:
        if waiter.done():  # cancelled meanwhile: pass it on
            self._give_back(item)
        else:
            waiter.set_result(item)

    def _retire(self) -> list[PooledConnection]:
        """Start a new generation: connections in use are closed when they come back."""
        with self._lock:
            self._generation += 1
            idle = list(self._idle)
            self._idle.clear()
            self._open -= len(idle)
        return idle

    async def close(self) -> None:
        for connection in self._retire():
            with contextlib.suppress(Exception):
                await connection.close()

    def close_soon(self) -> None:
        for connection in self._retire():
            connection.close_soon()


def _close_pools_soon(*pools: ConnectionPool) -> None:
    for pool in pools:
        pool.close_soon()


class PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's transaction, on a pooled connection that goes back to the pool afterwards."""

    __slots__ = ("_pool",)

    engine: PooledSQLiteEngine

    async def __aenter__(self) -> PooledSQLiteTransaction:
        if self._parent is not None:
            return cast(PooledSQLiteTransaction, self._parent)
        self._pool = self.engine.pool_for(self.transaction_type)
        self.connection = await self._pool.acquire(self.engine.acquire_timeout)
        try:
            statement = f"BEGIN {self.transaction_type.value}"
            locking = self.transaction_type in (TransactionType.immediate, TransactionType.exclusive)
            timeout_ms = int(self.engine.acquire_timeout * 1000)
            if not (locking and self.connection.begin_inline(statement, timeout_ms)):
                await self.begin()
        except BaseException:
            self._pool.release(self.connection, reset=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            self._pool.release(self.connection, reset=True)
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """``SQLiteEngine`` with long-lived connections: ``pool_size`` readers and one writer.

    ``timeout`` (seconds, as for ``sqlite3.connect``) is both SQLite's ``busy_timeout`` and how long
    a query waits for a free pooled connection before failing with "database is locked".
    """

    __slots__ = (
        "__weakref__",
        "_inline_runs",
        "_readers",
        "_returning",
        "_writer",
        "acquire_timeout",
        "inline_budget",
        "pool_size",
    )

    def __init__(
        self,
        path: str = "piccolo.sqlite",
        log_queries: bool = False,
        log_responses: bool = False,
        pool_size: int = 4,
        inline_budget: int = 100_000,
        **connection_kwargs: Any,
    ) -> None:
        connection_kwargs.setdefault("timeout", 30.0)
        register_converters()
        super().__init__(path=path, log_queries=log_queries, log_responses=log_responses, **connection_kwargs)
        self.pool_size = pool_size
        self.inline_budget = inline_budget
        self._inline_runs = 0
        self.acquire_timeout = float(self.connection_kwargs["timeout"])
        self._returning = self.get_version_sync() >= 3.35
        setup = [f"PRAGMA busy_timeout = {int(self.acquire_timeout * 1000)}", "PRAGMA foreign_keys = 1"]
        if str(path) != ":memory:" and not str(path).startswith("file::memory:"):
            setup.append("PRAGMA journal_mode = WAL")
        # The pools must not refer back to the engine, so that an engine dropped without close()
        # is collected and its connections closed by the finalizer below.
        connect = functools.partial(PooledConnection, self.connection_kwargs, tuple(setup))
        self._readers = ConnectionPool("reader", pool_size, connect)
        self._writer = ConnectionPool("writer", 1, connect)
        weakref.finalize(self, _close_pools_soon, self._readers, self._writer)

    def pool_for(self, transaction_type: TransactionType) -> ConnectionPool:
        if transaction_type in (TransactionType.immediate, TransactionType.exclusive):
            return self._writer
        return self._readers

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run(
        self, query: str, args: Sequence[Any], query_type: str = "generic", table: type[Table] | None = None
    ) -> list[dict[str, Any]]:
        current = self.current_transaction.get()
        if current is not None:
            connection = current.connection
            if not isinstance(connection, PooledConnection):  # a stock transaction object
                return await self._run_in_existing_connection(
                    connection, query, list(args), query_type, table
                )
            locked = current.transaction_type in (TransactionType.immediate, TransactionType.exclusive)
            return await self._execute_on(connection, query, args, query_type, table, locked)
        if _PRAGMA_STATEMENT.match(query):
            # A PRAGMA may change per-connection state; keep that off the long-lived connections.
            return await self._run_in_new_connection(query, list(args), query_type, table)
        pool = self._writer if _WRITE_STATEMENT.match(query) else self._readers
        connection = await pool.acquire(self.acquire_timeout)
        try:
            return await self._execute_on(connection, query, args, query_type, table, False)
        finally:
            pool.release(connection)

    async def _execute_on(
        self,
        connection: PooledConnection,
        query: str,
        args: Sequence[Any],
        query_type: str,
        table: type[Table] | None,
        holds_write_lock: bool,
    ) -> list[dict[str, Any]]:
        if query_type == "insert" and table is not None and not self._returning:
            return await connection.insert_without_returning(query, args, table)
        rows = None
        if _READ_STATEMENT.match(query):
            rows = connection.run_inline(query, args, self.inline_budget)
        elif holds_write_lock and connection.wal and _ROW_WRITE_STATEMENT.match(query):
            rows = connection.run_inline(query, args, None)
        if rows is None:
            return await connection.execute(query, args)
        self._inline_runs += 1
        if self._inline_runs % INLINE_YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let other tasks run now and then
        return rows

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        query, query_args = compile_sqlite(querystring)
        response = await self._run(query, query_args, querystring.query_type, querystring.table)
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=ddl)
        response = await self._run(ddl, ())
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def start_connection_pool(self) -> None:
        """Open one reader and the writer now rather than on first use."""
        for pool in (self._readers, self._writer):
            pool.release(await pool.acquire(self.acquire_timeout))

    async def close_connection_pool(self) -> None:
        await self.close()

    async def close(self) -> None:
        await self._readers.close()
        await self._writer.close()
