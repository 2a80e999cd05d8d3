"""Evidence stored before server-side renditions: videos and PDFs become pending, so the rendition
job renders old evidence too; photos that have their thumbnail are done, the rest stay none."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T18:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rendition state of existing evidence"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    async def run() -> None:
        from backend.evidence.tables import Evidence

        await Evidence.raw(
            "UPDATE evidence SET rendition_state = 'pending' WHERE content_type IN "
            "('video/mp4', 'video/quicktime', 'video/webm', 'application/pdf')"
        ).run()
        await Evidence.raw(
            "UPDATE evidence SET rendition_state = 'done' WHERE content_type LIKE 'image/%' "
            "AND CAST(renditions AS TEXT) LIKE '%\"thumbnail\"%'"
        ).run()

    manager.add_raw(run)
    return manager
