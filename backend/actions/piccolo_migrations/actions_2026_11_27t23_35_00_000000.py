"""Indexes for the newest-first feeds and their filters (measured in benchmarks/feed_p95.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T23:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "feed indexes"

# Valid on both SQLite and PostgreSQL.
STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS actions_created_at_id ON actions (created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS actions_unit_created_at_id ON actions (unit, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS actions_item_created_at_id ON actions (item, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS actions_unit_item_created_at_id ON actions (unit, item, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS actions_unit_occurred_at ON actions (unit, occurred_at)",
    "CREATE INDEX IF NOT EXISTS action_officers_officer_action ON action_officers (officer, action)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)

    async def run() -> None:
        from backend.actions.tables import Action

        for statement in STATEMENTS:
            await Action.raw(statement).run()

    manager.add_raw(run)
    return manager
