"""The assessment table at scale on PostgreSQL: ``reports.services.assessment`` (the code behind
``GET /api/v1/reports/assessment``) for every unit over one year, at 1,000,000 actions, against one
hand-written SQL aggregate computing the same counts on the same database. Goal: ≤ 1.5×.

    .venv/bin/python benchmarks/assessment.py [--actions 1000000] [--rounds 7]

A throw-away database next to ``--pg-url``: migrations and the demo organisation, ``--actions``
actions from scripts/gen_actions.py (a third of them needing a recording, most of those recorded),
``--cases`` cases (decided, major, reviewed, closed, some at a criminal threshold), spot-checks,
supervision documents, exam scores and refused acts. The app's call computes the chosen year and the
year before (the table shows the change); so does the baseline, written by hand with ``FILTER``
clauses, one statement, through a raw asyncpg connection. Both give the same numbers, or the run
fails. Rounds are interleaved (app, then baseline) and reported as medians.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
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

GOAL = 1.5

# One statement: per unit, the numerator and denominator of every indicator, for $1..$2 (timestamps)
# and $3..$4 (dates), today $5, pass mark $6, minimum hours $7. Written from the formulas in
# docs/reports.md, not from the app's SQL.
BASELINE = """
WITH
a AS (SELECT unit, count(*) FILTER (WHERE recording_required) AS req,
        count(*) FILTER (WHERE recording_required AND recording_at IS NOT NULL) AS rec
      FROM actions WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY unit),
c AS (SELECT c.unit,
        count(*) FILTER (WHERE c.major AND c.decided_on >= $3 AND c.decided_on < $4) AS major,
        count(*) FILTER (WHERE c.major AND c.decided_on >= $3 AND c.decided_on < $4 AND EXISTS (
          SELECT 1 FROM case_reviews r WHERE r."case" = c.id AND r.outcome = 'approved')) AS reviewed,
        count(*) FILTER (WHERE c.closed_at >= $1 AND c.closed_at < $2 AND c.status = 'closed'
          AND i.kind = 'penalty' AND c.amount_involved >= i.criminal_amount_at_least) AS missed
      FROM cases c JOIN enforcement_items i ON i.id = c.item
      WHERE (c.decided_on >= $3 AND c.decided_on < $4) OR (c.closed_at >= $1 AND c.closed_at < $2)
      GROUP BY c.unit),
s AS (SELECT unit_id AS unit, count(*) FILTER (WHERE status IN ('passed', 'failed', 'overdue')) AS closed,
        count(*) FILTER (WHERE status = 'passed') AS passed
      FROM spot_checks WHERE requested_at >= $1 AND requested_at < $2 GROUP BY unit_id),
d AS (SELECT unit_id AS unit, count(*) AS due,
        count(*) FILTER (WHERE responded_at IS NOT NULL AND overdue_at IS NULL) AS on_time
      FROM supervision_documents WHERE due_on >= $3 AND due_on < $4 AND issued_at IS NOT NULL AND due_on < $5
      GROUP BY unit_id),
e AS (SELECT m.unit, count(*) AS taken, count(*) FILTER (WHERE s.score >= COALESCE(t.pass_mark, $6)) AS passed
      FROM training_scores s JOIN trainings t ON t.id = s.training_id
      JOIN memberships m ON m."user" = s.officer_id
      WHERE t.held_on >= $3 AND t.held_on < $4 AND NOT t.cancelled GROUP BY m.unit),
o AS (SELECT m.unit, count(*) AS officers,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM certificates x WHERE x."user" = u.id
          AND x.status = 'valid' AND x.expires_on >= $5)) AS certified,
        count(*) FILTER (WHERE (SELECT COALESCE(sum(t.hours), 0) FROM training_attendance y
          JOIN trainings t ON t.id = y.training_id WHERE y.officer_id = u.id AND y.status = 'present'
          AND NOT t.cancelled AND t.held_on >= $3 AND t.held_on < $4) >= $7) AS trained
      FROM users u JOIN memberships m ON m."user" = u.id
      WHERE u.active AND u.roles LIKE '% officer %' GROUP BY m.unit),
