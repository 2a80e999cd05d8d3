"""PooledSQLiteEngine: same results as Piccolo's SQLiteEngine, transactions that stay transactions,
and no "database is locked" under concurrent use. Every test uses its own SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.functions.aggregate import Count
from piccolo.query.functions.string import Upper
from piccolo.table import Table

from backend.db.sqlite_pool import INLINE_YIELD_EVERY, PooledConnection, PooledSQLiteEngine, compile_sqlite


class Author(Table, tablename="pool_test_authors"):
    id = UUID(primary_key=True)
    name = Varchar(length=50, unique=True)


class Note(Table, tablename="pool_test_notes"):
    id = UUID(primary_key=True)
    author = ForeignKey(references=Author, null=True)
    title = Varchar(length=100)
    body = Text(default="")
    rank = Integer(default=0)
    done = Boolean(default=False)
    amount = Numeric(digits=(10, 2), null=True, default=None)
    tags = JSON(default=[])
    due = Date(null=True, default=None)
    created_at = Timestamptz()


TABLES = (Author, Note)
T0 = dt.datetime(2026, 11, 27, 6, 5, 0, tzinfo=dt.UTC)


def _pool_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sqlite-pool-")}


def bind(engine: SQLiteEngine) -> None:
    for table in TABLES:
        table._meta.db = engine


@pytest.fixture
async def db_path(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "engine.sqlite3"
    stock = SQLiteEngine(path=str(path), timeout=30)
    bind(stock)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    for table in TABLES:
        await table.create_table().run()
    yield path


@pytest.fixture
async def engine(db_path: Path) -> AsyncIterator[PooledSQLiteEngine]:
    engine = PooledSQLiteEngine(path=str(db_path), timeout=30, pool_size=3)
    bind(engine)
    yield engine
    await engine.close()


async def seed(count: int = 20) -> list[uuid.UUID]:
    ada = Author(name="ada")
    await ada.save()
    ids = []
    for i in range(count):
        note = Note(
            author=ada.id if i % 2 else None,
            title=f"note {i:02d}",
            body="正文" * i,
            rank=i,
            done=bool(i % 3 == 0),
            amount=decimal.Decimal(f"{i}.25") if i % 4 else None,
            tags=["a", i],
            due=dt.date(2026, 1, 1) + dt.timedelta(days=i) if i % 5 else None,
            created_at=T0 + dt.timedelta(minutes=i),
        )
        await note.save()
        ids.append(note.id)
    return ids


QUERIES = {
    "select all": lambda: Note.select().order_by(Note.rank),
    "by pk": lambda ids: Note.select().where(Note.id == ids[3]).first(),
    "join": lambda: (
        Note.select(Note.title, Note.author.name).where(Note.author.name == "ada").order_by(Note.rank)
    ),
    "filters": lambda: (
        Note.select(Note.id, Note.amount, Note.due)
        .where((Note.rank >= 3) & (Note.done == False) & Note.title.like("note 1%"))  # noqa: E712
        .order_by(Note.created_at, ascending=False)
        .limit(5)
        .offset(1)
    ),
    "in / null": lambda ids: Note.select(Note.title).where(Note.id.is_in(ids[:4]) | Note.amount.is_null()),
    "objects": lambda: Note.objects().order_by(Note.rank).limit(3),
    "count": lambda: Note.count().where(Note.done == True),  # noqa: E712
    "exists": lambda: Note.exists().where(Note.title == "note 07"),
    "functions": lambda: (
        Note.select(Upper(Note.title, alias="t"), Count(alias="n")).group_by(Note.title).limit(2)
    ),
    "time range": lambda: Note.select(Note.id).where(
        (Note.created_at >= T0) & (Note.created_at < T0 + dt.timedelta(minutes=4))
    ),
    "raw": lambda ids: Note.raw("SELECT title, rank FROM pool_test_notes WHERE rank < {} ORDER BY rank", 4),
}


def _plain(value):
    """Compare objects by their column values."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Table):
        return value.to_dict()
    return value


async def run_all(ids: list[uuid.UUID]) -> dict[str, object]:
    out = {}
    for name, build in QUERIES.items():
        query = build(ids) if build.__code__.co_argcount else build()
        out[name] = _plain(await query)
    return out


