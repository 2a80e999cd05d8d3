"""执法公示: the publications table and the indexes of the public list (newest first, per unit, per item)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "publications"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS publications_public ON publications (status, published_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS publications_unit ON publications (unit, status, published_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS publications_item ON publications (item, status, published_at DESC, id DESC)",
    # Covering: a span of decision dates is sorted by publication time from the index alone.
    "CREATE INDEX IF NOT EXISTS publications_decided ON publications (status, decided_on, published_at, id)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="publication", description=DESCRIPTION)

    async def run() -> None:
        from backend.publication.tables import Publication

        await Publication.create_table(if_not_exists=True).run()
        for sql in INDEXES:
            await Publication.raw(sql).run()

    manager.add_raw(run)
    return manager
