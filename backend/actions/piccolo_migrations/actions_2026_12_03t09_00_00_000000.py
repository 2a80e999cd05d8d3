"""An action may be recorded without a GPS fix (未定位): its lat, lon and accuracy become nullable.

PostgreSQL drops the NOT NULL constraints. SQLite cannot alter a column, and rebuilding `actions`
would have to drop and recreate every table that references it; removing a NOT NULL constraint
does not change how rows are stored, so the table's declaration in sqlite_schema is rewritten in
place (the procedure SQLite documents for this kind of change) and the schema version bumped so
that every open connection reads it again."""

import re

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "actions without a GPS fix"

COLUMNS = ("lat", "lon", "accuracy_m")


def nullable_sql(create: str) -> str:
    """The CREATE TABLE text with the location columns nullable; refuses an unexpected text."""
    out = create
    for name in COLUMNS:
        pattern = rf'"{name}" DOUBLE PRECISION NOT NULL DEFAULT 0\.0'
        out, n = re.subn(pattern, f'"{name}" DOUBLE PRECISION DEFAULT null', out)
        if n != 1 and f'"{name}" DOUBLE PRECISION DEFAULT null' not in out:
            raise RuntimeError(f"actions.{name}: unexpected declaration, migration not applied")
    return out


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)

    async def run() -> None:
        from backend.actions.tables import Action

        if Action._meta.db.engine_type == "postgres":
            for name in COLUMNS:
                await Action.raw(f"ALTER TABLE actions ALTER COLUMN {name} DROP NOT NULL").run()
                await Action.raw(f"ALTER TABLE actions ALTER COLUMN {name} DROP DEFAULT").run()
            return
        rows = await Action.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'actions'").run()
        create = rows[0]["sql"]
        changed = nullable_sql(create)
        if changed == create:
            return
        version = (await Action.raw("PRAGMA schema_version").run())[0]["schema_version"]
        await Action.raw("PRAGMA writable_schema = ON").run()
        await Action.raw(
            "UPDATE sqlite_master SET sql = {} WHERE type = 'table' AND name = 'actions'", changed
        ).run()
        await Action.raw(f"PRAGMA schema_version = {int(version) + 1}").run()
        await Action.raw("PRAGMA writable_schema = OFF").run()
        check = await Action.raw("PRAGMA integrity_check").run()
        if check[0].get("integrity_check") != "ok":
            raise RuntimeError(f"actions: integrity check failed after the change: {check}")

    manager.add_raw(run)
    return manager
