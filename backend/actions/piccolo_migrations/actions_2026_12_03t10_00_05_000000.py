"""全过程记录: whether an action needs an audio or video file, when one arrived, when it was alerted."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:00:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "actions recording rule"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)

    async def run() -> None:
        from backend.actions.tables import Action

        await Action.raw("ALTER TABLE actions ADD COLUMN recording_required BOOLEAN NOT NULL DEFAULT false").run()
        await Action.raw("ALTER TABLE actions ADD COLUMN recording_at TIMESTAMPTZ DEFAULT null").run()
        await Action.raw("ALTER TABLE actions ADD COLUMN recording_alerted_at TIMESTAMPTZ DEFAULT null").run()
        await Action.raw(
            "CREATE INDEX IF NOT EXISTS actions_recording_open ON actions (recording_required, recording_at)"
        ).run()

    manager.add_raw(run)
    return manager
