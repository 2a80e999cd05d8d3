"""执法公示: the public list at scale on PostgreSQL, p95 per page through the app against the same SQL
through the raw driver (asyncpg) in the same run.

    python benchmarks/publication.py [--rows 100000] [--requests 200] [--pg URL] [--json OUT]

A throw-away database gets ``--rows`` published decisions (5 % of them withdrawn) spread over two
years, 12 units and 40 items, written with COPY. Each scenario is a page of 20 a phone asks for: the
newest, ten pages deep by cursor, one unit, one item, one month by decision date. The app runs
in-process (httpx over ASGI: routing, validation, the query, JSON); the baseline is the very SQL text
``backend.publication.services.public_sql`` builds, prepared and run through asyncpg."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    log,
    machine,
    pg_reachable,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)

PAGE = 20
GOAL_P95_MS = 20.0
COLUMNS = (
    "id",
    "case",
    "unit",
    "unit_name",
    "item",
    "item_code",
    "item_name",
    "item_kind",
    "legal_basis",
    "case_number",
    "document_number",
    "party_label",
    "party_type",
    "party_code",
    "fine",
    "measures",
    "decided_on",
    "published_on",
    "published_at",
    "published_by",
    "status",
    "withdrawn_at",
    "withdrawal_reason",
    "withdrawn_by",
)


def _rows(n: int, units: list[uuid.UUID], items: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    rng = random.Random(15)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    by = uuid.uuid4()
    out = []
    for i in range(n):
        published = start + timedelta(seconds=rng.randrange(0, 730 * 86400))
        decided = (published - timedelta(days=rng.randrange(0, 7))).date()
        withdrawn = rng.random() < 0.05
        company = rng.random() < 0.4
        out.append(
            (
                uuid.uuid4(),
                uuid.uuid4(),
                units[i % len(units)],
                f"单位{i % len(units)}",
                items[rng.randrange(len(items))],
                f"CG-{rng.randrange(40):03d}",
                "对占用城市道路违法经营的行政处罚",
                "penalty",
                "《城市市容和环境卫生管理条例》第三十六条",
                f"NC-{decided:%Y%m%d}-{i:06X}",
                f"南川综执罚〔{decided.year}〕{i}号",
                "重庆某某餐饮有限公司" if company else "张*",
                "organisation" if company else "person",
                "91500119MA5U7X1K2B" if company else None,
                rng.choice([200, 500, 1000, 5000]),
                json.dumps(["警告"]),
                decided,
                published.date(),
                published,
                by,
                "withdrawn" if withdrawn else "published",
                published + timedelta(days=3) if withdrawn else None,
                "原处罚决定已撤销" if withdrawn else None,
                by if withdrawn else None,
            )
        )
    return out


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return round(values[max(0, int(len(values) * 0.95) - 1)] * 1000, 2)


async def run(pg_url: str, rows: int, requests: int) -> dict[str, Any]:
    import asyncpg
    import httpx

    from backend.app import create_app
    from backend.db import engine_from_url, migrate
    from backend.publication.services import PublicQuery, public_sql
    from backend.settings import Settings

    async with temp_pg_database(pg_url, prefix="fw_bench_pub") as url:
        with contextlib.redirect_stdout(io.StringIO()):
            await migrate(engine_from_url(url))
        units = [uuid.uuid4() for _ in range(12)]
        items = [uuid.uuid4() for _ in range(40)]
        log(f"writing {rows} publications …")
        raw = await asyncpg.connect(url)
        try:
            await raw.copy_records_to_table(
                "publications", records=_rows(rows, units, items), columns=COLUMNS
            )
            # What autovacuum does to a table soon after a bulk load: statistics, and the visibility
            # map that lets an index-only scan skip the table.
            await raw.execute("VACUUM (ANALYZE) publications")
            newest = await raw.fetch(
                "SELECT published_at, id FROM publications WHERE status = 'published' "
                "ORDER BY published_at DESC, id DESC LIMIT 1 OFFSET $1",
                PAGE * 10 - 1,
            )
        finally:
            await raw.close()
        from backend.lib.pagination import time_cursor

        deep = time_cursor(newest[0]["published_at"], newest[0]["id"])
        scenarios = {
            "newest page": PublicQuery(limit=PAGE),
            "10 pages deep (cursor)": PublicQuery(limit=PAGE, cursor=deep),
            "one unit": PublicQuery(unit_id=units[3], limit=PAGE),
            "one item": PublicQuery(item_id=items[7], limit=PAGE),
            "one month (decision date)": PublicQuery(
                decided_from=date(2026, 3, 1), decided_to=date(2026, 3, 31), limit=PAGE
            ),
        }
        with temp_data_dir() as data_dir:
            settings = replace(
                Settings.from_env(),
                data_dir=data_dir,
                database_url=url,
                media_url=f"file://{data_dir / 'media'}",
                public_rate_per_minute=10_000_000,
                audit_sign_interval_s=0,
            )
            app = create_app(settings)
            transport = httpx.ASGITransport(app=app)
            raw = await asyncpg.connect(url)
            results = []
            try:
                async with (
                    app.lifespan(),
                    httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client,
                ):
                    for label, q in scenarios.items():
                        params = {
                            k: str(v)
                            for k, v in {
                                "unit_id": q.unit_id,
                                "item_id": q.item_id,
                                "decided_from": q.decided_from,
                                "decided_to": q.decided_to,
                                "cursor": q.cursor,
                                "limit": q.limit,
                            }.items()
                            if v is not None
                        }
                        sql, args = public_sql(q, lambda n: f"${n}")
                        statement = await raw.prepare(sql)
                        app_times, raw_times, count = [], [], 0
                        for i in range(requests + 10):  # the first ten warm both paths
                            t0 = time.perf_counter()
                            response = await client.get("/api/v1/public/publications", params=params)
                            t1 = time.perf_counter()
                            fetched = await statement.fetch(*args)
                            t2 = time.perf_counter()
                            assert response.status_code == 200, response.text
                            count = len(response.json()["items"])
                            assert count == min(len(fetched), PAGE), (label, count, len(fetched))
                            if i >= 10:
                                app_times.append(t1 - t0)
                                raw_times.append(t2 - t1)
                        results.append(
                            {
                                "scenario": label,
                                "rows_on_page": count,
                                "app_p95_ms": _p95(app_times),
                                "app_p50_ms": round(statistics.median(app_times) * 1000, 2),
                                "raw_p95_ms": _p95(raw_times),
                                "raw_p50_ms": round(statistics.median(raw_times) * 1000, 2),
                            }
                        )
                        log(
                            f"  {label}: app p95 {results[-1]['app_p95_ms']} ms, "
                            f"raw {results[-1]['raw_p95_ms']} ms"
                        )
            finally:
                await raw.close()
    return {
        "rows": rows,
        "requests": requests,
        "goal_p95_ms": GOAL_P95_MS,
        "results": results,
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg", default=DEFAULT_PG_URL)
    parser.add_argument("--json")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    reason = asyncio.run(pg_reachable(args.pg))
    if reason:
        log(f"PostgreSQL not reachable at {args.pg}: {reason}")
        return 2
    out = asyncio.run(run(args.pg, args.rows, args.requests))
    print(
        table(
            ["scenario", "rows", "app p50 ms", "app p95 ms", "asyncpg p50 ms", "asyncpg p95 ms"],
            [
                [
                    r["scenario"],
                    r["rows_on_page"],
                    r["app_p50_ms"],
                    r["app_p95_ms"],
                    r["raw_p50_ms"],
                    r["raw_p95_ms"],
                ]
                for r in out["results"]
            ],
        )
    )
    print(
        f"\n{out['rows']} publications, {out['requests']} requests per scenario; goal p95 ≤ {GOAL_P95_MS} ms"
    )
    write_json(args.json, out)
    return 0 if all(r["app_p95_ms"] <= GOAL_P95_MS for r in out["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
