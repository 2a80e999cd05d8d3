"""Units: the pilot period (a pilot unit reports monthly within it) and whether the unit is active."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "units: pilot period, active"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="org", description=DESCRIPTION)

    async def run() -> None:
        from backend.org.tables import Unit

        await Unit.raw("ALTER TABLE units ADD COLUMN pilot_from DATE DEFAULT null").run()
        await Unit.raw("ALTER TABLE units ADD COLUMN pilot_to DATE DEFAULT null").run()
        await Unit.raw("ALTER TABLE units ADD COLUMN active BOOLEAN NOT NULL DEFAULT true").run()

    manager.add_raw(run)
    return manager