async def test_results_are_identical_to_the_stock_engine(db_path: Path, engine: PooledSQLiteEngine) -> None:
    ids = await seed()
    pooled = await run_all(ids)
    bind(SQLiteEngine(path=str(db_path), timeout=30))
    stock = await run_all(ids)
    assert pooled == stock
    assert pooled["by pk"]["title"] == "note 03"
    assert isinstance(pooled["by pk"]["id"], uuid.UUID)
    assert pooled["by pk"]["created_at"] == T0 + dt.timedelta(minutes=3)
    assert pooled["by pk"]["amount"] == decimal.Decimal("3.25")
    assert pooled["count"] == 7 and pooled["exists"] is True


async def test_compile_matches_piccolo_for_every_query_shape(
    db_path: Path, engine: PooledSQLiteEngine
) -> None:
    ids = [uuid.uuid4() for _ in range(5)]
    for name, build in QUERIES.items():
        query = build(ids) if build.__code__.co_argcount else build()
        query = getattr(query, "query", query)  # .first() wraps the select
        for querystring in query.querystrings:
            assert compile_sqlite(querystring) == querystring.compile_string("sqlite"), name
    for template in ("SELECT '{{literal}}' AS x, {} AS y", "SELECT {} AS y", "SELECT 1"):
        querystring = Note.raw(template, 1).querystrings[0]
        assert compile_sqlite(querystring) == querystring.compile_string("sqlite"), template
    frozen = Note.select().where(Note.rank == 1).querystrings[0]
    frozen.freeze(engine_type="sqlite")
    assert compile_sqlite(frozen) is frozen._frozen_compiled_strings


async def test_the_postgres_compile_matches_piccolo_for_every_query_shape() -> None:
    from piccolo.engine.postgres import PostgresEngine

    from backend.db.querystrings import compile_postgres

    bind(PostgresEngine(config={}))  # compiling only: never connects
    ids = [uuid.uuid4() for _ in range(5)]
    for name, build in QUERIES.items():
        query = build(ids) if build.__code__.co_argcount else build()
        query = getattr(query, "query", query)
        for querystring in query.querystrings:
            assert compile_postgres(querystring) == querystring.compile_string("postgres"), name
    inner = Note.select(Note.id).where(Note.rank > 2)
    nested = Note.select(Note.id).where(Note.id.is_in(inner) & (Note.rank < 9))
    querystring = nested.querystrings[0]
    assert compile_postgres(querystring) == querystring.compile_string("postgres")
    assert compile_postgres(querystring)[0].count("$") == 2


async def test_writes_inserts_updates_deletes_and_returning(engine: PooledSQLiteEngine) -> None:
    ids = await seed(5)
    await Note.update({Note.rank: Note.rank + 100}).where(Note.id == ids[0])
    assert (await Note.select(Note.rank).where(Note.id == ids[0]).first()) == {"rank": 100}
    await Note.delete().where(Note.id == ids[1])
    assert await Note.count() == 4
    returned = await Note.insert(Note(title="returned", created_at=T0)).returning(Note.title)
    assert returned == [{"title": "returned"}]


async def test_a_rolled_back_transaction_leaves_nothing_visible(engine: PooledSQLiteEngine) -> None:
    await seed(2)
    with pytest.raises(RuntimeError, match="abort"):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await Note.insert(Note(title="ghost", created_at=T0))
            assert await Note.exists().where(Note.title == "ghost")  # visible inside
            raise RuntimeError("abort")
    assert not await Note.exists().where(Note.title == "ghost")
    assert engine.current_transaction.get() is None


async def test_uncommitted_rows_are_invisible_to_other_coroutines_until_commit(
    engine: PooledSQLiteEngine,
) -> None:
    inserted, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await Note.insert(Note(title="pending", created_at=T0))
            inserted.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await asyncio.wait_for(inserted.wait(), 10)
    assert engine.current_transaction.get() is None  # this coroutine is outside it
    assert not await Note.exists().where(Note.title == "pending")
    release.set()
    await asyncio.wait_for(task, 10)
    assert await Note.exists().where(Note.title == "pending")


async def test_savepoints_and_nested_transactions(engine: PooledSQLiteEngine) -> None:
    async with engine.transaction(transaction_type=TransactionType.immediate) as outer:
        await Note.insert(Note(title="kept", created_at=T0))
        savepoint = await outer.savepoint("before_drop")
        await Note.insert(Note(title="dropped", created_at=T0))
        await savepoint.rollback_to()
        async with engine.transaction() as inner:
            assert inner is outer
            await Note.insert(Note(title="inner", created_at=T0))
    titles = {row["title"] for row in await Note.select(Note.title)}
    assert titles == {"kept", "inner"}


async def test_atomic_batches_commit_together(engine: PooledSQLiteEngine) -> None:
    atomic = engine.atomic(transaction_type=TransactionType.immediate)
    atomic.add(Note.insert(Note(title="a1", created_at=T0)), Note.insert(Note(title="a2", created_at=T0)))
    await atomic.run()
    assert await Note.count() == 2


