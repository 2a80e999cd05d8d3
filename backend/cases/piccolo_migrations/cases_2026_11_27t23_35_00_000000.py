"""Index for the newest-first case list per unit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T23:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case list index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run() -> None:
        from backend.cases.tables import Case

        await Case.raw("CREATE INDEX IF NOT EXISTS cases_unit_created_at_id ON cases (unit, created_at DESC, id DESC)").run()

    manager.add_raw(run)
    return manager
