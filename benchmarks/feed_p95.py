"""Latency of the action feed at scale on PostgreSQL: p50/p95/p99 of the app's own
``backend.actions.services.list_actions`` (the code behind ``GET /api/v1/actions``), with EXPLAIN
ANALYZE of the slow queries.

    .venv/bin/python benchmarks/feed_p95.py [--count 1000000] [--requests 200]
    .venv/bin/python benchmarks/feed_p95.py --database-url postgresql://…/db   # already generated

Without ``--database-url`` it creates a throw-away database next to ``--pg-url``, applies the
migrations and the demo data (``fieldwatch demo``), generates ``--count`` actions with
scripts/gen_actions.py, measures, and drops the database. Three passes on the same data, in order:

* ``baseline``     – only the single-column indexes that the Piccolo tables declare
                     (``index=True``), every other index on actions/action_officers dropped, and
                     the original unbounded keyset predicate; the dropped indexes are re-created after;
* ``as migrated``  – the schema and code as they are;
* ``candidate``    – as migrated plus ``EXTRA_INDEXES`` (what this benchmark still suggests).

Each scenario runs ``--requests`` calls one after another, bounded by ``--max-seconds``, rotating its
parameters (units, items, officers, weeks, cursors) so that no single value is measured alone; the
slowest call of a scenario that misses the target is the one explained. Target: p95 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    DEMO_PASSWORD,
    ROOT,
    base_env,
    cli,
    log,
    machine,
    pg_reachable,
    scratch_settings,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)

TARGET_P95_MS = 20.0
PAGE = 50

# Suggested on top of the migrations (valid on SQLite too): a date window without a unit filter
# (supervisors) has no index otherwise.
EXTRA_INDEXES = ("CREATE INDEX IF NOT EXISTS actions_occurred_at ON actions (occurred_at)",)
FEED_TABLES = ("actions", "action_officers")


def newest_first_after_unbounded(created_at, id_column, cursor):
    """The keyset predicate as the foundation had it, ``created_at < at OR (created_at = at AND
    id < last)``: for the baseline pass."""
    from backend.lib.pagination import decode_time_cursor

    after = decode_time_cursor(cursor)
    if after is None:
        return None
    at, last = after
    return (created_at < at) | ((created_at == at) & (id_column < last))


def declared_column_indexes() -> set[str]:
    """Names of the indexes Piccolo creates for ``index=True`` columns of the feed's tables."""
    from backend.actions.tables import Action, ActionOfficer

    return {
        f"{table._meta.tablename}_{column._meta.db_column_name}"
        for table in (Action, ActionOfficer)
        for column in table._meta.columns
        if column._meta.index
    }


