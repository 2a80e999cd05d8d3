"""The decision's date and whether the case was major when decided, as columns (the assessment
counts major decisions per period). Decided cases get both from their decision record."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T21:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cases: decided_on and major"


async def backfill(case_table, item_table) -> None:
    from datetime import datetime

    from backend.cases.services import is_major
    from backend.db import json_value
    from backend.lib.clock import BEIJING

    items = {
        r["id"]: r
        for r in await item_table.select(
            item_table.id, item_table.major_fine_at_least, item_table.major_measures
        )
    }
    rows = await case_table.select(case_table.id, case_table.item, case_table.decision).where(
        case_table.decision.is_not_null()
    )
    for row in rows:
        decision = json_value(row["decision"]) or {}
        decided_at = decision.get("decided_at")
        if not decided_at or row["item"] not in items:
            continue
        on = datetime.fromisoformat(decided_at).astimezone(BEIJING).date()
        major = is_major(items[row["item"]], decision.get("fine"), decision.get("measures") or [])
        await case_table.update({case_table.decided_on: on, case_table.major: major}).where(
            case_table.id == row["id"]
        )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run() -> None:
        from backend.cases.tables import Case
        from backend.org.tables import Item

        await Case.raw("ALTER TABLE cases ADD COLUMN decided_on DATE DEFAULT null").run()
        await Case.raw("ALTER TABLE cases ADD COLUMN major BOOLEAN DEFAULT false").run()
        await Case.raw("CREATE INDEX IF NOT EXISTS cases_unit_decided_on ON cases (unit, decided_on)").run()
        await backfill(Case, Item)

    manager.add_raw(run)
    return manager
