"""Primary-key read of one row: Piccolo ORM vs the raw driver, on the same database.

    .venv/bin/python benchmarks/orm_vs_raw.py [--iterations 20000] [--pg-url URL | --no-pg]

SQLite (a temporary data dir, migrated and loaded with the demo data by the project's own CLI):

* ``orm stock``   – ``Table.select().where(Table.id == pk).first()`` on Piccolo's ``SQLiteEngine``
                    configured as ``backend.db.engine_from_url`` does (a connection per query);
* ``orm pooled``  – the same call on ``backend.db.sqlite_pool.PooledSQLiteEngine``;
* ``raw cursor``  – aiosqlite, one long-lived connection, ``async with db.execute(...) as cur:
                    await cur.fetchone()`` (the driver's documented idiom);
* ``raw fetchall``– aiosqlite, one long-lived connection, ``await db.execute_fetchall(...)`` (a
                    single hand-off to the connection thread: the floor for any aiosqlite engine).

PostgreSQL (a temporary database created next to ``--pg-url`` and dropped afterwards):

* ``orm pool``    – the same ORM call on the app's engine (``backend.db.engine_from_url``: Piccolo's
                    ``PostgresEngine`` with a lighter per-query path) after ``start_connection_pool()``
                    (what the app's lifespan does); ``orm stock pool``: Piccolo's own ``PostgresEngine``;
* ``raw pool``    – ``asyncpg`` pool (same default size), ``await pool.fetchrow(sql, pk)``.

Each variant is warmed up, then the variants run in interleaved rounds (each loop is bounded in count
and in time); ops/s is the median over rounds and a ratio is the median of the per-round ratios.
Needs only the project itself (``pip install -e .``): aiosqlite and asyncpg come with Piccolo's
``sqlite`` and ``postgres`` extras.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    DEMO_PASSWORD,
    Series,
    base_env,
    cli,
    interleaved,
    log,
    machine,
    pg_reachable,
    ratio,
    scratch_settings,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)

TABLES = ("units", "users")
TARGET = 0.5


def _tables():
    from backend.accounts.tables import User
    from backend.org.tables import Unit

    return {"units": Unit, "users": User}


async def _pick_pk(engine, tablename: str):
    from piccolo.querystring import QueryString

    where = "WHERE username = 'officer1'" if tablename == "users" else "WHERE name = '水江镇'"
    rows = await engine.run_querystring(QueryString(f"SELECT id FROM {tablename} {where}"))  # noqa: S608
    return rows[0]["id"]


async def bench_sqlite(args: argparse.Namespace) -> dict[str, object]:
    import aiosqlite
    from piccolo.engine.sqlite import SQLiteEngine

    from backend.db.sqlite_pool import PooledSQLiteEngine

    results: dict[str, object] = {}
    with temp_data_dir() as data_dir:
        db_path = data_dir / "fieldwatch.sqlite3"
        env = base_env(data_dir, f"sqlite:///{db_path}")
        log("sqlite: migrate + demo data")
        cli(env, "demo", "--password", DEMO_PASSWORD)

        stock = SQLiteEngine(path=str(db_path), timeout=30)
        pooled = PooledSQLiteEngine(path=str(db_path), timeout=30)
        raw = await aiosqlite.connect(db_path)
        try:
            for tablename, table_cls in _tables().items():
                pk = await _pick_pk(stock, tablename)
                sql = f"SELECT * FROM {tablename} WHERE id = ?"  # noqa: S608
                params = (str(pk),)

                def orm(engine, table_cls=table_cls, pk=pk):
                    async def op():
                        table_cls._meta.db = engine
                        return await table_cls.select().where(table_cls.id == pk).first()

                    return op

                async def raw_cursor(sql=sql, params=params):
                    async with raw.execute(sql, params) as cursor:
                        return await cursor.fetchone()

                async def raw_fetchall(sql=sql, params=params):
                    return (await raw.execute_fetchall(sql, params))[0]

                a, b = await orm(stock)(), await orm(pooled)()
                if a != b or a is None:
                    raise AssertionError(f"stock and pooled engines disagree on {tablename}: {a} != {b}")

                log(f"sqlite {tablename}: {args.iterations} iterations x 4 variants")
                series = await interleaved(
                    {
                        "orm stock": orm(stock),
                        "orm pooled": orm(pooled),
                        "raw cursor": raw_cursor,
                        "raw fetchall": raw_fetchall,
                    },
                    iterations=args.iterations,
                    warmup=args.warmup,
                    rounds=args.rounds,
                    max_seconds_per_chunk=args.max_seconds,
                )
                results[tablename] = _summarise(
                    series,
                    [
                        ("orm stock", "raw cursor"),
                        ("orm pooled", "raw cursor"),
                        ("orm stock", "raw fetchall"),
                        ("orm pooled", "raw fetchall"),
                        ("orm pooled", "orm stock"),
                    ],
                )
        finally:
            await raw.close()
            await pooled.close()
    return results


async def bench_postgres(args: argparse.Namespace) -> dict[str, object]:
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from backend.db import engine_from_url

    results: dict[str, object] = {}
    async with temp_pg_database(args.pg_url) as url:
        with temp_data_dir() as data_dir:
            env = base_env(data_dir, url)
            log(f"postgres: migrate + demo data in {url.rsplit('/', 1)[-1]}")
            cli(env, "demo", "--password", DEMO_PASSWORD)

        engine = engine_from_url(url)  # the app's engine and pool settings
        stock = PostgresEngine(config={"dsn": url})
        await engine.start_connection_pool()
        await stock.start_connection_pool()
        pool = await asyncpg.create_pool(url)
        try:
            for tablename, table_cls in _tables().items():
                pk = await _pick_pk(engine, tablename)
                sql = f"SELECT * FROM {tablename} WHERE id = $1"  # noqa: S608

                def orm(on, table_cls=table_cls, pk=pk):
                    async def op():
                        table_cls._meta.db = on
                        return await table_cls.select().where(table_cls.id == pk).first()

                    return op

                async def raw(sql=sql, pk=pk):
                    return await pool.fetchrow(sql, pk)

                if await orm(engine)() != await orm(stock)():
                    raise AssertionError(f"the app's and Piccolo's engines disagree on {tablename}")
                log(f"postgres {tablename}: {args.iterations} iterations x 3 variants")
                series = await interleaved(
                    {"orm pool": orm(engine), "orm stock pool": orm(stock), "raw pool": raw},
                    iterations=args.iterations,
                    warmup=args.warmup,
                    rounds=args.rounds,
                    max_seconds_per_chunk=args.max_seconds,
                )
                pairs = [("orm pool", "raw pool"), ("orm stock pool", "raw pool")]
                results[tablename] = _summarise(series, [*pairs, ("orm pool", "orm stock pool")])
        finally:
            await pool.close()
            await engine.close_connection_pool()
            await stock.close_connection_pool()
    return results


def _summarise(series: dict[str, Series], pairs: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "ops_per_s": {name: round(s.median) for name, s in series.items()},
        "ops": {name: s.ops for name, s in series.items()},
        "rounds": {name: [round(x) for x in s.rounds] for name, s in series.items()},
        "ratios": {f"{a} / {b}": round(ratio(series[a], series[b]), 3) for a, b in pairs},
    }


def report(results: dict[str, object]) -> str:
    lines = []
    for engine_name in ("sqlite", "postgres"):
        per_table = results.get(engine_name)
        if not isinstance(per_table, dict):
            continue
        rows = []
        for tablename, r in per_table.items():
            for name, ops in r["ops_per_s"].items():
                rows.append([tablename, name, f"{ops:,}", f"{1e6 / ops:.0f} µs" if ops else "-"])
        lines += [
            f"### {engine_name}: primary-key read",
            "",
            table(["table", "variant", "ops/s", "per op"], rows),
            "",
        ]
        rows = []
        for tablename, r in per_table.items():
            for pair, value in r["ratios"].items():
                target = "≥ 0.5" if "raw" in pair else ""
                ok = ("yes" if value >= TARGET else "no") if target else ""
                rows.append([tablename, pair, f"{value:.2f}×", target, ok])
        lines += [table(["table", "ratio", "value", "target", "met"], rows), ""]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    results: dict[str, object] = {"machine": machine(), "iterations": args.iterations}
    if not args.no_sqlite:
        results["sqlite"] = await bench_sqlite(args)
    if not args.no_pg:
        reason = await pg_reachable(args.pg_url)
        if reason:
            log(f"postgres at {args.pg_url} unreachable ({reason}); use --no-pg to skip")
            return 2
        results["postgres"] = await bench_postgres(args)
    print(report(results))
    write_json(args.json, results)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20000, help="measured operations per variant")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--max-seconds", type=float, default=3.0, help="time bound of each loop")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    started = time.perf_counter()
    with scratch_settings():
        code = asyncio.run(main_async(args))
    log(f"done in {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
