"""Unique keys the services rely on: one leading group per unit (two made at once cannot both land)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "meetings: one leading group per unit"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)

    async def run() -> None:
        from backend.meetings.tables import LeadingGroup

        await LeadingGroup.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS leading_groups_unit ON leading_groups (unit_id)"
        ).run()

    manager.add_raw(run)
    return manager