r AS (SELECT unit_id AS unit, count(*) AS refused FROM alerts
      WHERE created_at >= $1 AND created_at < $2 AND type = 'action.refused'
        AND data ->> 'code' = 'certificate.invalid' GROUP BY unit_id)
SELECT x.id AS unit,
  COALESCE(a.req, 0) AS recording_required, COALESCE(a.rec, 0) AS recorded,
  COALESCE(c.major, 0) AS major_decided, COALESCE(c.reviewed, 0) AS major_reviewed,
  COALESCE(c.missed, 0) AS missed_transfer,
  COALESCE(s.closed, 0) AS spot_closed, COALESCE(s.passed, 0) AS spot_passed,
  COALESCE(d.due, 0) AS documents_due, COALESCE(d.on_time, 0) AS documents_on_time,
  COALESCE(e.taken, 0) AS exams_taken, COALESCE(e.passed, 0) AS exams_passed,
  COALESCE(o.officers, 0) AS officers, COALESCE(o.certified, 0) AS certified,
  COALESCE(o.trained, 0) AS trained,
  COALESCE(r.refused, 0) AS uncertified
FROM units x LEFT JOIN a ON a.unit = x.id LEFT JOIN c ON c.unit = x.id LEFT JOIN s ON s.unit = x.id
LEFT JOIN d ON d.unit = x.id LEFT JOIN e ON e.unit = x.id LEFT JOIN o ON o.unit = x.id
LEFT JOIN r ON r.unit = x.id
WHERE x.kind IN ('township', 'department')
"""
# baseline column → (indicator, numerator | denominator) in the app's table
COMPARED = {
    "recorded": ("recording_rate", "numerator"),
    "recording_required": ("recording_rate", "denominator"),
    "major_reviewed": ("legal_review_rate", "numerator"),
    "major_decided": ("legal_review_rate", "denominator"),
    "missed_transfer": ("missed_transfers", "numerator"),
    "spot_passed": ("spot_check_rate", "numerator"),
    "spot_closed": ("spot_check_rate", "denominator"),
    "documents_on_time": ("document_rate", "numerator"),
    "documents_due": ("document_rate", "denominator"),
    "exams_passed": ("exam_pass_rate", "numerator"),
    "exams_taken": ("exam_pass_rate", "denominator"),
    "certified": ("certified_rate", "numerator"),
    "trained": ("training_rate", "numerator"),
    "officers": ("certified_rate", "denominator"),
    "uncertified": ("uncertified_attempts", "numerator"),
}


async def seed_more(conn, args: argparse.Namespace) -> None:
    """What the assessment counts besides actions, on the demo's units and officers."""
    rng = random.Random(args.seed)
    log("recordings on a third of the actions")
    await conn.execute(
        "UPDATE actions SET recording_required = true, "
        "recording_at = CASE WHEN random() < 0.9 THEN occurred_at + interval '10 minutes' END "
        "WHERE random() < 0.33"
    )
    units = [
        r["id"] for r in await conn.fetch("SELECT id FROM units WHERE kind IN ('township', 'department')")
    ]
    items = [r["id"] for r in await conn.fetch("SELECT id FROM enforcement_items WHERE kind = 'penalty'")]
    await conn.execute(
        "UPDATE enforcement_items SET criminal_amount_at_least = 50000 WHERE id = $1", items[0]
    )
    officers = [r["id"] for r in await conn.fetch("SELECT id FROM users WHERE roles LIKE '% officer %'")]
    creator = officers[0]
    now = dt.datetime.now(dt.UTC)
    log(f"{args.cases} cases, their reviews, spot-checks, documents, exams and refusals")
    cases, reviews = [], []
    for n in range(args.cases):
        created = now - dt.timedelta(days=rng.uniform(0, 3 * 365))
        decided = created + dt.timedelta(days=rng.uniform(5, 60))
        closed = decided + dt.timedelta(days=rng.uniform(5, 60))
        case_id = uuid.uuid4()
        cases.append(
            (
                case_id,
                f"AS-{n:07d}",
                rng.choice(units),
                rng.choice(items),
                "closed",
                round(rng.uniform(100, 80_000), 2),
                closed,
                creator,
                created,
                "",
                decided.date(),
                rng.random() < 0.2,
            )
        )
        if rng.random() < 0.2:
            reviews.append(
                (uuid.uuid4(), case_id, creator, rng.choice(["approved", "rejected"]), "", 1, decided)
            )
    await conn.copy_records_to_table(
        "cases",
        records=cases,
        columns=[
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
            "decided_on",
            "major",
        ],
    )
    await conn.copy_records_to_table(
        "case_reviews",
        records=reviews,
        columns=["id", "case", "reviewer", "outcome", "opinion", "case_version", "created_at"],
    )
    checks = []
    for _ in range(args.cases // 2):
        at = now - dt.timedelta(days=rng.uniform(0, 3 * 365))
        checks.append(
            (
                uuid.uuid4(),
                rng.choice(officers),
                rng.choice(units),
                creator,
                at,
                at + dt.timedelta(minutes=10),
                rng.choice(["passed", "failed", "overdue", "passed"]),
            )
        )
    await conn.copy_records_to_table(
        "spot_checks",
        records=checks,
        columns=["id", "officer_id", "unit_id", "requested_by", "requested_at", "due_at", "status"],
    )
    docs = []
    for _ in range(args.cases // 20):
        issued = now - dt.timedelta(days=rng.uniform(0, 3 * 365))
        due = (issued + dt.timedelta(days=15)).date()
        responded = issued + dt.timedelta(days=rng.uniform(1, 25)) if rng.random() < 0.9 else None
        overdue = None if responded and responded.date() <= due else issued + dt.timedelta(days=16)
        docs.append(
            (
                uuid.uuid4(),
                "proposal",
                rng.choice(units),
                "监督建议",
                "",
                "",
                "",
                creator,
                "issued",
                issued,
                due,
                responded,
                overdue,
            )
        )
    await conn.copy_records_to_table(
        "supervision_documents",
        records=docs,
        columns=[
            "id",
            "type",
            "unit_id",
            "title",
            "facts",
            "basis",
            "requirement",
            "drafted_by",
            "status",
            "issued_at",
            "due_on",
            "responded_at",
            "overdue_at",
        ],
    )
    trainings, scores, attendance = [], [], []
    for year in range(now.year - 2, now.year + 1):
        for n in range(4):
            training_id = uuid.uuid4()
            held = dt.date(year, 3 * n + 1, 15)
            trainings.append(
                (training_id, f"培训{year}-{n}", "offline", units[0], held, year, 3.0, creator, True, None)
            )
            for officer in officers:
                scores.append((uuid.uuid4(), training_id, officer, float(rng.choice([50, 70, 90])), creator))
                attendance.append(
                    (
                        uuid.uuid4(),
                        training_id,
                        officer,
                        rng.choice(["present", "present", "absent"]),
                        creator,
                    )
                )
    await conn.copy_records_to_table(
        "trainings",
        records=trainings,
        columns=[
            "id",
            "title",
            "format",
            "organiser_unit_id",
            "held_on",
            "year",
            "hours",
            "created_by",
            "has_exam",
            "pass_mark",
        ],
    )
    await conn.copy_records_to_table(
        "training_scores", records=scores, columns=["id", "training_id", "officer_id", "score", "recorded_by"]
    )
    await conn.copy_records_to_table(
        "training_attendance",
        records=attendance,
        columns=["id", "training_id", "officer_id", "status", "recorded_by"],
    )
    refusals = [
        (
            uuid.uuid4(),
            "action.refused",
            "high",
            rng.choice(units),
            "refused",
            json.dumps({"code": rng.choice(["certificate.invalid", "action.two_officers"])}),
            now - dt.timedelta(days=rng.uniform(0, 3 * 365)),
        )
        for _ in range(args.cases // 10)
    ]
    await conn.copy_records_to_table(
        "alerts",
        records=refusals,
        columns=["id", "type", "severity", "unit_id", "message", "data", "created_at"],
    )
    await conn.execute("ANALYZE")


async def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    import asyncpg

    from backend.db import bind, engine_from_url
    from backend.lib.auth import CurrentUser
    from backend.reports import services
    from backend.reports.periods import Period

    engine = engine_from_url(url)
    bind(engine)
    await engine.start_connection_pool()
    conn = await asyncpg.connect(url)
    try:
        viewer = CurrentUser(
            id=uuid.uuid4(),
            username="supervisor",
            display_name="supervisor",
            roles=frozenset({"supervisor"}),
            unit_ids=frozenset(),
            session_id=uuid.uuid4(),
        )
        year = dt.date.today().year - 1
        period = Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        ctx = await services.context(period)
        previous = period.previous()
        previous_ctx = await services.context(previous)

        async def baseline() -> list[list[dict]]:
            out = []
            for p, c in ((period, ctx), (previous, previous_ctx)):
                out.append(
                    await conn.fetch(
                        BASELINE, p.start_at, p.end_at, p.start, p.end, c.today, c.pass_mark, c.min_hours
                    )
                )
            return out

        # Same numbers first.
        table_ = await services.assessment(viewer, period)
        raw = (await baseline())[0]
        by_unit = {u.unit_id: u for u in table_.units}
        checked = 0
        for row in raw:
            unit = by_unit[row["unit"]]
            for column, (indicator, part) in COMPARED.items():
                got = getattr(unit.values[indicator], part)
                if got != row[column]:
                    raise SystemExit(f"{column} of {row['unit']}: app {got}, hand-written SQL {row[column]}")
                checked += 1
        log(
            f"{checked} counts agree ({len(raw)} units); e.g. recordings required: "
            f"{sum(r['recording_required'] for r in raw)}"
        )
        app_ms, raw_ms = [], []
        for _ in range(2):  # warm-up
            await services.assessment(viewer, period)
            await baseline()
        for _ in range(args.rounds):
            start = time.perf_counter()
            await services.assessment(viewer, period)
            app_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await baseline()
            raw_ms.append((time.perf_counter() - start) * 1000)
        app, base = statistics.median(app_ms), statistics.median(raw_ms)
        log(f"app {[round(x) for x in app_ms]} ms; baseline {[round(x) for x in raw_ms]} ms")
        return {"app ms": round(app, 1), "baseline ms": round(base, 1), "ratio": round(app / base, 2)}
    finally:
        await conn.close()
        await engine.close_connection_pool()


async def run(args: argparse.Namespace) -> dict[str, float]:
    import asyncpg

    async with temp_pg_database(args.pg_url, prefix="fw_assess") as url:
        with temp_data_dir() as data_dir:
            log("migrations + demo data")
            cli(base_env(data_dir, url), "demo", "--password", DEMO_PASSWORD)
        sys.path.insert(0, str(ROOT / "scripts"))
        from gen_actions import generate

        await generate(url, args.actions, args.seed, 4.0, 50_000, log=log)
        conn = await asyncpg.connect(url)
        try:
            await seed_more(conn, args)
            count = await conn.fetchval("SELECT count(*) FROM actions")
        finally:
            await conn.close()
        log(f"measuring: {count} actions")
        return {"actions": count, **await measure(url, args)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    reason = asyncio.run(pg_reachable(args.pg_url))
    if reason:
        print(f"PostgreSQL unreachable ({reason})", file=sys.stderr)
        return 2
    with scratch_settings():
        out = asyncio.run(run(args))
    ok = out["ratio"] <= GOAL
    print(
        table(
            ["actions", "app (median ms)", "hand-written SQL (median ms)", "ratio", f"≤ {GOAL}×"],
            [[out["actions"], out["app ms"], out["baseline ms"], out["ratio"], "yes" if ok else "NO"]],
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
