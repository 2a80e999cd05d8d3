"""Items: their own full-recording rule (全过程记录); null follows the setting by kind."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T01:26:06:059215"
VERSION = "1.38.0"
DESCRIPTION = "enforcement items: full_recording"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="org", description=DESCRIPTION)

    async def run() -> None:
        from backend.org.tables import Item

        await Item.raw("ALTER TABLE enforcement_items ADD COLUMN full_recording BOOLEAN DEFAULT null").run()

    manager.add_raw(run)
    return manager
