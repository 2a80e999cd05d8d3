"""An index for the 两法衔接 check (channels): closed cases of an item at or above its criminal threshold."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "criminal check index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run() -> None:
        from backend.cases.tables import Case

        await Case.raw(
            "CREATE INDEX IF NOT EXISTS cases_criminal_check ON cases (item, status, amount_involved)"
        ).run()

    manager.add_raw(run)
    return manager