async def test_fifty_concurrent_mixed_operations_never_lock(engine: PooledSQLiteEngine) -> None:
    ids = await seed(10)
    failures: list[BaseException] = []

    async def op(i: int) -> None:
        try:
            match i % 5:
                case 0:
                    await Note.select().where(Note.id == ids[i % 10]).first()
                case 1:
                    await Note.insert(Note(title=f"auto {i}", created_at=T0))
                case 2:
                    async with engine.transaction(transaction_type=TransactionType.immediate):
                        await Note.insert(Note(title=f"tx {i}", created_at=T0))
                        await Note.update({Note.rank: Note.rank + 1}).where(Note.id == ids[0])
                        await asyncio.sleep(0)
                case 3:
                    await Note.update({Note.rank: Note.rank + 1}).where(Note.id == ids[1])
                case _:
                    async with engine.transaction():
                        await Note.count()
                        await Note.select(Note.title).limit(3)
        except BaseException as exc:  # collect, so one failure does not hide the others
            failures.append(exc)

    for _ in range(3):
        await asyncio.wait_for(asyncio.gather(*(op(i) for i in range(50))), 60)
    assert failures == []
    assert await Note.count().where(Note.title.like("auto %")) == 30
    assert await Note.count().where(Note.title.like("tx %")) == 30
    ranks = [await Note.select(Note.rank).where(Note.id == ids[k]).first() for k in (0, 1)]
    assert ranks == [{"rank": 0 + 30}, {"rank": 1 + 30}]
    assert engine._readers.open_connections <= 3 and engine._writer.open_connections <= 1


async def test_the_stock_and_pooled_engines_write_the_same_file_concurrently(
    db_path: Path, engine: PooledSQLiteEngine
) -> None:
    """Another process (a CLI command beside the server) is covered by busy_timeout."""
    stock = SQLiteEngine(path=str(db_path), timeout=30)

    async def stock_writes() -> None:
        for i in range(10):
            async with stock.transaction(transaction_type=TransactionType.immediate):
                await stock.run_ddl(
                    f"INSERT INTO pool_test_authors (id, name) VALUES ('{uuid.uuid4()}', 's{i}')"  # noqa: S608
                )

    async def pooled_writes() -> None:
        for i in range(10):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await Author.insert(Author(name=f"p{i}"))

    await asyncio.wait_for(asyncio.gather(stock_writes(), pooled_writes()), 60)
    assert await Author.count() == 20


async def test_connections_are_reused(engine: PooledSQLiteEngine) -> None:
    await seed(3)
    await Note.select().limit(1)
    before = _pool_threads()
    for _ in range(30):
        await Note.select().limit(1)
        await Note.update({Note.rank: 1}).where(Note.rank == -1)
    assert _pool_threads() == before
    assert engine._readers.open_connections == 1 and engine._writer.open_connections == 1


async def test_an_error_inside_a_transaction_gives_its_connection_back(
    engine: PooledSQLiteEngine,
) -> None:
    with pytest.raises(sqlite3.OperationalError):
        async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
            await Note.insert(Note(title="undone", created_at=T0))
            await tx.connection.execute("BEGIN")  # already in one: SQLite refuses
    assert engine._writer.idle_connections == 1
    await Note.insert(Note(title="after", created_at=T0))
    assert [r["title"] for r in await Note.select(Note.title)] == ["after"]


async def test_a_transaction_that_cannot_begin_gives_its_connection_back(db_path: Path) -> None:
    """Another process holds the write lock for longer than busy_timeout."""
    stock = SQLiteEngine(path=str(db_path), timeout=30)
    engine = PooledSQLiteEngine(path=str(db_path), timeout=0.2)
    bind(engine)
    try:
        async with stock.transaction(transaction_type=TransactionType.immediate):
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                async with engine.transaction(transaction_type=TransactionType.immediate):
                    pass
            assert engine.current_transaction.get() is None
        assert engine._writer.idle_connections == 1
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await Note.insert(Note(title="now", created_at=T0))
        assert await Note.count() == 1
    finally:
        await engine.close()


async def test_anything_left_open_on_a_connection_is_rolled_back_before_reuse(db_path: Path) -> None:
    """A raw BEGIN outside a transaction would pin an old snapshot on a pooled reader."""
    engine = PooledSQLiteEngine(path=str(db_path), timeout=30, pool_size=1)
    bind(engine)
    try:
        await Note.raw("BEGIN")
        assert await Note.count() == 0  # the reader now holds a snapshot, unless it was reset
        await Note.insert(Note(title="new", created_at=T0))  # through the writer
        assert await Note.count() == 1
    finally:
        await engine.close()


