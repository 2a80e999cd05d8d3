"""The 两法衔接 check at scale on PostgreSQL: does ``missed_transfers`` (the code behind
``GET /api/v1/channels/missed-transfers``) find a planted missed transfer among 1,000,000 actions and
many closed penalty cases within the feed's goal (p95 ≤ 20 ms per page)?

    .venv/bin/python benchmarks/missed_transfers.py [--actions 1000000] [--cases 200000] [--requests 200]

A throw-away database next to ``--pg-url``: migrations and demo data, ``--actions`` actions from
scripts/gen_actions.py, ``--cases`` closed cases (COPY) over the demo's units and penalty items,
amounts below each item's criminal threshold except one planted case that reached it and was closed
without a transfer. Scenarios: the whole district, one unit, a period. Baseline in the same run:
the same SQL the app sends (recorded from its engine) through a raw asyncpg connection.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    DEMO_PASSWORD,
    ROOT,
    base_env,
    cli,
    log,
    pg_reachable,
    scratch_settings,
    table,
    temp_data_dir,
    temp_pg_database,
)
from benchmarks.feed_p95 import recording_engine_class

TARGET_P95_MS = 20.0
PAGE = 50


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def seed_cases(conn, count: int, seed: int) -> tuple[str, str]:
    """Closed penalty cases under their thresholds, and one planted miss; returns (its id, its item)."""
    rng = random.Random(seed)
    units = [r["id"] for r in await conn.fetch("SELECT id FROM units WHERE kind = 'township'")]
    items = await conn.fetch(
        "SELECT id, criminal_amount_at_least AS threshold FROM enforcement_items WHERE kind = 'penalty'"
    )
    creator = await conn.fetchval("SELECT id FROM users WHERE username = 'officer1'")
    # Give a few items a criminal threshold, as the 权责清单 does for some (e.g. 5,000 yuan).
    with_threshold = [r["id"] for r in items[:3]]
    for item_id in with_threshold:
        await conn.execute(
            "UPDATE enforcement_items SET criminal_amount_at_least = 50000 WHERE id = $1", item_id
        )
    # Every case stays under its item's threshold (the demo's own thresholds included) but the planted one.
    ceiling = {r["id"]: float(r["threshold"]) for r in items if r["threshold"] is not None}
    ceiling.update({item_id: 50_000.0 for item_id in with_threshold})
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(count):
        item = rng.choice(items)["id"]
        closed = now - dt.timedelta(days=rng.uniform(0, 4 * 365))
        amount = rng.uniform(100, ceiling[item] - 1) if item in ceiling else rng.uniform(100, 500_000)
        rows.append(
            (
                uuid.uuid4(),
                f"BM-{n:07d}",
                rng.choice(units),
                item,
                "closed",
                round(amount, 2),
                closed,
                creator,
                closed - dt.timedelta(days=30),
                "",
            )
        )
    planted = uuid.uuid4()
    rows.append(
        (
            planted,
            "BM-PLANTED",
            units[0],
            with_threshold[0],
            "closed",
            120_000.0,
            now - dt.timedelta(days=40),
            creator,
            now - dt.timedelta(days=70),
            "",
        )
    )
    columns = [
        "id",
        "number",
        "unit",
        "item",
        "status",
        "amount_involved",
        "closed_at",
        "created_by",
        "created_at",
        "request_hash",
    ]
    for start in range(0, len(rows), 50_000):
        await conn.copy_records_to_table("cases", records=rows[start : start + 50_000], columns=columns)
    await conn.execute("ANALYZE cases")
    return str(planted), str(with_threshold[0])


async def measure(url: str, args: argparse.Namespace, planted: str) -> dict[str, dict[str, float]]:
    import asyncpg

    from backend.channels.services import missed_transfers
    from backend.db import bind, postgres_config
    from backend.lib.auth import CurrentUser

    engine = recording_engine_class()(config=postgres_config(url))
    engine.recording = None
    bind(engine)
    await engine.start_connection_pool()
    conn = await asyncpg.connect(url)
    try:
        supervisor_id = await conn.fetchval("SELECT id FROM users WHERE username = 'supervisor'")
        viewer = CurrentUser(
            id=supervisor_id,
            username="supervisor",
            display_name="supervisor",
            roles=frozenset({"supervisor"}),
            unit_ids=frozenset(),
            session_id=uuid.uuid4(),
        )
        unit = await conn.fetchval("SELECT unit FROM cases WHERE id = $1", uuid.UUID(planted))
        today = dt.date.today()
        scenarios = {
            "district, all time": (None, None, None),
            "one unit, all time": (unit, None, None),
            "district, last 90 days": (None, today - dt.timedelta(days=90), today),
            "one unit, last year": (unit, today - dt.timedelta(days=365), today),
        }
        out: dict[str, dict[str, float]] = {}
        for name, (unit_id, since, until) in scenarios.items():
            found = await missed_transfers(viewer, unit_id, since, until, PAGE)
            if not any(str(m.case_id) == planted for m in found):
                raise SystemExit(f"{name}: the planted missed transfer was not found")
            statements: list = []
            engine.recording = statements
            await missed_transfers(viewer, unit_id, since, until, PAGE)
            engine.recording = None
            app_ms, raw_ms = [], []
            for _ in range(args.warmup):
                await missed_transfers(viewer, unit_id, since, until, PAGE)
            for _ in range(args.requests):  # interleaved: the app's call, then the raw SQL
                start = time.perf_counter()
                await missed_transfers(viewer, unit_id, since, until, PAGE)
                app_ms.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                for sql, params in statements:
                    await conn.fetch(sql, *params)
                raw_ms.append((time.perf_counter() - start) * 1000)
            out[name] = {
                "app p50": round(statistics.median(app_ms), 2),
                "app p95": round(pct(app_ms, 95), 2),
                "raw p50": round(statistics.median(raw_ms), 2),
                "raw p95": round(pct(raw_ms, 95), 2),
                "statements": len(statements),
            }
            log(f"{name}: {out[name]}")
        return out
    finally:
        await conn.close()
        await engine.close_connection_pool()


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    import asyncpg

    async with temp_pg_database(args.pg_url, prefix="fw_missed") as url:
        with temp_data_dir() as data_dir:
            log("migrations + demo data")
            cli(base_env(data_dir, url), "demo", "--password", DEMO_PASSWORD)
        sys.path.insert(0, str(ROOT / "scripts"))
        from gen_actions import generate

        await generate(url, args.actions, args.seed, 4.0, 50_000, log=log)
        conn = await asyncpg.connect(url)
        try:
            log(f"{args.cases} closed cases")
            planted, _ = await seed_cases(conn, args.cases, args.seed)
            counts = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM actions) AS actions, (SELECT count(*) FROM cases) AS cases"
            )
        finally:
            await conn.close()
        log(f"measuring: {counts['actions']} actions, {counts['cases']} cases")
        return await measure(url, args, planted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    reason = asyncio.run(pg_reachable(args.pg_url))
    if reason:
        print(f"PostgreSQL unreachable ({reason})", file=sys.stderr)
        return 2
    with scratch_settings():
        out = asyncio.run(run(args))
    rows = [[name, *r.values(), "yes" if r["app p95"] <= TARGET_P95_MS else "NO"] for name, r in out.items()]
    print(table(["scenario", "app p50", "app p95", "raw p50", "raw p95", "statements", "p95 ≤ 20 ms"], rows))
    return 0 if all(r["app p95"] <= TARGET_P95_MS for r in out.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
