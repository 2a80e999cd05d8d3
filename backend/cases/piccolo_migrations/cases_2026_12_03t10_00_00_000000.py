"""Statutory clocks (case_clocks) and the hearing record on cases. Cases filed before get their
running clocks: an open case its decision period from its filing date, a decided one not yet served
its delivery period from the decision (counted with the calendar library; a year an admin loaded
later does not move them)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case clocks and hearing"


async def backfill(case_table, clock_table) -> None:
    import uuid
    from datetime import datetime

    from backend.db import json_value
    from backend.lib.clock import BEIJING
    from backend.workdays.services import WorkCalendar

    cal = WorkCalendar()
    rows = await case_table.select(
        case_table.id, case_table.unit, case_table.status, case_table.created_at, case_table.decision
    ).where(case_table.status.is_in(["filed", "investigating", "review", "decided"]))
    have = {(r["case"], r["kind"]) for r in await clock_table.select(clock_table.case, clock_table.kind)}
    clocks = []
    for row in rows:
        if row["status"] == "decided":
            decided_at = (json_value(row["decision"]) or {}).get("decided_at")
            if not decided_at:
                continue
            kind, days, working = "delivery", 7, True
            started = datetime.fromisoformat(decided_at).astimezone(BEIJING).date()
        else:
            kind, days, working = "decision", 90, False
            started = row["created_at"].astimezone(BEIJING).date()
        if (row["id"], kind) in have:
            continue
        due, provisional = cal.deadline(started, days, working)
        clocks.append(
            clock_table(
                id=uuid.uuid4(),
                case=row["id"],
                unit=row["unit"],
                kind=kind,
                started_on=started,
                days=days,
                working=working,
                provisional=provisional,
                due_on=due,
                status="running",
            )
        )
    for start in range(0, len(clocks), 500):
        await clock_table.insert(*clocks[start : start + 500]).run()


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run() -> None:
        from backend.cases.tables import Case, CaseClock

        await Case.raw("ALTER TABLE cases ADD COLUMN hearing JSON DEFAULT null").run()
        await CaseClock.create_table(if_not_exists=True).run()
        await CaseClock.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS case_clocks_case_kind ON case_clocks (\"case\", kind)"
        ).run()
        await CaseClock.raw(
            "CREATE INDEX IF NOT EXISTS case_clocks_unit_status_due ON case_clocks (unit, status, due_on)"
        ).run()
        await backfill(Case, CaseClock)

    manager.add_raw(run)
    return manager
