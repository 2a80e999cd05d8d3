"""Unique keys the services rely on: one report per unit, kind, period and version (two drafts made
at once cannot both land), and one score sheet per file of a draw."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reports: unique versions and score sheets"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)

    async def run() -> None:
        from backend.reports.tables import Report

        await Report.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS unit_reports_version ON unit_reports "
            "(unit_id, kind, period_from, period_to, version)"
        ).run()
        await Report.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS file_review_scores_case ON file_review_scores (draw_id, case_id)"
        ).run()

    manager.add_raw(run)
    return manager