async def test_pragmas_do_not_change_pooled_connections(engine: PooledSQLiteEngine) -> None:
    await Note.raw("PRAGMA foreign_keys = 0")
    with pytest.raises(sqlite3.IntegrityError):
        await Note.insert(Note(title="orphan", author=uuid.uuid4(), created_at=T0))


async def test_waiting_for_the_writer_times_out_as_database_locked(db_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(db_path), timeout=0.2)
    bind(engine)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            holding.set()
            await release.wait()

    try:
        holder = asyncio.create_task(hold())
        await holding.wait()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await asyncio.wait_for(Note.insert(Note(title="queued", created_at=T0)).run(), 10)
        release.set()
        await holder
        await Note.insert(Note(title="later", created_at=T0))  # the pool still works
        assert await Note.count() == 1
    finally:
        await engine.close()


async def test_a_cancelled_waiter_does_not_lose_the_connection(engine: PooledSQLiteEngine) -> None:
    release = asyncio.Event()

    async def hold() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(Note.insert(Note(title="cancelled", created_at=T0)).run())
    await asyncio.sleep(0.05)
    waiter.cancel()
    release.set()
    await asyncio.wait_for(holder, 10)
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.wait_for(Note.insert(Note(title="next", created_at=T0)).run(), 10)
    assert [r["title"] for r in await Note.select(Note.title)] == ["next"]
    assert engine._writer.open_connections == 1


async def test_works_from_another_event_loop_in_another_thread(engine: PooledSQLiteEngine) -> None:
    """Piccolo's run_sync runs queries on a loop of its own; waiters are woken on their loop."""
    await seed(4)
    release = asyncio.Event()
    holding = asyncio.Event()

    async def hold_writer() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_writer())
    await holding.wait()
    result: dict[str, object] = {}

    def in_thread() -> None:
        async def work() -> None:
            result["count"] = await Note.count()
            await Note.insert(Note(title="from thread", created_at=T0))  # waits for the writer

        asyncio.run(work())

    thread = threading.Thread(target=in_thread)
    thread.start()
    await asyncio.sleep(0.1)
    assert thread.is_alive()  # queued behind the held writer
    release.set()
    await holder
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
    assert result["count"] == 4
    assert await Note.exists().where(Note.title == "from thread")


async def test_close_ends_the_connections_and_the_engine_reopens_on_use(db_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(db_path), timeout=30)
    bind(engine)
    before = _pool_threads()
    await engine.start_connection_pool()
    mine = _pool_threads() - before
    assert len(mine) == 2  # one reader, the writer
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await Note.insert(Note(title="in flight", created_at=T0))
        await engine.close()  # the busy writer is closed when it comes back
    assert engine._readers.open_connections == 0 and engine._writer.open_connections == 0
    for thread in mine:
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive()
    assert await Note.count() == 1  # committed before the close took effect; reopened to read
    await engine.close_connection_pool()
    assert engine._readers.open_connections == 0


async def test_worker_threads_do_not_keep_a_process_alive(engine: PooledSQLiteEngine) -> None:
    await Note.count()
    workers = [t for t in threading.enumerate() if t.name.startswith("sqlite-pool-")]
    assert workers and all(t.daemon for t in workers)


async def test_an_engine_dropped_without_close_ends_its_threads(db_path: Path) -> None:
    import gc

    before = _pool_threads()
    engine = PooledSQLiteEngine(path=str(db_path), timeout=30)
    bind(engine)
    await Note.count()
    await Note.insert(Note(title="x", created_at=T0))
    mine = _pool_threads() - before
    assert len(mine) == 2
    bind(SQLiteEngine(path=str(db_path), timeout=30))
    del engine
    gc.collect()
    for thread in mine:
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive()


# -- statements run on the caller's thread -------------------------------------------------------

LONG_READ = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
    "SELECT count(*) AS c FROM n"
)


@pytest.fixture
def on_pool_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement that ran on a connection's own thread."""
    ran: list[str] = []
    original = PooledConnection._run

    def recording(self: PooledConnection, sql: str, args) -> list:
        assert threading.current_thread().name.startswith("sqlite-pool-")
        ran.append(sql.split()[0].upper())
        return original(self, sql, args)

    monkeypatch.setattr(PooledConnection, "_run", recording)
    return ran


