"""An index for feed filters on the time of the act (occurred_from/occurred_to) across units."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T00:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "occurred_at index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)

    async def run() -> None:
        from backend.actions.tables import Action

        await Action.raw("CREATE INDEX IF NOT EXISTS actions_occurred_at ON actions (occurred_at)").run()

    manager.add_raw(run)
    return manager