async def secondary_indexes(conn) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
           ORDER BY i.indexname""",
        list(FEED_TABLES),
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def analyse(conn) -> None:
    for name in FEED_TABLES:
        await conn.execute(f"ANALYZE {name}")


@dataclass
class Scenario:
    name: str
    viewer: str
    make: Callable[[int], tuple[dict, str | None]]  # request number -> (filters, cursor)
    times_ms: list[float] = field(default_factory=list)
    statements: list[tuple[str, list]] = field(default_factory=list)

    def stats(self) -> dict[str, float]:
        t = sorted(self.times_ms)
        q = statistics.quantiles(t, n=100, method="inclusive") if len(t) > 1 else t * 99
        return {
            "n": len(t),
            "p50": round(statistics.median(t), 2),
            "p95": round(q[94], 2),
            "p99": round(q[98], 2),
            "max": round(t[-1], 2),
        }


class World:
    """Ids from the generated database, to build realistic requests."""

    def __init__(self) -> None:
        self.viewers: dict[str, object] = {}
        self.units: list[uuid.UUID] = []
        self.items_by_unit: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.officers: list[uuid.UUID] = []
        self.year_ago_weeks: list[dt.datetime] = []
        self.deep_cursors: list[str] = []
        self.page20_cursors: dict[str, str] = {}


async def load_world(conn) -> World:
    from backend.lib.auth import CurrentUser
    from backend.lib.pagination import time_cursor

    world = World()
    for username in ("supervisor", "officer1", "officer3", "officer5", "cg1"):
        user = await conn.fetchrow(
            "SELECT id, username, display_name, roles FROM users WHERE username = $1", username
        )
        units = [
            r["unit"] for r in await conn.fetch('SELECT unit FROM memberships WHERE "user" = $1', user["id"])
        ]
        world.viewers[username] = CurrentUser(
            id=user["id"],
            username=username,
            display_name=user["display_name"],
            roles=frozenset(user["roles"].split()),
            unit_ids=frozenset(units),
            session_id=uuid.uuid4(),
        )
    for r in await conn.fetch("SELECT DISTINCT unit, item FROM actions ORDER BY unit, item"):
        world.items_by_unit.setdefault(r["unit"], []).append(r["item"])
    world.units = sorted(world.items_by_unit)
    world.officers = [
        r["officer"] for r in await conn.fetch("SELECT DISTINCT officer FROM action_officers ORDER BY 1")
    ]
    now = dt.datetime.now(dt.UTC)
    world.year_ago_weeks = [now - dt.timedelta(days=365 + 7 * k) for k in range(10)]
    total = await conn.fetchval("SELECT count(*) FROM actions")
    for k in range(1, 10):
        row = await conn.fetchrow(
            "SELECT created_at, id FROM actions ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1",
            total * k // 10,
        )
        world.deep_cursors.append(time_cursor(row["created_at"], row["id"]))
    return world


def scenarios(world: World) -> list[Scenario]:
    def rot(values, i):
        return values[i % len(values)]

    officer1_unit = next(iter(world.viewers["officer1"].unit_ids))
    officer3_unit = next(iter(world.viewers["officer3"].unit_ids))
    return [
        Scenario("first page, supervisor (all units)", "supervisor", lambda i: ({}, None)),
        Scenario("first page, officer1 (own unit)", "officer1", lambda i: ({}, None)),
        Scenario(
            "unit_id filter, supervisor",
            "supervisor",
            lambda i: ({"unit_id": rot(world.units, i)}, None),
        ),
        Scenario(
            "item_id filter, officer3",
            "officer3",
            lambda i: ({"item_id": rot(world.items_by_unit[officer3_unit], i)}, None),
        ),
        Scenario(
            "item_id filter, supervisor",
            "supervisor",
            lambda i: (
                {"item_id": rot(sorted({x for v in world.items_by_unit.values() for x in v}), i)},
                None,
            ),
        ),
        Scenario(
            "officer_id filter, supervisor",
            "supervisor",
            lambda i: ({"officer_id": rot(world.officers, i)}, None),
        ),
        Scenario("kind=coercive, officer1", "officer1", lambda i: ({"kind": "coercive"}, None)),
        Scenario("has_evidence=false, officer1", "officer1", lambda i: ({"has_evidence": False}, None)),
        Scenario(
            "occurred in one week a year ago, officer1",
            "officer1",
            lambda i: (
                {
                    "occurred_from": rot(world.year_ago_weeks, i),
                    "occurred_to": rot(world.year_ago_weeks, i) + dt.timedelta(days=7),
                },
                None,
            ),
        ),
        Scenario(
            "occurred in one week a year ago, supervisor",
            "supervisor",
            lambda i: (
                {
                    "occurred_from": rot(world.year_ago_weeks, i),
                    "occurred_to": rot(world.year_ago_weeks, i) + dt.timedelta(days=7),
                },
                None,
            ),
        ),
        Scenario(
            "page 20 (cursor), officer1",
            "officer1",
            lambda i: ({}, world.page20_cursors["officer1"]),
        ),
        Scenario(
            "deep cursor (10%…90% of the table), supervisor",
            "supervisor",
            lambda i: ({}, rot(world.deep_cursors, i)),
        ),
        Scenario(
            "unit + item + kind, officer1",
            "officer1",
            lambda i: (
                {
                    "unit_id": officer1_unit,
                    "item_id": rot(world.items_by_unit[officer1_unit], i),
                    "kind": "inspection",
                },
                None,
            ),
        ),
    ]


def recording_engine_class():
    from backend.db import AppPostgresEngine

    class RecordingPostgresEngine(AppPostgresEngine):
        """Keeps the SQL of the statements run while ``recording`` is a list."""

        __slots__ = ("recording",)

        async def run_querystring(self, querystring, in_pool: bool = True):
            recording = getattr(self, "recording", None)
            if recording is not None:
                recording.append(querystring.compile_string(engine_type="postgres"))
            return await super().run_querystring(querystring, in_pool=in_pool)

    return RecordingPostgresEngine


async def measure(url: str, args: argparse.Namespace, label: str) -> dict[str, object]:
    import asyncpg

    from backend.actions.services import ActionFilter, list_actions
    from backend.db import bind, postgres_config

    config: dict[str, object] = postgres_config(url)  # the app's own pool settings
    if args.plan_cache_mode:
        config["server_settings"] = {"plan_cache_mode": args.plan_cache_mode}
    engine = recording_engine_class()(config=config)
    engine.recording = None
    bind(engine)
    await engine.start_connection_pool()
    conn = await asyncpg.connect(url)
    try:
        world = await load_world(conn)
        cursor = None
        for _ in range(19):  # follow the feed to page 20, as a client scrolling would
            page = await list_actions(world.viewers["officer1"], ActionFilter(), cursor, PAGE)
            cursor = page.next_cursor
        world.page20_cursors["officer1"] = cursor
        results: dict[str, object] = {}
        for scenario in scenarios(world):
            viewer = world.viewers[scenario.viewer]
            for i in range(args.warmup):
                filters, cursor = scenario.make(i)
                await list_actions(viewer, ActionFilter(**filters), cursor, PAGE)
            deadline = time.perf_counter() + args.max_seconds
            slowest = 0
            for i in range(args.requests):
                filters, cursor = scenario.make(i)
                start = time.perf_counter()
                page = await list_actions(viewer, ActionFilter(**filters), cursor, PAGE)
                scenario.times_ms.append((time.perf_counter() - start) * 1000)
                if scenario.times_ms[-1] > scenario.times_ms[slowest]:
                    slowest = i
                if time.perf_counter() > deadline:
                    break
            stats = scenario.stats()
            # The statements of the slowest request, for EXPLAIN.
            filters, cursor = scenario.make(slowest)
            engine.recording = scenario.statements
            await list_actions(viewer, ActionFilter(**filters), cursor, PAGE)
            engine.recording = None
            plans = []
            if stats["p95"] > TARGET_P95_MS or args.explain_all:
                for sql, params in scenario.statements:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
                    plans.append(
                        {
                            "sql": sql,
                            "params": [str(p) for p in params],
                            "plan": "\n".join(r[0] for r in rows),
                        }
                    )
            results[scenario.name] = {**stats, "items_on_page": len(page.items), "explain": plans}
            log(
                f"[{label}] {scenario.name}: p50 {stats['p50']} ms, p95 {stats['p95']} ms, "
                f"p99 {stats['p99']} ms ({stats['n']} requests, {len(page.items)} items)"
            )
        return results
    finally:
        await conn.close()
        await engine.close_connection_pool()


async def run(args: argparse.Namespace) -> dict[str, object]:
    import asyncpg

    out: dict[str, object] = {"machine": machine(), "target_p95_ms": TARGET_P95_MS}

    async def with_db(url: str) -> None:
        import backend.actions.services as action_services

        os.environ["FIELDWATCH_DATABASE_URL"] = url
        conn = await asyncpg.connect(url)
        try:
            out["postgres"] = await conn.fetchval("SHOW server_version")
            out["actions"] = await conn.fetchval("SELECT count(*) FROM actions")
            out["action_officers"] = await conn.fetchval("SELECT count(*) FROM action_officers")
            migrated = await secondary_indexes(conn)
            out["indexes_as_migrated"] = [definition for _, definition in migrated]
            if args.all_passes:
                keep = declared_column_indexes()
                dropped = [(name, definition) for name, definition in migrated if name not in keep]
                out["baseline_dropped"] = [definition for _, definition in dropped]
                for name, _ in dropped:
                    await conn.execute(f'DROP INDEX "{name}"')
                await analyse(conn)
                current = action_services.newest_first_after
                action_services.newest_first_after = newest_first_after_unbounded
                try:
                    out["baseline"] = await measure(url, args, "baseline")
                finally:
                    action_services.newest_first_after = current
                    for _, definition in dropped:
                        await conn.execute(definition)
                    await analyse(conn)
            out["as_migrated"] = await measure(url, args, "as migrated")
            if not args.all_passes:
                return
            for statement in EXTRA_INDEXES:
                await conn.execute(statement)
            await analyse(conn)
            out["extra_indexes"] = list(EXTRA_INDEXES)
            out["candidate"] = await measure(url, args, "candidate")
        finally:
            await conn.close()

    if args.database_url:
        await with_db(args.database_url)
        return out
    async with temp_pg_database(args.pg_url, prefix="fw_feed") as url:
        with temp_data_dir() as data_dir:
            log("migrations + demo data")
            cli(base_env(data_dir, url), "demo", "--password", DEMO_PASSWORD)
        sys.path.insert(0, str(ROOT / "scripts"))
        from gen_actions import generate

        started = time.perf_counter()
        out["generation"] = await generate(url, args.count, args.seed, 4.0, 50_000, log=log)
        out["generation"]["wall_s"] = round(time.perf_counter() - started, 1)
        await with_db(url)
    return out


PASSES = (
    ("baseline", "baseline: only the declared column indexes, unbounded keyset predicate"),
    ("as_migrated", "as migrated"),
    ("candidate", "candidate: as migrated + EXTRA_INDEXES"),
)


def report(out: dict[str, object]) -> str:
    lines = []
    for key, title in PASSES:
        results = out.get(key)
        if not isinstance(results, dict):
            continue
        rows = [
            [
                name,
                r["p50"],
                r["p95"],
                r["p99"],
                r["max"],
                r["n"],
                "yes" if r["p95"] <= TARGET_P95_MS else "no",
            ]
            for name, r in results.items()
        ]
        lines += [
            f"### feed at {out.get('actions', 0):,} actions, {title} (ms)",
            "",
            table(["scenario", "p50", "p95", "p99", "max", "n", "p95 ≤ 20 ms"], rows),
            "",
        ]
    base, now, cand = (out.get(k) for k in ("baseline", "as_migrated", "candidate"))
    if isinstance(base, dict) and isinstance(now, dict) and isinstance(cand, dict):
        rows = [
            [
                name,
                base[name]["p95"],
                now[name]["p95"],
                f"{base[name]['p95'] / now[name]['p95']:.1f}×",
                cand[name]["p95"],
            ]
            for name in now
        ]
        lines += [
            "### p95 (ms) across the passes, same run",
            "",
            table(["scenario", "baseline", "as migrated", "baseline / as migrated", "candidate"], rows),
            "",
        ]
    return "\n".join(lines)


def explain_report(out: dict[str, object]) -> str:
    lines = []
    for key, _ in PASSES:
        results = out.get(key)
        if not isinstance(results, dict):
            continue
        for name, r in results.items():
            for plan in r["explain"]:
                lines += [
                    f"-- [{key}] {name}",
                    f"-- {plan['sql']}",
                    f"-- params: {plan['params']}",
                    plan["plan"],
                    "",
                ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an already generated database (kept)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--count", type=int, default=1_000_000, help="actions to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound per scenario")
    parser.add_argument(
        "--as-migrated-only", dest="all_passes", action="store_false", help="skip the baseline and candidate"
    )
    parser.add_argument(
        "--explain-all", action="store_true", help="EXPLAIN every scenario, not only slow ones"
    )
    parser.add_argument(
        "--plan-cache-mode",
        choices=["auto", "force_custom_plan", "force_generic_plan"],
        help="PostgreSQL plan_cache_mode for the app's pool (default: what backend.db configures)",
    )
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--explain-out", help="write the EXPLAIN ANALYZE output here")
    args = parser.parse_args()
    reason = asyncio.run(pg_reachable(args.database_url or args.pg_url))
    if reason:
        print(f"PostgreSQL unreachable ({reason})", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with scratch_settings():
        out = asyncio.run(run(args))
    out["wall_s"] = round(time.perf_counter() - started, 1)
    print(report(out))
    explain = explain_report(out)
    if args.explain_out:
        Path(args.explain_out).write_text(explain)
    elif explain:
        print(explain)
    write_json(args.json, out)
    log(f"done in {out['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