async def test_short_reads_skip_the_hand_off_and_long_ones_run_on_the_pool_thread(
    engine: PooledSQLiteEngine, on_pool_threads: list[str]
) -> None:
    ids = await seed(3)
    on_pool_threads.clear()
    assert (await Note.select(Note.title).where(Note.id == ids[1]).first()) == {"title": "note 01"}
    assert await Note.count() == 3
    assert on_pool_threads == []
    # Over the budget: interrupted on the caller's thread, then run in full on the pool's.
    assert await Note.raw(LONG_READ) == [{"c": 200000}]
    assert on_pool_threads == ["WITH"]


async def test_writes_in_a_write_transaction_run_inline_and_still_roll_back(
    engine: PooledSQLiteEngine, on_pool_threads: list[str]
) -> None:
    await seed(2)
    on_pool_threads.clear()
    with pytest.raises(RuntimeError, match="abort"):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await Note.insert(Note(title="ghost", created_at=T0))
            await Note.update({Note.rank: 99}).where(Note.title == "ghost")
            assert await Note.exists().where(Note.rank == 99)
            raise RuntimeError("abort")
    # A free write lock is taken inline; ending the transaction (COMMIT syncs the log) stays off the loop.
    assert on_pool_threads == ["ROLLBACK"]
    assert not await Note.exists().where(Note.title == "ghost")
    await Note.insert(Note(title="outside", created_at=T0))  # no lock held yet: may wait for one
    assert on_pool_threads[-1] == "INSERT"


async def test_a_write_lock_held_by_another_process_is_waited_for_off_the_event_loop(
    engine: PooledSQLiteEngine, db_path: Path, on_pool_threads: list[str]
) -> None:
    await seed(1)
    other = sqlite3.connect(db_path, isolation_level=None)  # as a CLI command writing meanwhile
    other.execute("BEGIN IMMEDIATE")
    on_pool_threads.clear()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await Note.insert(Note(title="after the other writer", created_at=T0))

    clock = asyncio.create_task(ticker())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writer.done() and ticks >= 10  # waiting for the lock, the loop runs on
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 10)
    clock.cancel()
    assert on_pool_threads[0] == "BEGIN"
    assert await Note.exists().where(Note.title == "after the other writer")
    connection = await engine._writer.acquire(1)
    try:  # the busy timeout is the engine's again for whatever the writer runs next
        assert connection._db is not None
        timeout_ms = connection._db.execute("PRAGMA busy_timeout").fetchone()[0]
        assert timeout_ms == int(engine.acquire_timeout * 1000)
    finally:
        engine._writer.release(connection)


async def test_a_connection_still_busy_for_a_cancelled_caller_is_not_used_inline(
    db_path: Path, on_pool_threads: list[str]
) -> None:
    engine = PooledSQLiteEngine(path=str(db_path), timeout=30, pool_size=1)
    bind(engine)
    try:
        await seed(2)
        slower = LONG_READ.replace("200000", "2000000")  # about half a second
        slow = asyncio.create_task(Note.raw(slower).run())
        await asyncio.sleep(0.01)
        slow.cancel()  # the statement keeps running on the connection's thread
        with pytest.raises(asyncio.CancelledError):
            await slow
        on_pool_threads.clear()
        assert await Note.count() == 2  # queued behind it instead of sharing the connection
        assert on_pool_threads == ["SELECT"]
    finally:
        await engine.close()


async def test_a_long_run_of_inline_queries_lets_other_tasks_run(engine: PooledSQLiteEngine) -> None:
    await seed(1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    for _ in range(4 * INLINE_YIELD_EVERY):
        await Note.count()
    task.cancel()
    assert ticks - before >= 3


async def test_a_select_head_with_its_where_is_the_select_piccolo_builds() -> None:
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.querystring import QueryString

    from backend.db.querystrings import SelectHead, compile_postgres

    head = SelectHead(Note, Note.id, Note.title, Note.author.name.as_alias("author_name"))
    condition = (Note.rank > 2) & Note.id.is_in(Note.select(Note.id).where(Note.done == True))  # noqa: E712
    for engine, compile_ in (
        (SQLiteEngine(path=":memory:"), compile_sqlite),
        (PostgresEngine(config={}), compile_postgres),  # compiling only: never connects
    ):
        bind(engine)
        expected = Note.select(Note.id, Note.title, Note.author.name.as_alias("author_name")).where(condition)
        ours = QueryString("{} WHERE {}", head.querystring(), condition.querystring)
        assert compile_(ours) == compile_(expected.querystrings[0]), engine.engine_type
        assert head.querystring() is head.querystring()  # built once per engine type
