"""Statutory clocks (case_clocks) and the hearing record on cases."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case clocks and hearing"


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

    manager.add_raw(run)
    return manager
