"""On PostgreSQL an entry is written unlinked (no seq, no hashes) and linked by the chainer after it
commits. SQLite links every entry in its own transaction, so its columns keep NOT NULL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit entries linked after commit on PostgreSQL"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run() -> None:
        from backend.audit.tables import AuditEntry
        from backend.db import is_postgres

        if not is_postgres(AuditEntry._meta.db):
            return
        for column in ("seq", "prev_hash", "hash"):
            await AuditEntry.raw(f"ALTER TABLE audit_log ALTER COLUMN {column} DROP NOT NULL").run()  # noqa: S608
        await AuditEntry.raw(
            "CREATE INDEX IF NOT EXISTS audit_log_unlinked ON audit_log (at, id) WHERE seq IS NULL"
        ).run()

    manager.add_raw(run)
    return manager
